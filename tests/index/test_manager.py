"""VectorIndexManager: backend choice from settings, workdir defaults, LangChain retriever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from langchain_core.retrievers import BaseRetriever
from sample_movies import SECRET_USER_TAG, movies_table

from movie_rag.errors import ConfigurationError
from movie_rag.index import LocalEmbeddings, LocalVectorIndex, SearchFilters, VectorIndexManager
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir


def test_databricks_backend_without_a_workspace_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_RUNTIME_VERSION"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"MOVIE_RAG_{name}", raising=False)
    settings = MovieRagSettings(backend="databricks", workdir=tmp_path)
    with pytest.raises(ConfigurationError, match=r"MOVIE_RAG_BACKEND.*DATABRICKS_HOST"):
        VectorIndexManager(settings)


def test_an_embedding_model_the_local_backend_lacks_is_refused(tmp_path: Path) -> None:
    settings = MovieRagSettings(workdir=tmp_path, embedding_model="bge-large-en")
    with pytest.raises(ConfigurationError, match="MOVIE_RAG_EMBEDDING_MODEL"):
        VectorIndexManager(settings)


def test_local_backend_lives_in_the_workdir(tmp_path: Path) -> None:
    manager = VectorIndexManager(MovieRagSettings(workdir=tmp_path))
    assert isinstance(manager.index, LocalVectorIndex)
    assert manager.index.path == Workdir(tmp_path).index
    assert manager.table_location == Workdir(tmp_path).table("movies_info")
    assert not manager.describe().ready


@pytest.fixture
def manager(tmp_path: Path, embeddings: LocalEmbeddings) -> VectorIndexManager:
    workdir = Workdir(tmp_path).ensure()
    table_dir = workdir.table("movies_info")
    table_dir.mkdir(parents=True)
    pq.write_table(movies_table(), table_dir / "part-00000.parquet")
    return VectorIndexManager(MovieRagSettings(workdir=tmp_path), embeddings=embeddings)


@pytest.mark.slow
def test_build_sync_and_search_from_the_workdir_table(manager: VectorIndexManager) -> None:
    report = manager.build()
    assert report.added == movies_table().num_rows
    assert manager.sync().embedded == 0
    hits = manager.search("jedi", k=3, filters={"year_max": 1979})
    assert hits[0].movie_id == 260
    assert all(hit.metadata["year"] <= 1979 for hit in hits)
    similar = {hit.movie_id for hit in manager.similar_to(1196, k=5)}
    assert 260 in similar and 1196 not in similar
    assert manager.similar_to(1196, k=1, filters={"genres_any": ["Sci-Fi"]})[0].movie_id == 260


@pytest.mark.slow
def test_retriever_documents_carry_metadata_and_never_user_tags(
    manager: VectorIndexManager,
) -> None:
    manager.build()
    retriever = manager.as_retriever(k=3, filters=SearchFilters(genres_any=["Horror"]))
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("a creature stalks a spaceship crew")
    assert len(documents) == 3
    first = documents[0]
    assert first.metadata["movie_id"] == 1214 and first.metadata["title"] == "Alien"
    assert first.page_content.startswith("Alien (1979).")
    assert isinstance(first.metadata["score"], float)
    for document in documents:
        assert "Horror" in document.metadata["genres"]
        assert "user_tags" not in document.metadata and "document" not in document.metadata
        assert SECRET_USER_TAG not in repr(document)


@pytest.mark.slow
def test_retriever_calls_can_override_the_defaults(manager: VectorIndexManager) -> None:
    manager.build()
    retriever = manager.as_retriever(k=2)
    overrides: dict[str, Any] = {"k": 4, "filters": {"people": ["Tom Hanks"]}, "mode": "hybrid"}
    documents = retriever.invoke("romance", **overrides)
    assert len(documents) == 4
    assert all("Tom Hanks" in d.metadata["cast"] for d in documents)
    batch = retriever.batch(["space", "war"])
    assert [len(docs) for docs in batch] == [2, 2]
