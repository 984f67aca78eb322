"""Index fixtures: one real embedding model and one built index per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Set before anything imports huggingface_hub: the model must load from disk only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sample_movies import CountingEncoder, movie_rows, movies_table

if TYPE_CHECKING:
    from movie_rag.index import LocalEmbeddings, LocalVectorIndex, VectorIndex


@pytest.fixture(scope="session")
def embeddings() -> LocalEmbeddings:
    from movie_rag.index import LocalEmbeddings

    emb = LocalEmbeddings()
    emb.model  # noqa: B018 - load once, here, rather than inside the first timed test
    return emb


@pytest.fixture
def counting(embeddings: LocalEmbeddings) -> CountingEncoder:
    return CountingEncoder(embeddings)


@pytest.fixture
def rows() -> list[dict[str, Any]]:
    """The sample catalogue as dicts (a fresh copy per test)."""
    return movie_rows()


@pytest.fixture(scope="session")
def built_index_dir(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalEmbeddings) -> Path:
    from movie_rag.index import LocalVectorIndex

    path = tmp_path_factory.mktemp("built") / "index"
    LocalVectorIndex(path, embeddings).build(movies_table())
    return path


@pytest.fixture
def local_index(
    built_index_dir: Path, tmp_path: Path, embeddings: LocalEmbeddings
) -> LocalVectorIndex:
    """A private copy of the session index: tests may rebuild or delete it freely."""
    from movie_rag.index import LocalVectorIndex

    path = tmp_path / "index"
    shutil.copytree(built_index_dir, path)
    return LocalVectorIndex(path, embeddings)


# The contract suite runs once per backend; a Databricks backend on the Vector Search
# emulator joins this list.
@pytest.fixture(params=["local"])
def backend(request: pytest.FixtureRequest) -> VectorIndex:
    if request.param == "local":
        index: VectorIndex = request.getfixturevalue("local_index")
        return index
    raise AssertionError(f"unknown backend {request.param}")
