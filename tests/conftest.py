"""Shared fixtures: the real data directory and one local Spark session per test session."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# Fixtures that are expensive to build (session- or module-scoped): every test file that asks
# for one runs on the same pytest-xdist worker, so each is built once per run, not per worker.
_GROUPED_FIXTURES = {
    "real_build": "real-build",
    "evaluation": "real-build",
    "sample_workdir": "sample-publish",
    "publisher": "sample-publish",
    "champion": "sample-publish",
    "server": "sample-publish",
    "safety_workdir": "safety",
    "safety_settings": "safety",
    "safety_chain": "safety",
    "built_index_dir": "minilm-index",
    "local_index": "minilm-index",
}
_FIXTURE_ARGUMENT = re.compile(
    r"[(,]\s*(" + "|".join(map(re.escape, _GROUPED_FIXTURES)) + r")\b\s*[:,)=]"
)
_FIXTURE_DEFINITION = re.compile(r"^def (\w+)\(", re.MULTILINE)


@functools.cache
def _worker_scope(test_file: str) -> str:
    """The group of a test file that takes a grouped fixture as an argument, else the file.

    A file's own fixture of the same name (a local ``server``) is not the shared one; when a
    file takes several, the first group listed in ``_GROUPED_FIXTURES`` wins.
    """
    source = (REPO_ROOT / test_file).read_text(encoding="utf-8", errors="replace")
    own = set(_FIXTURE_DEFINITION.findall(source))
    taken = {name for name in _FIXTURE_ARGUMENT.findall(source) if name not in own}
    for name, group in _GROUPED_FIXTURES.items():
        if name in taken:
            return group
    return test_file


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    # pytest-xdist's own ``loadgroup`` marks do not reach the scheduler on this pytest, so the
    # scope (what one worker runs together) is chosen here: a file, or its fixture's group.
    from xdist.scheduler import LoadScopeScheduling

    class FixtureGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _worker_scope(nodeid.split("::", 1)[0])

    return FixtureGroupScheduling(config, log)


def _shared_data_dir() -> Path:
    env = os.environ.get("MOVIE_RAG_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data of ../shared/data; missing data fails under CI and skips elsewhere."""
    path = _shared_data_dir()
    if not (path / "ml-latest-small" / "movies.csv").exists():
        message = f"real data not found at {path} (set MOVIE_RAG_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One local[2] Spark session for the whole test session."""
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark

    workdir = tmp_path_factory.mktemp("spark_session")
    settings = MovieRagSettings(workdir=workdir, spark_master="local[2]")
    session = get_spark(settings)
    yield session
    session.stop()


REAL_IMDB_FILES = (
    "movies_metadata.head5000.csv",
    "tmdb_5000_movies.csv",
    "imdb_top_1000.csv",
    "itemsapi_imdb.json",
)


def build_real(settings, shared_data: Path, spark: SparkSession):
    """Build movies_info and the index from all of the real data (MovieLens, genome, IMDB)."""
    from movie_rag.pipeline import build_catalogue

    return build_catalogue(
        settings,
        shared_data / "ml-latest-small",
        [shared_data / "imdb" / name for name in REAL_IMDB_FILES],
        genome_dir=shared_data / "ml-genome",
        spark=spark,
    )


@pytest.fixture(scope="session")
def real_builder():
    """The function that builds the real data (for tests that build it again)."""
    return build_real


@pytest.fixture(scope="session")
def real_build(shared_data: Path, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    """movies_info and its index built once per session from all of the real data."""
    from movie_rag.settings import MovieRagSettings

    settings = MovieRagSettings(workdir=tmp_path_factory.mktemp("real_build"))
    return settings, build_real(settings, shared_data, spark)
