"""Column visibility: declared once in the movies_info schema, obeyed by every consumer.

The end-to-end test plants a marker in ``user_tags`` (internal) and follows one catalogue
through the local index, the chain, a logged (served) model and the logs: the marker must
never come out, while the public columns it travels with do.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pyarrow as pa
import pytest

from movie_rag.catalog import (
    COLUMN_VISIBILITY,
    INTERNAL_COLUMNS,
    MOVIES_INFO_SCHEMA,
    PROMPT_COLUMNS,
    PUBLIC_COLUMNS,
    RETRIEVAL_COLUMNS,
    VISIBILITY_LEVELS,
    columns_above,
    restrict,
)
from third_party_warnings import MLFLOW_WARNINGS

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: Never part of a document or any public column: if it shows up anywhere, user_tags leaked.
MARKER = "zq-private-user-tag-7f3a"

_MOVIES = [
    (1, "Toy Story", 1995, ["Adventure", "Animation", "Comedy"], "A cowboy doll and a space toy."),
    (2, "Heat", 1995, ["Action", "Crime", "Thriller"], "A detective hunts a professional thief."),
    (3, "Se7en", 1995, ["Crime", "Mystery", "Thriller"], "Two detectives chase a serial killer."),
    (4, "Babe", 1995, ["Children", "Comedy", "Drama"], "A pig learns to herd sheep on a farm."),
    (5, "Casino", 1995, ["Crime", "Drama"], "Greed and mob ties undo a Las Vegas casino boss."),
    (6, "Clueless", 1995, ["Comedy", "Romance"], "A rich high school student plays matchmaker."),
]


def _catalogue() -> pa.Table:
    rows = []
    for movie_id, title, year, genres, overview in _MOVIES:
        document = f"{title} ({year}). Genres: {', '.join(genres)}. {overview}"
        rows.append(
            {
                "movie_id": movie_id,
                "title": title,
                "year": year,
                "genres": genres,
                "overview": overview,
                "directors": ["Some Director"],
                "cast": ["Some Actor"],
                "keywords": ["keyword"],
                "genome_tags": [{"tag": "atmospheric", "relevance": 0.9}],
                "user_tags": [MARKER, f"{MARKER}-{movie_id}"],
                "rating": 7.5,
                "votes": 100_000,
                "ml_rating_mean": 3.9,
                "ml_rating_count": 500,
                "ml_rating_bayes": 3.8,
                "sources": ["movielens"],
                "document": document,
                "content_hash": hashlib.sha256(document.encode()).hexdigest(),
            }
        )
    return pa.Table.from_pylist(rows, schema=MOVIES_INFO_SCHEMA)


# -- the contract ----------------------------------------------------------------------------


def test_every_movies_info_column_declares_one_visibility() -> None:
    assert list(COLUMN_VISIBILITY) == MOVIES_INFO_SCHEMA.names
    assert set(COLUMN_VISIBILITY.values()) <= set(VISIBILITY_LEVELS)
    sets = (PUBLIC_COLUMNS, PROMPT_COLUMNS, RETRIEVAL_COLUMNS, INTERNAL_COLUMNS)
    assert sum(len(s) for s in sets) == len(MOVIES_INFO_SCHEMA.names)
    assert frozenset().union(*sets) == frozenset(MOVIES_INFO_SCHEMA.names)
    assert "user_tags" in INTERNAL_COLUMNS
    assert {"title", "year", "genres", "overview"} <= PUBLIC_COLUMNS


def test_the_ladder_hides_each_level_from_the_audiences_before_it() -> None:
    assert columns_above("internal") == frozenset()
    assert columns_above("retrieval") == INTERNAL_COLUMNS
    assert columns_above("prompt") == INTERNAL_COLUMNS | RETRIEVAL_COLUMNS
    assert columns_above("public") == frozenset(MOVIES_INFO_SCHEMA.names) - PUBLIC_COLUMNS
    with pytest.raises(ValueError, match="unknown visibility"):
        columns_above("secret")  # type: ignore[arg-type]


def test_restrict_drops_only_the_hidden_schema_columns() -> None:
    table = _catalogue().append_column("extra", pa.array([1] * len(_MOVIES)))
    public = restrict(table, "public")
    assert set(public.column_names) == (PUBLIC_COLUMNS & set(table.column_names)) | {"extra"}
    assert "user_tags" not in restrict(table, "retrieval").column_names
    assert "document" in restrict(table, "retrieval").column_names


def test_the_consumers_take_their_column_lists_from_the_catalog() -> None:
    from movie_rag.chain.safety import INTERNAL_FIELDS, scrub_internal
    from movie_rag.index.base import HIDDEN_COLUMNS

    assert HIDDEN_COLUMNS == INTERNAL_COLUMNS
    assert set(INTERNAL_FIELDS) == columns_above("public")
    assert MARKER not in scrub_internal(f'{{"title": "Heat", "user_tags": ["{MARKER}"]}}')


# -- end to end: index, answer, served artifact, log -----------------------------------------


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from movie_rag.index import LocalEmbeddings, LocalVectorIndex
    from movie_rag.workdir import Workdir

    root = tmp_path_factory.mktemp("visibility") / "workdir"
    LocalVectorIndex(Workdir(root).index, LocalEmbeddings()).build(_catalogue())
    return root


@pytest.mark.slow
@pytest.mark.filterwarnings(*MLFLOW_WARNINGS)
def test_no_internal_column_reaches_an_index_answer_artifact_or_log(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import pyarrow.parquet as pq

    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.publish import ModelPublisher
    from movie_rag.settings import MovieRagSettings

    settings = MovieRagSettings(workdir=workdir)
    caplog.set_level(logging.DEBUG)
    table = _catalogue()
    needle = MARKER.encode()
    assert MARKER in table.column("user_tags").to_pylist()[0]  # the marker is there to leak

    # The index: the stored metadata carries no internal column and no internal value.
    stored = [pq.read_schema(p).names for p in (workdir / "index").rglob("*.parquet")]
    assert stored and all(not INTERNAL_COLUMNS & set(names) for names in stored)
    assert _files_containing(workdir / "index", needle) == []

    # Answers (and every hit the chain saw on the way) carry public columns, never user_tags.
    chain = RecommenderChain.from_settings(settings, movies_info=table)
    for question in ("a crime thriller from 1995", "something like Toy Story", "a comedy"):
        response = chain.invoke(question)
        dumped = response.model_dump_json()
        assert response.recommendations, question
        assert MARKER not in dumped and "user_tags" not in dumped

    # The served artifact: the logged model's files (catalogue, index copy, config).
    publisher = ModelPublisher(settings)
    publisher.log(movies_info=table)
    artifacts = list(publisher.workdir.mlflow.rglob("movies_info.parquet"))
    assert artifacts and all("user_tags" not in pq.read_schema(p).names for p in artifacts)
    assert "title" in pq.read_schema(artifacts[0]).names
    # Everything written under the workdir: index, registry, artifacts, logs.
    assert _files_containing(workdir, needle) == []

    # The logs of all of the above.
    assert caplog.records
    assert MARKER not in caplog.text
