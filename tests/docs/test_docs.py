"""The documentation runs: every ```python block, every documented table, the site build.

Each page's python blocks run in order in one fresh namespace, with the working directory a
fresh tmp directory and no ``MOVIE_RAG_*`` variables from the caller's environment. A block is
skipped only when the line before its fence is ``<!-- no-test -->``, which is reserved for
code that needs a Databricks runtime. Tracebacks point at the line of the markdown file.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
NO_TEST = "<!-- no-test -->"

# Code that starts (or needs) a Spark session; such pages are marked spark and slow.
_STARTS_SPARK = re.compile(r"\b(build_catalogue|get_spark|TableStore)\b|\.assemble\(|\.build\(")
# What a skipped block must use to justify the skip: something only a Databricks runtime has.
_DATABRICKS_ONLY = re.compile(r"\bdbutils\b|\bdisplay\(|/Volumes/|\bspark=spark\b")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block of a markdown page."""

    page: Path
    line: int  # 1-based line of the first code line
    language: str
    code: str
    skipped: bool


def extract_blocks(page: Path, text: str | None = None) -> list[CodeBlock]:
    """All fenced code blocks of a page, in order, with their language and no-test flag."""
    lines = (page.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        language = opening.group("info").lower()
        previous = next((line.strip() for line in reversed(lines[:i]) if line.strip()), "")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence))
            and not lines[j].strip().strip(fence[0])
        ):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{page}:{i + 1}: code fence is never closed")
        blocks.append(CodeBlock(page, i + 2, language, "\n".join(body) + "\n", previous == NO_TEST))
        i = j + 1
    return blocks


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _python_blocks(page: Path) -> list[CodeBlock]:
    return [b for b in extract_blocks(page) if b.language in ("python", "py")]


def _page_params() -> list[object]:
    params = []
    for page in _pages():
        runnable = [b for b in _python_blocks(page) if not b.skipped]
        if not runnable:
            continue
        code = "".join(b.code for b in runnable)
        marks = [pytest.mark.spark, pytest.mark.slow] if _STARTS_SPARK.search(code) else []
        params.append(pytest.param(page, marks=marks, id=page.relative_to(DOCS).as_posix()))
    return params


def _seed_movielens_cache(shared_data: Path, data_home: Path) -> None:
    """A verified ml-latest-small in the download cache, so fetch_movielens needs no network.

    fetch_movielens checks a cached release against the known sha256 of every file, so this
    exercises its real cache path with the genuine files.
    """
    target = data_home / "ml-latest-small"
    target.mkdir(parents=True)
    for name in ("README.txt", "links.csv", "movies.csv", "ratings.csv", "tags.csv"):
        shutil.copyfile(shared_data / "ml-latest-small" / name, target / name)


@pytest.mark.parametrize("page", _page_params())
def test_page_examples_run(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    blocks = [b for b in _python_blocks(page) if not b.skipped]
    code = "".join(b.code for b in blocks)
    if _STARTS_SPARK.search(code):
        request.getfixturevalue("spark")  # share the session's Spark; get_spark reuses it
    for name in [n for n in os.environ if n.startswith("MOVIE_RAG_")]:
        monkeypatch.delenv(name)
    if "fetch_movielens" in code:
        data_home = tmp_path / "data_home"
        _seed_movielens_cache(request.getfixturevalue("shared_data"), data_home)
        monkeypatch.setenv("MOVIE_RAG_DATA_HOME", str(data_home))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    saved_environ = dict(os.environ)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    try:
        for block in blocks:
            # Pad so that line numbers in tracebacks are the markdown file's own.
            source = "\n" * (block.line - 1) + block.code
            exec(compile(source, str(page), "exec"), namespace)
    finally:
        # Examples may set MOVIE_RAG_* variables to show the environment layer.
        os.environ.clear()
        os.environ.update(saved_environ)


def test_extractor_reads_fences_languages_and_no_test_markers(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "# Page",
            "```python",
            "x = 1",
            "```",
            "",
            NO_TEST,
            "",
            "```python",
            "dbutils.widgets.get('x')",
            "```",
            "````markdown",
            "```python",
            "not_code = True",
            "```",
            "````",
            "!!! note",
            "    ```python",
            "    y = 2",
            "    ```",
        ]
    )
    blocks = extract_blocks(tmp_path / "page.md", text)
    assert [(b.language, b.line, b.skipped) for b in blocks] == [
        ("python", 3, False),
        ("python", 9, True),
        ("markdown", 12, False),
        ("python", 18, False),
    ]
    assert blocks[0].code == "x = 1\n"
    assert blocks[3].code == "y = 2\n"


