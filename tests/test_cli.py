"""The movie-rag command line, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "movie_rag.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_missing_movielens_directory_is_a_clear_json_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = _cli("build", "--movielens", str(missing), "--workdir", str(tmp_path), "--json")
    assert result.returncode == 2
    error = json.loads(result.stdout)  # stdout carries only JSON
    assert error["type"] == "InputFileError"
    assert str(missing) in error["error"] and "MovieLens" in error["error"]
    assert "Traceback" not in result.stderr


def test_build_needs_an_input(tmp_path: Path) -> None:
    result = _cli("build", "--workdir", str(tmp_path))
    assert result.returncode == 2
    assert "--movielens" in result.stderr


@pytest.mark.spark
@pytest.mark.slow
def test_build_sample_as_json(tmp_path: Path) -> None:
    result = _cli("build", "--sample", "--workdir", str(tmp_path / "w"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] >= 90
    assert report["table"] == str(tmp_path / "w" / "tables" / "movies_info")
    assert all(i["rows_in"] == i["rows_loaded"] + i["rows_quarantined"] for i in report["inputs"])
    assert report["matches"]["bright_data"]["by_imdb_id"] == report["rows"]
    assert report["coverage"]["overview"]["share"] == 1.0
    saved = json.loads((tmp_path / "w" / "reports" / "build.json").read_text())
    assert saved["rows"] == report["rows"]
