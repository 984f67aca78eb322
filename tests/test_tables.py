"""TableStore on local Spark: overwrite, merge statistics, atomic swap, reading without Spark."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from movie_rag.errors import InputFileError
from movie_rag.settings import MovieRagSettings
from movie_rag.spark import arrow_to_spark
from movie_rag.tables import TableStore, read_local_table

pytestmark = pytest.mark.spark


def _table(rows: dict[int, str]) -> pa.Table:
    return pa.table(
        {
            "movie_id": pa.array(list(rows), pa.int32()),
            "content_hash": pa.array(list(rows.values()), pa.string()),
        }
    )


@pytest.fixture
def store(spark, tmp_path: Path) -> TableStore:
    return TableStore(spark, MovieRagSettings(workdir=tmp_path))


def test_local_tables_are_parquet_directories(store: TableStore, tmp_path: Path) -> None:
    assert store.format == "parquet"
    store.write(arrow_to_spark(store.spark, _table({1: "a", 2: "b"})), "things")
    assert store.location("things") == str(tmp_path / "tables" / "things")
    assert read_local_table(tmp_path / "tables" / "things").num_rows == 2
    assert store.read("things").count() == 2


@pytest.mark.parametrize("as_spark", [True, False], ids=["spark-dataframe", "arrow"])
def test_merge_reports_what_changed(store: TableStore, as_spark: bool) -> None:
    def data(rows: dict[int, str]):
        return arrow_to_spark(store.spark, _table(rows)) if as_spark else _table(rows)

    first = store.merge(data({1: "a", 2: "b", 3: "c"}), "m", "movie_id")
    assert (first.inserted, first.updated, first.deleted, first.unchanged) == (3, 0, 0, 0)
    second = store.merge(data({1: "a", 2: "B", 4: "d"}), "m", "movie_id")
    assert (second.inserted, second.updated, second.deleted, second.unchanged) == (1, 1, 1, 1)
    content = read_local_table(store.location("m")).sort_by("movie_id").to_pylist()
    assert content == [
        {"movie_id": 1, "content_hash": "a"},
        {"movie_id": 2, "content_hash": "B"},
        {"movie_id": 4, "content_hash": "d"},
    ]


def test_overwrite_swaps_atomically_for_readers(store: TableStore) -> None:
    spark = store.spark
    store.write(_table({i: "old" for i in range(1, 201)}), "swap")
    seen: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(read_local_table(store.location("swap")).num_rows)
            except (InputFileError, FileNotFoundError, OSError):
                # The rename window: the directory is briefly absent, never half-written.
                continue

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            store.write(arrow_to_spark(spark, _table({i: "new" for i in range(1, 301)})), "swap")
            store.write(_table({i: "old" for i in range(1, 201)}), "swap")
    finally:
        stop.set()
        thread.join()
    assert seen and set(seen) <= {200, 300}
    leftovers = [
        p.name for p in Path(store.location("swap")).parent.iterdir() if ".staging" in p.name
    ]
    assert leftovers == []


def test_reading_a_missing_table_says_what_to_do(store: TableStore, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="movie-rag build"):
        store.read("nothing")
    with pytest.raises(InputFileError, match="movie-rag build"):
        read_local_table(tmp_path / "tables" / "nothing")


def test_quarantine_is_replaced_per_build(store: TableStore, tmp_path: Path) -> None:
    row = {"source": "movielens_ratings", "path": "r.csv", "row": 3, "field": "rating"}
    store.write_quarantine([dict(row, reason="not a number", raw="1,2,x,3")])
    written = read_local_table(tmp_path / "quarantine" / "movielens_ratings")
    assert written.to_pylist()[0]["reason"] == "not a number"
    store.write_quarantine([])
    assert not (tmp_path / "quarantine" / "movielens_ratings").exists()
