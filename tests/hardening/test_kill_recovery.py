"""``kill -9`` at each build stage: ``recommend`` still answers or names the fix, a rebuild heals.

One good sample build is made first; for each kill point of :mod:`movie_rag._fault` a copy of
that workdir gets a second build, run as a real process that SIGKILLs itself at that point.
``recommend`` must then either answer from the last published build or stop with exit code 2
and one line naming what to do (never a traceback), and a plain rebuild must succeed and leave
``recommend`` answering. A rebuild of the unchanged sample neither embeds nor publishes, so
the ``embedding`` point kills a build that has no index yet and the ``index_swap`` point one
whose live version is marked as built from another table.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from movie_rag._fault import FAULT_ENV, POINTS

pytestmark = [pytest.mark.slow, pytest.mark.spark]

QUERY = "something like Jurassic Park"


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != FAULT_ENV}
    env.update({"COLUMNS": "400", "HF_HUB_OFFLINE": "1"}, **extra)
    return env


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "movie_rag.cli", *args],
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _build(workdir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return _cli("build", "--sample", "--workdir", str(workdir), "-q", env=_env(**extra))


def _recommend(workdir: Path) -> subprocess.CompletedProcess[str]:
    return _cli("recommend", QUERY, "--workdir", str(workdir), "--json")


def _assert_answers(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["recommendations"], result.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("kill") / "built"
    result = _build(workdir)
    assert result.returncode == 0, result.stderr
    return workdir


@pytest.mark.parametrize("point", POINTS)
def test_kill_then_recommend_then_rebuild(built: Path, tmp_path: Path, point: str) -> None:
    workdir = tmp_path / "workdir"
    shutil.copytree(built, workdir, symlinks=True)
    if point == "embedding":
        # A rebuild of the unchanged sample finds every vector in the live version or the
        # cache and embeds nothing; without them the build embeds the whole catalogue, as a
        # first index build does, and is killed after its first chunk.
        index = workdir / "index"
        for entry in index.iterdir():
            if entry.name != "encoder":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    if point == "index_swap":
        # Same reason: mark the live version as built from another table, so the build
        # publishes a new version (reusing every vector) while the old one stays live.
        index = workdir / "index"
        manifest = index / (index / "CURRENT").read_text().strip() / "manifest.json"
        data = json.loads(manifest.read_text())
        data["table_fingerprint"] = "stale"
        manifest.write_text(json.dumps(data))

    killed = _build(workdir, **{FAULT_ENV: point})
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])

    after = _recommend(workdir)
    assert "Traceback" not in after.stderr, after.stderr
    if after.returncode == 0:
        _assert_answers(after)
    else:
        assert after.returncode == 2, after.stderr
        lines = [line for line in after.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, after.stderr
        assert "movie-rag build" in lines[0], lines[0]

    rebuilt = _build(workdir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    _assert_answers(_recommend(workdir))
