"""DatabricksVectorIndex on the Vector Search emulator, driven by the real client.

The shared promises (exact filters, k hits, metadata without user_tags, ...) are checked by
the contract suite for both backends; these tests cover what is Databricks-specific: the
filter compiler, managed (Delta Sync) and self-managed (Direct Access) modes, retries,
quota/name/endpoint errors, readiness timeouts, idempotent builds, incremental syncs, the
manager wiring, notebook 02 — and that the emulator rejects what the real API rejects.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow.parquet as pq
import pytest
import requests
from langchain_core.embeddings import Embeddings
from sample_movies import SECRET_USER_TAG, content_hash, document_for, movie_rows, to_table

from emulators.vector_search import VectorSearchEmulator, stand_in_embedding
from movie_rag.errors import ConfigurationError
from movie_rag.index import (
    IndexMismatchError,
    IndexNotReadyError,
    SearchFilters,
    UnknownMovieError,
    VectorIndexManager,
)
from movie_rag.index.databricks import (
    PUBLIC_COLUMNS,
    DatabricksVectorIndex,
    EmbeddingEndpointNotFoundError,
    InvalidIndexNameError,
    VectorSearchError,
    VectorSearchQuotaError,
    VectorSearchUnavailableError,
    compile_filters,
    genre_flag,
)
from movie_rag.settings import MovieRagSettings

INDEX = "main.silver.movies_info_index"
ENDPOINT = "movie_rag_vs"
TABLE = "main.silver.movies_info"
REPO_ROOT = Path(__file__).resolve().parents[2]


class HashEmbeddings(Embeddings):
    """A cheap deterministic LangChain embedder (hashed bag of words) that records documents."""

    def __init__(self, dimension: int = 64, model_name: str = "hash-bow") -> None:
        self.dimension = dimension
        self.model_name = model_name
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return [stand_in_embedding(t, self.dimension) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return stand_in_embedding(text, self.dimension)


def make_index(
    workspace: VectorSearchEmulator, embeddings: Any = None, **options: Any
) -> DatabricksVectorIndex:
    settings: dict[str, Any] = {
        "workspace_url": workspace.url,
        "token": workspace.token,
        "poll_interval": 0.01,
        "timeout": 5,
        "retry_backoff": 0.01,
    }
    settings.update(options)
    return DatabricksVectorIndex(INDEX, ENDPOINT, embeddings=embeddings, **settings)


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_table(rows), path / "part-00000.parquet")


def filters_sent(workspace: VectorSearchEmulator) -> list[Any]:
    """The filters_json of every query the emulator received, decoded."""
    return [
        json.loads(r.body["filters_json"]) if r.body.get("filters_json") else None
        for r in workspace.calls("GET", r"/query$")
    ]


@pytest.fixture
def rows() -> list[dict[str, Any]]:
    return movie_rows()


@pytest.fixture
def uc_table(
    tmp_path: Path, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> Path:
    """movies_info as a parquet table the emulator serves under its Unity Catalog name."""
    path = tmp_path / "movies_info"
    write_table(path, rows)
    vector_search.register_table(TABLE, path)
    return path


@pytest.fixture
def managed(vector_search: VectorSearchEmulator, uc_table: Path) -> DatabricksVectorIndex:
    """A Delta Sync index with managed embeddings (the emulator's stand-in gte-large-en)."""
    index = make_index(vector_search)
    index.build(TABLE)
    return index


@pytest.fixture
def hashed(vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]) -> Iterator[Any]:
    """A Direct Access index with self-managed vectors from a cheap embedder."""
    embeddings = HashEmbeddings()
    index = make_index(vector_search, embeddings)
    index.build(to_table(rows))
    yield index, embeddings


# -- compiling filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "storage", "native", "residual"),
    [
        ({}, "arrays", {}, False),
        (
            {"year_min": 1990, "year_max": 1999, "min_rating": 7.5, "min_votes": 1000},
            "flags",
            {"year >=": 1990, "year <=": 1999, "rating >=": 7.5, "votes >=": 1000},
            False,
        ),
        ({"genres_any": ["sci-fi"]}, "arrays", {"genres": "Sci-Fi"}, False),
        (
            {"genres_any": ["Horror", "film-noir"]},
            "arrays",
            {"genres": ["Horror", "Film-Noir"]},
            False,
        ),
        (
            {"genres_any": ["Horror", "Sci-Fi"]},
            "flags",
            {"genre_horror OR genre_sci_fi": [True, True]},
            False,
        ),
        ({"genres_any": ["IMAX"]}, "flags", {"genre_imax": True}, False),
        (
            {"genres_all": ["Comedy", "Romance"]},
            "flags",
            {"genre_comedy": True, "genre_romance": True},
            False,
        ),
        ({"genres_all": ["Comedy", "Romance"]}, "arrays", {"genres": "Comedy"}, True),
        ({"genres_all": ["Comedy"]}, "arrays", {"genres": "Comedy"}, False),
        ({"genres_any": ["Horror"], "genres_all": ["War"]}, "arrays", {"genres": "Horror"}, True),
        ({"genres_any": ["Horror", "Space Opera"]}, "flags", {}, True),
        ({"people": ["Tom Hanks"]}, "arrays", {}, True),
        ({"include_ids": [3, 1, 2]}, "arrays", {"movie_id": [1, 2, 3]}, False),
        ({"exclude_ids": [7]}, "flags", {"movie_id NOT": 7}, False),
        ({"exclude_ids": [7, 8]}, "flags", {}, True),
        ({"include_ids": [1, 2], "exclude_ids": [2]}, "arrays", {"movie_id": [1, 2]}, True),
    ],
)
def test_filters_compile_to_the_standard_endpoint_syntax(
    filters: dict[str, Any], storage: Any, native: dict[str, Any], residual: bool
) -> None:
    compiled = compile_filters(SearchFilters(**filters), storage=storage)
    assert compiled.native == native
    assert compiled.residual is residual


