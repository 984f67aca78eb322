"""Supported runtimes: the Arrow ↔ Spark conversions, and the real build on every runtime.

The conversion tests run on whatever Spark this environment has. The matrix tests read the
summaries scripts/_matrix.sh left (the real data built on pyspark 3.5 + Python 3.12 and on
Spark Connect, each in its own venv) and hold each equal to this environment's build:
identical movies_info content hashes, identical collaborative counts (ALS included).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA, MOVIES_INFO_SCHEMA
from movie_rag.spark import arrow_to_spark, is_connect, spark_to_arrow

pytestmark = pytest.mark.spark

_ROW = {
    "movie_id": 1,
    "title": "A",
    "year": None,
    "genres": ["x", "y"],
    "imdb_id": None,
    "tmdb_id": None,
    "overview": None,
    "directors": [],
    "cast": None,
    "keywords": ["k"],
    "genome_tags": [{"tag": "t", "relevance": 0.5}],
    "user_tags": [],
    "ml_rating_mean": None,
    "ml_rating_count": None,
    "ml_rating_bayes": 1.5,
    "imdb_rating": None,
    "imdb_votes": 2**60 + 1,  # beyond float64's exact integers
    "rating": None,
    "votes": None,
    "url": "u",
    "sources": ["s"],
    "document": "d",
    "content_hash": "h",
}


def _rows() -> pa.Table:
    other = {k: None for k in _ROW} | {"movie_id": 2, "votes": 2**60 + 3, "year": 1999}
    return pa.Table.from_pylist([_ROW, other], schema=MOVIES_INFO_SCHEMA)


def test_round_trip_is_exact(spark) -> None:
    table = _rows()
    frame = arrow_to_spark(spark, table)
    assert [f.name for f in frame.schema] == MOVIES_INFO_SCHEMA.names
    back = spark_to_arrow(frame.orderBy("movie_id"))
    assert back.schema.names == MOVIES_INFO_SCHEMA.names
    assert back.to_pylist() == table.to_pylist()
    assert back.cast(MOVIES_INFO_SCHEMA).equals(table)
    assert spark_to_arrow(frame.orderBy("movie_id"), MOVIES_INFO_SCHEMA).equals(table)


def test_empty_tables_keep_their_schema(spark) -> None:
    frame = arrow_to_spark(spark, IMDB_RECORD_SCHEMA.empty_table())
    assert frame.count() == 0
    assert [f.name for f in frame.schema] == IMDB_RECORD_SCHEMA.names
    assert spark_to_arrow(frame).num_rows == 0
    assert spark_to_arrow(frame, IMDB_RECORD_SCHEMA).schema == IMDB_RECORD_SCHEMA


def test_schema_selects_and_casts(spark) -> None:
    frame = arrow_to_spark(spark, _rows())
    wanted = pa.schema([("title", pa.large_string()), ("movie_id", pa.int64())])
    got = spark_to_arrow(frame.orderBy("movie_id"), wanted)
    assert got.schema == wanted
    assert got.column("movie_id").to_pylist() == [1, 2]


def test_the_session_kind_is_reported(spark) -> None:
    expected = bool(os.environ.get("SPARK_REMOTE"))
    assert is_connect(spark) is expected


# -- the runtime matrix ------------------------------------------------------------------------


def _results() -> list[Path]:
    directory = os.environ.get("MOVIE_RAG_RUNTIME_RESULTS")
    matrix = os.environ.get("MOVIE_RAG_MATRIX", "")
    if not directory or matrix == "none":
        message = "the runtime matrix did not run (scripts/test.sh runs it; MOVIE_RAG_MATRIX)"
        if os.environ.get("CI", "").lower() == "true" and matrix != "none":
            pytest.fail(message)
        pytest.skip(message)
    found = sorted(Path(directory).glob("*.json"))
    names = matrix.split()
    missing = [name for name in names if not (Path(directory) / f"{name}.json").exists()]
    assert not missing, f"runtimes that left no summary: {missing} (see .venv-matrix/*/build.log)"
    return found


@pytest.mark.slow
def test_every_runtime_builds_the_same_catalogue(real_build) -> None:
    from movie_rag.tables import read_local_table

    _settings, report = real_build
    table = read_local_table(report.table)
    expected = dict(
        zip(
            (str(m) for m in table.column("movie_id").to_pylist()),
            table.column("content_hash").to_pylist(),
            strict=True,
        )
    )
    # Which engine trained (and how long it took) differ by design; the counts must not.
    engine_keys = {"seconds", "spark_als"}
    counts = {k: v for k, v in (report.collab or {}).items() if k not in engine_keys}
    seen = []
    for path in _results():
        summary = json.loads(path.read_text())
        name = path.stem
        assert "error" not in summary, f"{name}: {summary.get('error')}"
        assert summary["rows"] == report.rows, name
        differing = [m for m, h in expected.items() if summary["content_hashes"].get(m) != h]
        assert summary["content_hashes"].keys() == expected.keys(), name
        assert not differing, f"{name}: content hashes differ for movies {differing[:10]}"
        collab = summary["collab"] or {}
        # The build report keeps its counts as numbers: True is 1.
        assert collab.get("spark_als") == 1, f"{name}: ALS did not run on Spark"
        got = {k: v for k, v in collab.items() if k not in engine_keys}
        assert got == counts, name
        assert got["movies_with_factors"] > 0 and got["users"] > 0, f"{name}: ALS trained nothing"
        seen.append((name, summary["python"], summary["pyspark"], summary["mode"]))
    assert seen, "no runtime summaries"
