"""CLI failures as a user meets them: one line, the fix, exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs the CLI with some modules hidden, as if their extra were not installed.
_HIDING = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None\n"
    "sys.argv = ['movie-rag', *sys.argv[2:]]\n"
    "from movie_rag.cli import main\n"
    "main()\n"
)

# (command line, hidden modules, extra named in the hint)
CASES = [
    (["build", "--sample"], "pyspark", "local"),
    (["build", "--sample"], "sentence_transformers", "local"),
    (["demo"], "pyspark", "local"),
    (["search", "space opera"], "sentence_transformers", "local"),
    (["search", "space opera"], "torch", "local"),
    (["recommend", "something like Heat"], "sentence_transformers", "local"),
    (["publish"], "mlflow", "local"),
    (["serve"], "mlflow", "local"),
    (["evaluate", "--reduced"], "matplotlib", "local"),
    (["evaluate", "--reduced"], "pyspark", "local"),
    (["ui"], "gradio", "ui"),
    (["publish", "--registry", "databricks-uc"], "databricks.sdk,databricks", "databricks"),
]


def _run(hidden: str, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-c", _HIDING, hidden, *args, "--workdir", str(cwd / "w")],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(("args", "hidden", "extra"), CASES, ids=lambda v: str(v))
def test_a_missing_extra_is_one_line_naming_the_install_command(
    args: list[str], hidden: str, extra: str, tmp_path: Path
) -> None:
    result = _run(hidden, args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: {hidden.split(',')[0].split('.')[0]} is not installed: "
        f'pip install "movie-rag[{extra}]"'
    ]


def test_an_llm_provider_without_its_client_names_the_llm_extra(tmp_path: Path) -> None:
    result = _run(
        "langchain_openai",
        ["recommend", "a heist movie"],
        tmp_path,
        MOVIE_RAG_LLM_PROVIDER="openai",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        'error: langchain_openai is not installed: pip install "movie-rag[llm]"'
    )


def test_a_reversed_year_range_is_one_line_before_any_work(tmp_path: Path) -> None:
    result = _run("", ["search", "x", "--year-from", "2020", "--year-to", "1990"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --year-from 2020 is after --year-to 1990; swap them"


def test_a_genome_folder_without_genome_files_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "genome"
    empty.mkdir()
    result = _run("", ["build", "--sample", "--genome", str(empty), "--json"], tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"error: {empty}: no genome files here (expected genome-scores.csv and genome-tags.csv)"
    )


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    # A file where the index directory should be: the index cannot be read.
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "index").write_text("not a directory")
    quiet = _run("", ["search", "space opera"], tmp_path)
    assert quiet.returncode in (1, 2)
    assert "Traceback" not in quiet.stderr
    assert len([line for line in quiet.stderr.splitlines() if line.strip()]) == 1
    loud = _run("", ["search", "space opera", "--debug"], tmp_path)
    assert loud.returncode != 0
    if quiet.returncode == 1:
        assert "Traceback" in loud.stderr