def test_guide_pages_have_runnable_examples() -> None:
    for name in ("index.md", "getting-started.md", "architecture.md", "data.md"):
        runnable = [b for b in _python_blocks(DOCS / name) if not b.skipped]
        assert runnable, f"docs/{name} has no tested python example"


def test_skipped_blocks_are_databricks_only() -> None:
    for page in _pages():
        for block in extract_blocks(page):
            if block.skipped:
                assert block.language == "python", f"{page}:{block.line}: {NO_TEST} on non-python"
                assert _DATABRICKS_ONLY.search(block.code), (
                    f"{page}:{block.line}: {NO_TEST} is only for code that needs Databricks "
                    "(dbutils, display, /Volumes paths, the runtime's spark)"
                )


# -- tables in the docs that restate the code ---------------------------------------------


def _table_rows(page: Path, header_start: str) -> list[list[str]]:
    """Cells of the markdown table whose header row starts with ``header_start``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _unquote(cell: str) -> str:
    return cell.strip("`")


def test_movies_info_contract_table_matches_the_schema() -> None:
    from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA

    rows = _table_rows(DOCS / "architecture.md", "| column | type | meaning |")
    assert [_unquote(row[0]) for row in rows] == MOVIES_INFO_SCHEMA.names


def test_precedence_table_matches_the_defaults() -> None:
    from movie_rag.ingest.movie_info import SourcePrecedence

    rows = _table_rows(DOCS / "architecture.md", "| field | `SourcePrecedence` attribute |")
    documented = {_unquote(row[1]): [s.strip() for s in row[2].split(",")] for row in rows}
    assert documented == SourcePrecedence().model_dump()


def test_settings_table_matches_the_settings() -> None:
    from movie_rag.settings import MovieRagSettings

    rows = _table_rows(DOCS / "api" / "settings.md", "| setting | environment variable |")
    documented = {_unquote(row[0]): (_unquote(row[1]), _unquote(row[2])) for row in rows}
    expected = {
        name: (f"MOVIE_RAG_{name.upper()}", str(field.default))
        for name, field in MovieRagSettings.model_fields.items()
    }
    assert documented == expected, "run scripts/settings_table.py to refresh the table"


def test_every_imdb_format_is_documented() -> None:
    from movie_rag.ingest.imdb import IMDBFormat

    text = (DOCS / "data.md").read_text(encoding="utf-8")
    for fmt in get_args(IMDBFormat):
        if fmt != "auto":
            assert f"### `{fmt}`" in text, f"docs/data.md has no section for format {fmt!r}"


# -- command lines in the docs ------------------------------------------------------------


def _documented_command_lines() -> list[tuple[Path, int, list[str]]]:
    found = []
    for page in _pages():
        for block in extract_blocks(page):
            if block.language not in ("bash", "console", "sh", "shell"):
                continue
            joined = block.code.replace("\\\n", " ")
            for offset, line in enumerate(joined.splitlines()):
                # A console block shows commands after "$" and their output (free text,
                # "Django's") on the other lines.
                if block.language == "console" and not line.startswith("$"):
                    continue
                words = shlex.split(line, comments=True)
                if words[:1] == ["$"]:
                    words = words[1:]
                if words[:1] == ["movie-rag"]:
                    args = words[1:]
                    if "|" in args:
                        args = args[: args.index("|")]
                    found.append((page, block.line + offset, args))
    return found


def test_documented_command_lines_parse() -> None:
    """Every ``movie-rag ...`` line in the docs names real commands and options."""
    import typer.main

    from movie_rag.cli import app

    root = typer.main.get_command(app)
    lines = _documented_command_lines()
    assert lines, "the docs show no movie-rag command line"
    for page, line, args in lines:
        where = f"{page.relative_to(REPO_ROOT)}:{line}: movie-rag {' '.join(args)}"
        assert args, f"{where}: no command"
        try:
            # make_context parses and validates every option without running the command.
            parent = root.make_context("movie-rag", [args[0]])
            command = root.get_command(parent, args[0])
            assert command is not None, f"{where}: no command {args[0]!r}"
            command.make_context(args[0], args[1:], parent=parent)
        except Exception as exc:
            if not hasattr(exc, "format_message"):  # not a usage error of the CLI
                raise
            pytest.fail(f"{where}: {exc.format_message()}")


# -- the site -----------------------------------------------------------------------------


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index.html", "architecture/index.html", "api/ingest/index.html"):
        assert (tmp_path / page).is_file()
    architecture = (tmp_path / "architecture" / "index.html").read_text(encoding="utf-8")
    assert 'class="mermaid"' in architecture
    ingest = (tmp_path / "api" / "ingest" / "index.html").read_text(encoding="utf-8")
    assert "MovieInfoBuilder" in ingest
