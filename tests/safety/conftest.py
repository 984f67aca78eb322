"""Safety fixtures: a real chain over a small catalogue, no Spark (index built in-process)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The small real-films movies_info table the index tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))

from sample_movies import SECRET_USER_TAG, movies_table

from third_party_warnings import ignore_mlflow_warnings

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.settings import MovieRagSettings

__all__ = ["SECRET_USER_TAG"]

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    ignore_mlflow_warnings(items, HERE)


@pytest.fixture(scope="session")
def safety_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pyarrow.parquet as pq

    from movie_rag.index import LocalEmbeddings, LocalVectorIndex
    from movie_rag.workdir import Workdir

    root = tmp_path_factory.mktemp("safety") / "workdir"
    workdir = Workdir(root)
    LocalVectorIndex(workdir.index, LocalEmbeddings()).build(movies_table())
    # The catalogue table beside it, as a build leaves it: `movie-rag recommend` works here.
    table_dir = workdir.tables / "movies_info"
    table_dir.mkdir(parents=True)
    pq.write_table(movies_table(), table_dir / "part-0.parquet")
    return root


@pytest.fixture(scope="session")
def safety_settings(safety_workdir: Path) -> MovieRagSettings:
    from movie_rag.settings import MovieRagSettings

    return MovieRagSettings(workdir=safety_workdir, collab_enabled=False)


@pytest.fixture(scope="session")
def safety_chain(safety_settings: MovieRagSettings, safety_workdir: Path) -> RecommenderChain:
    from movie_rag.chain.catalogue import Catalogue
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.feedback import LocalFeedbackStore
    from movie_rag.index import LocalEmbeddings, LocalVectorIndex
    from movie_rag.index.manager import VectorIndexManager

    index = LocalVectorIndex(safety_workdir / "index", LocalEmbeddings(), use_cache=False)
    manager = VectorIndexManager(safety_settings, index=index)
    return RecommenderChain(
        manager,
        Catalogue(movies_table()),
        settings=safety_settings,
        feedback=LocalFeedbackStore(safety_workdir),
    )