def test_an_empty_allow_list_matches_nothing_without_a_query() -> None:
    assert compile_filters(SearchFilters(include_ids=[]), storage="arrays").matches_nothing
    assert compile_filters(None, storage="flags").native == {}
    assert compile_filters(SearchFilters(exclude_ids=[1, 2, 3]), storage="arrays").slack == 3


def test_genre_flags_cover_the_movielens_vocabulary() -> None:
    assert genre_flag("Sci-Fi") == "genre_sci_fi"
    assert genre_flag("Film-Noir") == "genre_film_noir"
    assert genre_flag("IMAX") == "genre_imax"


# -- names, quota, embedding endpoint ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["movies_index", "main.movies_index", "main.silver.movies-index", ""]
)
def test_index_names_must_be_three_part_unity_catalog_names(name: str) -> None:
    with pytest.raises(InvalidIndexNameError, match=r"catalog\.schema\.name") as caught:
        DatabricksVectorIndex(name, ENDPOINT, workspace_url="http://127.0.0.1:9", token="t")
    assert isinstance(caught.value, ConfigurationError)


def test_endpoint_quota_names_the_endpoints_that_could_be_reused(tmp_path: Path) -> None:
    from databricks.ai_search.client import AISearchClient

    with VectorSearchEmulator(max_endpoints=1) as workspace:
        client = AISearchClient(
            workspace_url=workspace.url, personal_access_token=workspace.token, disable_notice=True
        )
        client.create_endpoint("team_endpoint")
        with pytest.raises(VectorSearchQuotaError, match="team_endpoint") as caught:
            make_index(workspace, HashEmbeddings()).build(to_table(movie_rows()))
        assert "endpoint_name" in str(caught.value)
        assert caught.value.error_code == "QUOTA_EXCEEDED"
        # A quota is not transient: one attempt, no retries.
        assert len(workspace.calls("POST", r"/vector-search/endpoints$")) == 2


def test_index_quota_on_the_endpoint_is_reported(rows: list[dict[str, Any]]) -> None:
    with VectorSearchEmulator(max_indexes_per_endpoint=1) as workspace:
        first = DatabricksVectorIndex(
            "main.silver.other_index",
            ENDPOINT,
            embeddings=HashEmbeddings(),
            workspace_url=workspace.url,
            token=workspace.token,
            poll_interval=0.01,
        )
        first.build(to_table(rows))
        with pytest.raises(VectorSearchQuotaError, match="Maximum number of indexes per endpoint"):
            make_index(workspace, HashEmbeddings()).build(to_table(rows))


def test_a_missing_embedding_endpoint_is_named_before_anything_is_created(
    vector_search: VectorSearchEmulator, uc_table: Path
) -> None:
    index = make_index(vector_search, embedding_endpoint="bge-small-en")
    with pytest.raises(
        EmbeddingEndpointNotFoundError, match="'bge-small-en' does not exist"
    ) as caught:
        index.build(TABLE)
    assert "databricks-gte-large-en" in str(caught.value)
    assert vector_search.indexes == {}


