"""``movie-rag ui`` refuses what it cannot serve with one JSON error line (no server starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _ui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "movie_rag.cli", "ui", "--port", "0", "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "API_END_POINT": "", **(env or {})},
    )


def test_in_process_mode_needs_a_built_workdir(tmp_path: Path) -> None:
    result = _ui("--workdir", str(tmp_path))
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["type"] == "InputFileError" and "movie-rag build" in error["error"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--endpoint", "localhost:5000"], None),
        ([], {"API_END_POINT": "ftp://example.org/invocations"}),
    ],
)
def test_an_endpoint_must_be_an_http_url(
    tmp_path: Path, args: list[str], env: dict[str, str] | None
) -> None:
    result = _ui("--workdir", str(tmp_path), *args, env=env)
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["type"] == "ConfigurationError" and "http(s) URL" in error["error"]
