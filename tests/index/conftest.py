"""Index fixtures: one real embedding model and one built index per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.embeddings import Embeddings

# Set before anything imports huggingface_hub: the model must load from disk only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sample_movies import CountingEncoder, movie_rows, movies_table

from emulators.vector_search import VectorSearchEmulator

if TYPE_CHECKING:
    from movie_rag.index import LocalEmbeddings, LocalVectorIndex, VectorIndex
    from movie_rag.index.databricks import DatabricksVectorIndex

#: Names the Databricks tests give the index, its endpoint and the movies_info table.
INDEX_NAME = "main.silver.movies_info_index"
ENDPOINT_NAME = "movie_rag_vs"
TABLE_NAME = "main.silver.movies_info"


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


class RecordingEmbeddings(Embeddings):
    """The real MiniLM behind the plain LangChain ``Embeddings`` interface.

    Vectors are memoised per text (one session pays for each text once), and every document
    the index asks for is recorded, memoised or not, so tests see what was embedded.
    """

    def __init__(self, inner: LocalEmbeddings, model_name: str | None = None) -> None:
        self.inner = inner
        self.model_name = model_name or inner.model_name
        self.embedded: list[str] = []
        self._memo: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                self._memo[text] = [float(v) for v in vector]
        return [self._memo[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        key = f"\0query\0{text}"
        if key not in self._memo:
            self._memo[key] = [float(v) for v in self.inner.encode_query(text)]
        return self._memo[key]


@pytest.fixture(scope="session")
def _memo_embeddings(embeddings: LocalEmbeddings) -> RecordingEmbeddings:
    return RecordingEmbeddings(embeddings)


@pytest.fixture
def recording_embeddings(_memo_embeddings: RecordingEmbeddings) -> RecordingEmbeddings:
    """MiniLM as a LangChain ``Embeddings`` with a fresh record (shared memo)."""
    fresh = RecordingEmbeddings(_memo_embeddings.inner)
    fresh._memo = _memo_embeddings._memo
    return fresh


@pytest.fixture
def vector_search() -> Iterator[VectorSearchEmulator]:
    """A Databricks Vector Search workspace on loopback, fresh for each test."""
    with VectorSearchEmulator() as workspace:
        yield workspace


@pytest.fixture
def databricks_index(
    vector_search: VectorSearchEmulator, recording_embeddings: RecordingEmbeddings
) -> DatabricksVectorIndex:
    """The sample built into a Direct Access index on the emulator, with MiniLM vectors."""
    from movie_rag.index.databricks import DatabricksVectorIndex

    index = DatabricksVectorIndex(
        INDEX_NAME,
        ENDPOINT_NAME,
        embeddings=recording_embeddings,
        workspace_url=vector_search.url,
        token=vector_search.token,
        poll_interval=0.01,
        timeout=10,
        retry_backoff=0.01,
    )
    index.build(movies_table())
    return index


# The contract suite runs once per backend: the embedded index, and Databricks Vector Search
# (on the emulator, driven by the real client) with the same MiniLM vectors.
@pytest.fixture(params=["local", "databricks"])
def backend(request: pytest.FixtureRequest) -> VectorIndex:
    if request.param == "local":
        index: VectorIndex = request.getfixturevalue("local_index")
        return index
    if request.param == "databricks":
        remote: VectorIndex = request.getfixturevalue("databricks_index")
        return remote
    raise AssertionError(f"unknown backend {request.param}")