def test_managed_mode_needs_a_unity_catalog_table(
    vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    with pytest.raises(ConfigurationError, match="three-part name"):
        make_index(vector_search).build(to_table(rows))


def test_wrong_credentials_are_reported_with_what_to_check(
    vector_search: VectorSearchEmulator, uc_table: Path
) -> None:
    index = make_index(vector_search, token="dapi-wrong")
    with pytest.raises(VectorSearchError, match="refused the credentials") as caught:
        index.build(TABLE)
    assert "DATABRICKS_TOKEN" in str(caught.value) and caught.value.status == 403


# -- readiness --------------------------------------------------------------------------------


def test_a_provisioning_endpoint_is_awaited_until_the_timeout(rows: list[dict[str, Any]]) -> None:
    with VectorSearchEmulator(endpoint_delay=60) as workspace:
        index = make_index(workspace, HashEmbeddings(), timeout=0.3)
        with pytest.raises(
            IndexNotReadyError, match=r"endpoint movie_rag_vs is still PROVISIONING"
        ):
            index.build(to_table(rows))
        assert len(workspace.calls("GET", r"/endpoints/movie_rag_vs$")) > 2


def test_an_index_that_does_not_come_online_times_out(rows: list[dict[str, Any]]) -> None:
    with VectorSearchEmulator(index_delay=60) as workspace:
        index = make_index(workspace, HashEmbeddings(), timeout=0.3)
        with pytest.raises(IndexNotReadyError, match=r"still PROVISIONING_INDEX after 0\.3 s"):
            index.build(to_table(rows))
        with pytest.raises(IndexNotReadyError, match="not serving yet"):
            index.search("anything")
        assert not index.describe().ready


def test_delays_within_the_timeout_are_waited_out(
    tmp_path: Path, rows: list[dict[str, Any]]
) -> None:
    with VectorSearchEmulator(endpoint_delay=0.2, index_delay=0.2, sync_delay=0.2) as workspace:
        write_table(tmp_path / "t", rows)
        workspace.register_table(TABLE, tmp_path / "t")
        index = make_index(workspace)
        report = index.build(TABLE)
        assert report.added == len(rows)
        assert index.describe().ready
        # A second build triggers a sync that shows ONLINE_TRIGGERED_UPDATE until it lands.
        assert index.sync(TABLE).unchanged == len(rows)
        states = [
            r
            for r in workspace.calls("GET", r"/indexes/main.silver.movies_info_index$")
            if r.status == 200
        ]
        assert len(states) > 3


# -- retries ----------------------------------------------------------------------------------


def test_writes_are_retried_on_503(
    vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    fault = vector_search.inject(r"/upsert-data$", status=503, times=2)
    report = make_index(vector_search, HashEmbeddings()).build(to_table(rows))
    assert fault.hits == 2
    assert report.added == len(rows)
    assert len(vector_search.index_rows(INDEX)) == len(rows)
    assert len(vector_search.calls("POST", r"/upsert-data$")) == 3


def test_queries_are_retried_on_429(hashed: Any, vector_search: VectorSearchEmulator) -> None:
    index, _ = hashed
    before = len(vector_search.calls("GET", r"/query$"))
    fault = vector_search.inject(r"/query$", status=429, times=2, retry_after="0")
    hits = index.search("space adventure", k=4)
    assert len(hits) == 4
    assert fault.hits == 2
    assert len(vector_search.calls("GET", r"/query$")) - before == 3


def test_a_dropped_connection_is_retried(
    vector_search: VectorSearchEmulator, uc_table: Path
) -> None:
    fault = vector_search.inject(r"/vector-search/endpoints$", method="POST", drop=True)
    index = make_index(vector_search)
    assert index.build(TABLE).added == len(movie_rows())
    assert fault.hits == 1
    assert [r.status for r in vector_search.calls("POST", r"/vector-search/endpoints$")] == [
        -1,
        200,
    ]


def test_retries_are_bounded(hashed: Any, vector_search: VectorSearchEmulator) -> None:
    index, _ = hashed
    index.max_retries = 3
    before = len(vector_search.calls("GET", r"/query$"))
    vector_search.inject(r"/query$", status=503, times=100)
    with pytest.raises(VectorSearchUnavailableError, match=r"through 3 retries.*max_retries"):
        index.search("space adventure")
    assert len(vector_search.calls("GET", r"/query$")) - before == 4


# -- building and syncing ---------------------------------------------------------------------


def test_self_managed_build_twice_changes_nothing_the_second_time(
    hashed: Any, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    index, embeddings = hashed
    embeddings.embedded.clear()
    writes_before = len(vector_search.calls("POST", r"/upsert-data$"))
    report = index.build(to_table(rows))
    assert (report.added, report.updated, report.deleted) == (0, 0, 0)
    assert (report.unchanged, report.embedded) == (len(rows), 0)
    assert embeddings.embedded == []
    assert len(vector_search.calls("POST", r"/upsert-data$")) == writes_before
    assert vector_search.calls("DELETE", r"/delete-data$") == []
    assert len(vector_search.calls("POST", r"/endpoints/movie_rag_vs/indexes$")) == 1


def test_managed_build_twice_changes_nothing_the_second_time(
    managed: DatabricksVectorIndex, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    assert len(vector_search.embedded(INDEX)) == len(rows)
    report = managed.build(TABLE)
    assert (report.added, report.updated, report.deleted, report.embedded) == (0, 0, 0, 0)
    assert report.unchanged == len(rows)
    assert len(vector_search.embedded(INDEX)) == len(rows)
    assert len(vector_search.calls("POST", r"/sync$")) == 1
    assert len(vector_search.calls("POST", r"/endpoints/movie_rag_vs/indexes$")) == 1


def test_managed_index_definition(
    managed: DatabricksVectorIndex, vector_search: VectorSearchEmulator
) -> None:
    created = vector_search.calls("POST", r"/endpoints/movie_rag_vs/indexes$")[0].body
    spec = created["delta_sync_index_spec"]
    assert created["primary_key"] == "movie_id" and created["index_type"] == "DELTA_SYNC"
    assert spec["source_table"] == TABLE and spec["pipeline_type"] == "TRIGGERED"
    assert spec["embedding_source_columns"] == [
        {"name": "document", "embedding_model_endpoint_name": "databricks-gte-large-en"}
    ]
    assert set(spec["columns_to_sync"]) == set(PUBLIC_COLUMNS)
    assert "user_tags" not in spec["columns_to_sync"]
    status = managed.describe()
    assert status.ready and status.row_count == len(movie_rows())
    assert (status.model_name, status.dimension) == ("databricks-gte-large-en", 1024)
    assert status.location == INDEX and status.backend == "databricks"


def test_self_managed_sync_rewrites_only_changed_rows(
    hashed: Any, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    index, embeddings = hashed
    changed_text, changed_rating, removed = rows[0], rows[1], rows[2]
    changed_text["overview"] = "A tale of toys plotting a daring escape from a yard sale."
    changed_text["document"] = document_for(changed_text)
    changed_rating["rating"] = 9.9
    added = {**rows[3], "movie_id": 999_001, "title": "Brand New Film"}
    added["document"] = document_for(added)
    updated = [r for r in rows if r is not removed] + [added]
    for row in (changed_text, changed_rating, added):
        row["content_hash"] = content_hash(row)
    embeddings.embedded.clear()
    writes_before = len(vector_search.calls("POST", r"/upsert-data$"))

    report = index.sync(to_table(updated))

    assert (report.added, report.updated, report.deleted) == (1, 2, 1)
    assert report.unchanged == len(rows) - 3
    # The rating change reuses the stored vector; only new text is embedded.
    assert report.embedded == 2
    assert sorted(embeddings.embedded) == sorted([changed_text["document"], added["document"]])
    upserts = vector_search.calls("POST", r"/upsert-data$")[writes_before:]
    written = [row["movie_id"] for call in upserts for row in json.loads(call.body["inputs_json"])]
    assert sorted(written) == sorted(
        [changed_text["movie_id"], changed_rating["movie_id"], 999_001]
    )
    deletes = vector_search.calls("DELETE", r"/delete-data$")
    assert [call.body["primary_keys"] for call in deletes] == [[str(removed["movie_id"])]]
    stored = vector_search.index_rows(INDEX)
    assert removed["movie_id"] not in stored and stored[changed_rating["movie_id"]]["rating"] == 9.9
    assert (
        index.search("daring escape from a yard sale", k=1)[0].movie_id == changed_text["movie_id"]
    )


def test_managed_sync_reembeds_only_changed_rows(
    managed: DatabricksVectorIndex,
    vector_search: VectorSearchEmulator,
    uc_table: Path,
    rows: list[dict[str, Any]],
) -> None:
    changed, removed = rows[0], rows[1]
    changed["overview"] = "Toys plot a daring escape from a yard sale."
    changed["document"] = document_for(changed)
    changed["content_hash"] = content_hash(changed)
    added = {**rows[2], "movie_id": 999_002, "title": "Another New Film"}
    added["document"] = document_for(added)
    added["content_hash"] = content_hash(added)
    write_table(uc_table, [r for r in rows if r is not removed] + [added])
    embedded_before = len(vector_search.embedded(INDEX))

    report = managed.sync(TABLE)

    assert (report.added, report.updated, report.deleted) == (1, 1, 1)
    assert report.unchanged == len(rows) - 2 and report.embedded == 2
    assert sorted(vector_search.embedded(INDEX)[embedded_before:]) == sorted(
        [changed["movie_id"], 999_002]
    )
    assert managed.search("daring escape from a yard sale", k=1)[0].movie_id == changed["movie_id"]


def test_sync_refuses_vectors_from_another_model_and_build_replaces_them(
    hashed: Any, rows: list[dict[str, Any]]
) -> None:
    index, _ = hashed
    other = HashEmbeddings(model_name="hash-bow-v2")
    replacement = make_index_like(index, other)
    with pytest.raises(IndexMismatchError, match=r"'hash-bow'.*build\(\)"):
        replacement.sync(to_table(rows))
    report = replacement.build(to_table(rows))
    assert (report.updated, report.embedded) == (len(rows), len(rows))
    assert replacement.describe().model_name == "hash-bow-v2"
    assert replacement.describe().ready
    assert not index.describe().ready  # the old embedder no longer fits the stored vectors


def test_build_replaces_an_index_of_another_dimension(
    hashed: Any, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    index, _ = hashed
    wider = make_index_like(index, HashEmbeddings(dimension=96))
    with pytest.raises(IndexMismatchError):
        wider.sync(to_table(rows))
    report = wider.build(to_table(rows))
    assert report.added == len(rows)
    assert wider.describe().dimension == 96
    assert len(vector_search.calls("DELETE", r"/indexes/main.silver.movies_info_index$")) == 1


def make_index_like(index: DatabricksVectorIndex, embeddings: Embeddings) -> DatabricksVectorIndex:
    return DatabricksVectorIndex(
        index.index_name,
        index.endpoint_name,
        embeddings=embeddings,
        workspace_url=index.workspace_url,
        token=index._token,
        poll_interval=0.01,
        timeout=5,
        retry_backoff=0.01,
    )


def test_delete_tears_the_index_down_and_keeps_the_endpoint(
    managed: DatabricksVectorIndex, vector_search: VectorSearchEmulator
) -> None:
    managed.delete()
    status = managed.describe()
    assert not status.ready and status.row_count == 0
    with pytest.raises(IndexNotReadyError, match="movie-rag build"):
        managed.search("anything")
    with pytest.raises(IndexNotReadyError, match="movie-rag build"):
        managed.similar_to(1)
    assert INDEX not in vector_search.indexes and ENDPOINT in vector_search.endpoints
    assert managed.build(TABLE).added == len(movie_rows())


# -- searching --------------------------------------------------------------------------------


def test_native_filters_go_to_the_index_in_one_query(
    managed: DatabricksVectorIndex, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    filters = SearchFilters(genres_any=["sci-fi"], year_min=1977, year_max=1999, min_rating=8)
    before = len(filters_sent(vector_search))
    hits = managed.search("a space battle", k=5, filters=filters)
    assert filters_sent(vector_search)[before:] == [
        {"genres": "Sci-Fi", "year >=": 1977, "year <=": 1999, "rating >=": 8.0}
    ]
    expected = [r["movie_id"] for r in rows if filters.matches(r)]
    assert len(hits) == min(5, len(expected))
    assert all(filters.matches(hit.metadata) for hit in hits)


def test_self_managed_genre_filters_run_on_flag_columns(
    hashed: Any, vector_search: VectorSearchEmulator, rows: list[dict[str, Any]]
) -> None:
    index, _ = hashed
    filters = SearchFilters(genres_any=["Horror", "Western"], genres_all=["Thriller"])
    before = len(filters_sent(vector_search))
    hits = index.search("fear", k=10, filters=filters)
    assert filters_sent(vector_search)[before:] == [
        {"genre_horror OR genre_western": [True, True], "genre_thriller": True}
    ]
    assert {h.movie_id for h in hits} == {r["movie_id"] for r in rows if filters.matches(r)}
    stored = next(iter(vector_search.index_rows(INDEX).values()))
    assert "user_tags" not in stored and isinstance(stored["genres"], str)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
@pytest.mark.parametrize(
    "filters",
    [
        {"people": ["tom hanks"]},
        {"people": ["Tom Hanks", "Meg Ryan"]},
        {"people": ["Clint Eastwood"], "genres_any": ["Western"]},
        {"genres_all": ["Comedy", "Romance"]},
        {"genres_any": ["Horror"], "genres_all": ["Thriller"], "year_min": 1970},
        {"exclude_ids": [1214, 1200], "genres_any": ["horror"]},
        {"genres_any": ["Film-Noir"]},
        {"min_votes": 1_500_000, "year_max": 2000},
        {"include_ids": [1975, 5069], "year_min": 1960},
    ],
    ids=repr,
)
def test_managed_filters_are_exact_and_fill_k(
    managed: DatabricksVectorIndex, rows: list[dict[str, Any]], filters: dict[str, Any], mode: Any
) -> None:
    search_filters = SearchFilters(**filters)
    expected = {r["movie_id"] for r in rows if search_filters.matches(r)}
    for k in (1, 3, 50):
        hits = managed.search("a gripping story", k=k, filters=search_filters, mode=mode)
        assert all(search_filters.matches(hit.metadata) for hit in hits)
        assert len(hits) == min(k, len(expected))
        assert len({h.movie_id for h in hits}) == len(hits)
        for hit in hits:
            assert "user_tags" not in hit.metadata and SECRET_USER_TAG not in repr(hit.metadata)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_post_filtering_widens_the_fetch_and_keeps_the_ranking(
    managed: DatabricksVectorIndex,
    vector_search: VectorSearchEmulator,
    rows: list[dict[str, Any]],
    mode: Any,
) -> None:
    query = "a gentle family film about friendship"
    ranking = managed.search(query, k=len(rows), mode=mode)
    last = ranking[-1].metadata
    filters = SearchFilters(people=[last["directors"][0]])
    expected = [h.movie_id for h in ranking if filters.matches(h.metadata)]
    before = len(vector_search.calls("GET", r"/query$"))

    hits = managed.search(query, k=len(expected), filters=filters, mode=mode)

    assert [h.movie_id for h in hits] == expected
    assert last["movie_id"] in expected
    fetches = [r.body["num_results"] for r in vector_search.calls("GET", r"/query$")[before:]]
    # 50 rows miss the last-ranked movie; the second round (×4) reaches it; then the metadata.
    assert fetches == [50, 200, len(expected)]


def test_hybrid_falls_back_to_dense_ranking_when_200_rows_are_not_enough(
    tmp_path: Path, vector_search: VectorSearchEmulator
) -> None:
    template = movie_rows()[0]
    many = []
    for number in range(260):
        row = {**template, "movie_id": number + 1, "title": f"Space Film {number}"}
        row["directors"], row["cast"] = ["Someone Else"], ["Nobody"]
        row["overview"] = f"A space adventure among the stars, chapter {number}."
        if number >= 257:
            row["directors"] = ["Agnes Varda"]
            row["overview"] = "A quiet portrait of a village baker and her bicycle."
        row["document"] = document_for(row)
        row["content_hash"] = content_hash(row)
        many.append(row)
    write_table(tmp_path / "many", many)
    vector_search.register_table(TABLE, tmp_path / "many")
    index = make_index(vector_search)
    index.build(TABLE)
    before = len(vector_search.calls("GET", r"/query$"))

    hits = index.search(
        "space adventure stars", k=3, mode="hybrid", filters=SearchFilters(people=["agnes varda"])
    )

    assert sorted(h.movie_id for h in hits) == [258, 259, 260]
    types = [r.body["query_type"] for r in vector_search.calls("GET", r"/query$")[before:]]
    assert types[:2] == ["HYBRID", "HYBRID"] and types[2:] and set(types[2:]) == {"ANN"}


def test_self_managed_similar_to_and_mmr_use_the_stored_vectors(
    hashed: Any, vector_search: VectorSearchEmulator
) -> None:
    index, embeddings = hashed
    reader = make_index_like(index, embeddings)  # a new process: nothing embedded in memory
    embeddings.embedded.clear()
    before = len(vector_search.calls("GET", r"/query$"))
    similar = reader.similar_to(1200, k=5)
    diverse = reader.search("space opera with jedi", k=6, mmr=0.3)
    plain = reader.search("space opera with jedi", k=6)
    assert len(similar) == 5 and 1200 not in {h.movie_id for h in similar}
    assert len(diverse) == 6 and [h.movie_id for h in diverse] != [h.movie_id for h in plain]
    assert embeddings.embedded == []
    columns = [r.body["columns"] for r in vector_search.calls("GET", r"/query$")[before:]]
    assert "document_vector" in columns[0]  # the seed
    assert "document_vector" in columns[-2]  # the MMR pool
    assert "document_vector" not in columns[-1]  # a plain search


def test_without_stored_vectors_documents_are_embedded_again(rows: list[dict[str, Any]]) -> None:
    with VectorSearchEmulator(return_vectors=False) as workspace:
        embeddings = HashEmbeddings()
        make_index(workspace, embeddings).build(to_table(rows))
        reader = make_index(workspace, embeddings)
        embeddings.embedded.clear()
        similar = reader.similar_to(1200, k=5)
        seed = next(r for r in rows if r["movie_id"] == 1200)
        assert embeddings.embedded == [seed["document"]]
        assert len(similar) == 5 and 1200 not in {h.movie_id for h in similar}
        diverse = reader.search("space opera with jedi", k=6, mmr=0.3)
        assert len(diverse) == 6 and len(embeddings.embedded) > 1


def test_similar_to_with_managed_embeddings(
    managed: DatabricksVectorIndex, rows: list[dict[str, Any]]
) -> None:
    hits = managed.similar_to(1200, k=5)
    assert len(hits) == 5 and 1200 not in {h.movie_id for h in hits}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    filters = SearchFilters(year_min=1990, genres_any=["Sci-Fi"])
    narrowed = managed.similar_to(1200, k=50, filters=filters)
    assert {h.movie_id for h in narrowed} == {
        r["movie_id"] for r in rows if filters.matches(r) and r["movie_id"] != 1200
    }
    with pytest.raises(UnknownMovieError, match="movie_id 4242"):
        managed.similar_to(4242)
    assert managed.similar_to(1200, k=0) == []


def test_mmr_with_managed_embeddings_diversifies_on_words(managed: DatabricksVectorIndex) -> None:
    plain = managed.search("space opera jedi empire", k=6)
    diverse = managed.search("space opera jedi empire", k=6, mmr=0.2)
    assert len(diverse) == 6
    assert diverse[0].movie_id == plain[0].movie_id
    assert [h.movie_id for h in diverse] != [h.movie_id for h in plain]


def test_bad_arguments_are_rejected_before_any_request(managed: DatabricksVectorIndex) -> None:
    with pytest.raises(ValueError, match="mode"):
        managed.search("x", mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mmr"):
        managed.search("x", mmr=-0.1)
    with pytest.raises(ValueError, match="k must"):
        managed.similar_to(1, k=-1)
    assert managed.search("x", k=3, filters=SearchFilters(include_ids=[])) == []


# -- the manager ------------------------------------------------------------------------------


def test_manager_builds_managed_embeddings_from_settings(
    vector_search: VectorSearchEmulator, uc_table: Path, tmp_path: Path
) -> None:
    settings = MovieRagSettings(
        backend="databricks",
        catalog="main",
        workdir=tmp_path,
        databricks_host=vector_search.url,
        databricks_token=vector_search.token,
    )
    manager = VectorIndexManager(settings, index=None)
    assert isinstance(manager.index, DatabricksVectorIndex) and manager.index.managed
    assert manager.index.index_name == INDEX
    manager.index.poll_interval = 0.01
    assert manager.build().added == len(movie_rows())
    docs = manager.as_retriever(k=3).invoke("dinosaurs on an island")
    assert len(docs) == 3 and all("user_tags" not in d.metadata for d in docs)


def test_manager_uses_self_managed_embeddings_when_given_an_embedder(
    vector_search: VectorSearchEmulator, tmp_path: Path, rows: list[dict[str, Any]]
) -> None:
    settings = MovieRagSettings(
        backend="databricks",
        catalog="main",
        workdir=tmp_path,
        embedding_model="databricks-gte-large-en",
        databricks_host=vector_search.url,
        databricks_token=vector_search.token,
    )
    manager = VectorIndexManager(settings, embeddings=HashEmbeddings())  # type: ignore[arg-type]
    assert not manager.index.managed  # type: ignore[attr-defined]
    assert manager.build(to_table(rows)).added == len(rows)
    assert manager.search("jedi", k=2, filters={"year_max": 1979})[0].metadata["year"] <= 1979
    managed = VectorIndexManager(settings).index
    assert managed.embedding_endpoint == "databricks-gte-large-en"  # type: ignore[attr-defined]


def test_manager_without_a_workspace_says_how_to_configure_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_RUNTIME_VERSION"):
        monkeypatch.delenv(name, raising=False)
    settings = MovieRagSettings(backend="databricks", workdir=tmp_path)
    with pytest.raises(ConfigurationError, match="MOVIE_RAG_DATABRICKS_HOST"):
        VectorIndexManager(settings)


def test_importing_the_backend_loads_no_client() -> None:
    import subprocess

    code = (
        "import sys\n"
        "import movie_rag.index.databricks\n"
        "heavy = [m for m in sys.modules if m.startswith(('databricks', 'mlflow', 'torch'))]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the emulator rejects what the real API rejects -------------------------------------------


@pytest.fixture
def client(vector_search: VectorSearchEmulator) -> Any:
    from databricks.ai_search.client import AISearchClient

    return AISearchClient(
        workspace_url=vector_search.url,
        personal_access_token=vector_search.token,
        disable_notice=True,
    )


@pytest.fixture
def direct(client: Any) -> Any:
    client.create_endpoint(ENDPOINT)
    index = client.create_direct_access_index(
        ENDPOINT,
        "main.s.vectors",
        "id",
        3,
        "vec",
        {"id": "long", "tag": "string", "n": "double", "vec": "array<float>"},
    )
    answer = index.upsert(
        [
            {"id": 1, "tag": "red apple", "n": 1.0, "vec": [1, 0, 0]},
            {"id": 2, "tag": "green pear", "n": 2.0, "vec": [0, 1, 0]},
            {"id": 3, "tag": "red cherry", "n": 3.0, "vec": [0, 0, 1]},
        ]
    )
    assert answer["status"] == "SUCCESS"
    return index


def test_emulator_query_is_a_get_with_a_json_body_and_delete_data_a_delete(
    direct: Any, vector_search: VectorSearchEmulator
) -> None:
    result = direct.similarity_search(
        columns=["id", "tag"], query_vector=[1, 0.2, 0], num_results=2, filters={"tag": "red apple"}
    )
    assert result["result"]["data_array"][0][:2] == [1, "red apple"]
    assert result["manifest"]["columns"][-1] == {"name": "score"}
    query = vector_search.calls("GET", r"/query$")[-1]
    assert query.body["num_results"] == 2 and json.loads(query.body["filters_json"]) == {
        "tag": "red apple"
    }
    direct.delete(["2"])
    assert vector_search.calls("DELETE", r"/delete-data$")[-1].body == {"primary_keys": ["2"]}
    assert set(vector_search.index_rows("main.s.vectors")) == {1, 3}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"num_results": 0}, "between 1 and 10000"),
        ({"num_results": 10_001}, "between 1 and 10000"),
        ({"columns": ["id", "colour"]}, "not present in index: colour"),
        ({"filters": {"n !=": 2}}, "Unsupported filter operator"),
        ({"filters": {"colour": "red"}}, "does not exist"),
        ({"filters": {"tag >": 2}}, "not supported on column 'tag'"),
        ({"filters": {"n >=": "two"}}, "numeric value"),
        ({"filters": {"tag OR n": ["red"]}}, "one value per column"),
        ({"filters": "n >= 2"}, "standard endpoints take filters_json"),
        ({"query_vector": [1, 0]}, "dimension 2 does not match"),
        ({"query_vector": None, "query_text": "red"}, "query_vector is required"),
        ({"query_text": "red"}, "both query_vector and query_text"),
        ({"query_text": None, "query_type": "hybrid"}, "query_text is required for a HYBRID"),
        ({"query_type": "full_text", "query_text": "red"}, "STORAGE_OPTIMIZED"),
    ],
)
def test_emulator_rejects_bad_queries_like_the_service(
    direct: Any, arguments: dict[str, Any], message: str
) -> None:
    from databricks.ai_search.exceptions import BadRequest

    call: dict[str, Any] = {
        "columns": ["id"],
        "query_vector": [1, 0, 0],
        "num_results": 2,
        "total_retries": 0,
    }
    call.update(arguments)
    with pytest.raises(BadRequest, match=message) as caught:
        direct.similarity_search(**{k: v for k, v in call.items() if v is not None})
    assert caught.value.status_code == 400
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_emulator_filter_semantics_follow_the_filtering_guide(direct: Any) -> None:
    def ids(filters: Any) -> set[int]:
        result = direct.similarity_search(
            columns=["id"], query_vector=[1, 1, 1], num_results=10, filters=filters
        )
        return {row[0] for row in result["result"]["data_array"]}

    assert ids({"tag": ["red apple", "green pear"]}) == {1, 2}
    assert ids({"id NOT": 2}) == {1, 3}
    assert ids({"n >": 1, "n <=": 3}) == {2, 3}
    assert ids({"tag LIKE": "red"}) == {1, 3}
    assert ids({"tag OR n": ["green pear", 3]}) == {2, 3}
    assert ids([{"tag LIKE": "red"}, {"n <": 3}]) == {1}


def test_emulator_rejects_bad_writes_and_definitions(client: Any, direct: Any) -> None:
    from databricks.ai_search.exceptions import BadRequest, ResourceConflict

    answer = direct.upsert(
        [
            {"id": 4, "vec": [1, 0]},
            {"id": 5, "colour": "red", "vec": [1, 0, 0]},
            {"id": 6, "n": "six", "vec": [1, 0, 0]},
            {"id": 7, "vec": [0, 1, 1]},
        ]
    )
    assert answer == {
        "status": "PARTIAL_SUCCESS",
        "result": {"success_row_count": 1, "failed_primary_keys": ["4", "5", "6"]},
    }
    schema = {"id": "long", "vec": "array<float>"}
    with pytest.raises(BadRequest, match=r"Invalid index name\. Must specify the full index name"):
        client.create_direct_access_index(ENDPOINT, "vectors", "id", 3, "vec", schema)
    with pytest.raises(BadRequest, match="Unsupported type 'array<string>'"):
        client.create_direct_access_index(
            ENDPOINT, "main.s.other", "id", 3, "vec", {**schema, "tags": "array<string>"}
        )
    with pytest.raises(ResourceConflict, match="already exists"):
        client.create_direct_access_index(ENDPOINT, "main.s.vectors", "id", 3, "vec", schema)
    with pytest.raises(BadRequest, match="not a Delta Sync index"):
        direct.sync()


def test_emulator_rejects_bad_delta_sync_definitions(
    client: Any, vector_search: VectorSearchEmulator, tmp_path: Path
) -> None:
    from databricks.ai_search.exceptions import BadRequest, NotFound

    client.create_endpoint(ENDPOINT)
    write_table(tmp_path / "t", movie_rows()[:3])
    vector_search.register_table("main.s.plain", tmp_path / "t", change_data_feed=False)
    vector_search.register_table(TABLE, tmp_path / "t")

    def create(**changes: Any) -> Any:
        arguments: dict[str, Any] = {
            "endpoint_name": ENDPOINT,
            "index_name": "main.s.synced",
            "primary_key": "movie_id",
            "source_table_name": TABLE,
            "pipeline_type": "TRIGGERED",
            "embedding_source_column": "document",
            "embedding_model_endpoint_name": "databricks-bge-large-en",
        }
        arguments.update(changes)
        return client.create_delta_sync_index(**arguments)

    with pytest.raises(BadRequest, match="Change data feed is not enabled"):
        create(source_table_name="main.s.plain")
    with pytest.raises(NotFound, match="does not exist"):
        create(source_table_name="main.s.missing")
    with pytest.raises(BadRequest, match="Failed to call Model Serving endpoint: bge-small-en"):
        create(embedding_model_endpoint_name="bge-small-en")
    with pytest.raises(BadRequest, match="in columns_to_sync do not exist"):
        create(columns_to_sync=["title", "colour"])
    with pytest.raises(BadRequest, match="must be of type string"):
        create(embedding_source_column="year")
    continuous = create(index_name="main.s.continuous", pipeline_type="CONTINUOUS")
    with pytest.raises(BadRequest, match="only TRIGGERED pipelines"):
        continuous.sync()
    synced = create()
    with pytest.raises(BadRequest, match="upsert-data only works on Direct Vector Access"):
        synced.upsert([{"movie_id": 1}])
    assert synced.describe()["status"]["detailed_state"] == "ONLINE_NO_PENDING_UPDATE"
    assert len(vector_search.index_rows("main.s.synced")) == 3


def test_emulator_requires_the_token(vector_search: VectorSearchEmulator) -> None:
    url = f"{vector_search.url}/api/2.0/vector-search/endpoints"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 401 and missing.json()["error_code"] == "UNAUTHENTICATED"
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 403 and wrong.json()["error_code"] == "PERMISSION_DENIED"
    right = requests.get(url, headers={"Authorization": f"Bearer {vector_search.token}"}, timeout=5)
    assert right.json() == {"endpoints": []}


def test_emulator_endpoint_states_and_quota() -> None:
    from databricks.ai_search.exceptions import BadRequest, ResourceConflict

    with VectorSearchEmulator(endpoint_delay=0.2, max_endpoints=1) as workspace:
        from databricks.ai_search.client import AISearchClient

        slow = AISearchClient(
            workspace_url=workspace.url, personal_access_token=workspace.token, disable_notice=True
        )
        created = slow.create_endpoint("ep")
        assert created["endpoint"]["endpoint_status"]["state"] == "PROVISIONING"
        with pytest.raises(ResourceConflict):
            slow.create_endpoint("ep")
        with pytest.raises(
            BadRequest, match=r"QUOTA_EXCEEDED.*Maximum number of vector search endpoints"
        ):
            slow.create_endpoint("second")
        time.sleep(0.25)
        assert slow.get_endpoint("ep")["endpoint_status"]["state"] == "ONLINE"


def test_emulator_pages_long_results_like_the_service(
    client: Any, vector_search: VectorSearchEmulator
) -> None:
    client.create_endpoint(ENDPOINT)
    index = client.create_direct_access_index(
        ENDPOINT, "main.s.many", "id", 2, "vec", {"id": "long", "vec": "array<float>"}
    )
    index.upsert([{"id": i, "vec": [1.0, i / 1200]} for i in range(1200)])
    result = index.similarity_search(columns=["id"], query_vector=[1.0, 0.0], num_results=1500)
    assert result["result"]["row_count"] == 1200
    assert len({row[0] for row in result["result"]["data_array"]}) == 1200
    assert len(vector_search.calls("GET", r"/query-next-page$")) == 1
    scanned = index.scan(num_results=1000)
    assert len(scanned["data"]) == 1000 and scanned["last_primary_key"] == "999"
    rest = index.scan(num_results=1000, last_primary_key="999")
    assert len(rest["data"]) == 200


def test_stand_in_embedding_is_deterministic_and_normalised() -> None:
    first = stand_in_embedding("A space opera with rebels", 1024)
    assert first == stand_in_embedding("A space opera with rebels", 1024)
    assert len(first) == 1024 and abs(sum(v * v for v in first) - 1.0) < 1e-9
    near = stand_in_embedding("space opera rebels", 1024)
    far = stand_in_embedding("a quiet village baker", 1024)
    assert sum(a * b for a, b in zip(first, near, strict=True)) > sum(
        a * b for a, b in zip(first, far, strict=True)
    )


# -- notebook 02 ------------------------------------------------------------------------------


def _shim() -> ModuleType:
    name = "notebook_shim"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "notebooks" / "_shim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


NOTEBOOK = REPO_ROOT / "notebooks" / "02_vector_index.py"


def test_notebook_declares_the_widgets_it_reads() -> None:
    source = NOTEBOOK.read_text(encoding="utf-8")
    for name in ("catalog", "silver_schema", "endpoint_name", "index_name", "embedding_endpoint"):
        assert f'dbutils.widgets.text("{name}"' in source
        assert f'dbutils.widgets.get("{name}")' in source


def test_notebook_builds_a_vector_search_index_on_the_workspace(
    vector_search: VectorSearchEmulator,
    uc_table: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", vector_search.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", vector_search.token)
    widgets = {
        "backend": "databricks",
        "catalog": "main",
        "workdir": str(tmp_path),
        "timeout_minutes": "0.1",
    }
    namespace = _shim().run_notebook(NOTEBOOK, widgets, spark=object())
    assert namespace["report"].added == len(movie_rows())
    assert namespace["status"].ready and namespace["status"].location == INDEX
    shown = namespace["display"].shown
    assert len(shown) == 3 and all(len(frame) == 5 for frame in shown)
    assert namespace["seed"].movie_id not in set(shown[2]["movie_id"])
    assert "databricks-gte-large-en (1024-d)" in capsys.readouterr().out
    again = _shim().run_notebook(NOTEBOOK, widgets, spark=object())
    assert again["report"].embedded == 0 and again["report"].unchanged == len(movie_rows())


@pytest.mark.slow
def test_notebook_builds_the_local_index_on_the_sample(
    tmp_path: Path, rows: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    from movie_rag import Workdir

    write_table(Workdir(tmp_path).table("movies_info"), rows)
    namespace = _shim().run_notebook(NOTEBOOK, {"workdir": str(tmp_path)}, spark=object())
    assert namespace["settings"].backend == "local"
    assert namespace["status"].ready and namespace["status"].row_count == len(rows)
    space, scary, similar = namespace["display"].shown
    assert space["movie_id"].iloc[0] in {260, 1196}  # Star Wars
    assert all(set(g.split(", ")) & {"Horror", "Thriller"} for g in scary["genres"])
    assert namespace["seed"].movie_id not in set(similar["movie_id"])
    assert "all-MiniLM-L6-v2 (384-d)" in capsys.readouterr().out


# -- a real workspace -------------------------------------------------------------------------


@pytest.mark.databricks_live
@pytest.mark.skipif(
    not os.environ.get("DATABRICKS_HOST"),
    reason="talks to a real workspace: set DATABRICKS_HOST, DATABRICKS_TOKEN and "
    "MOVIE_RAG_LIVE_TABLE (a movies_info table with change data feed)",
)
def test_live_workspace_builds_and_searches_a_managed_index() -> None:
    table = os.environ.get("MOVIE_RAG_LIVE_TABLE")
    if not table:
        pytest.fail("MOVIE_RAG_LIVE_TABLE must name the movies_info table (catalog.schema.table)")
    catalog, schema, _ = table.split(".")
    index = DatabricksVectorIndex(
        os.environ.get("MOVIE_RAG_LIVE_INDEX", f"{catalog}.{schema}.movie_rag_live_test_index"),
        os.environ.get("MOVIE_RAG_LIVE_ENDPOINT", ENDPOINT),
        poll_interval=30,
        timeout=3600,
    )
    report = index.build(table)
    assert index.describe().ready and report.total > 0
    hits = index.search("a heist that goes wrong", k=5, filters=SearchFilters(year_min=1990))
    assert len(hits) == 5 and all(h.metadata["year"] >= 1990 for h in hits)
    assert index.build(table).embedded == 0
