"""LocalVectorIndex specifics: persistence, incremental sync, atomic swaps, mismatches."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sample_movies import CountingEncoder, content_hash, document_for, movies_table, to_table

from movie_rag.errors import DataValidationError, InputFileError
from movie_rag.index import (
    IndexMismatchError,
    IndexNotReadyError,
    LocalEmbeddings,
    LocalVectorIndex,
    SearchFilters,
)

pytestmark = pytest.mark.slow


def _live_version(index: LocalVectorIndex) -> Path:
    return index.path / (index.path / "CURRENT").read_text().strip()


def _edit(row: dict[str, Any], **changes: Any) -> None:
    row.update(changes)
    row["document"] = document_for(row)
    row["content_hash"] = content_hash(row)


# -- persistence ------------------------------------------------------------------------


def test_build_persists_vectors_metadata_and_manifest(
    local_index: LocalVectorIndex, rows: list[dict[str, Any]]
) -> None:
    version = _live_version(local_index)
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["model_name"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["row_count"] == len(rows)
    assert len(manifest["table_fingerprint"]) == 64
    vectors = np.load(version / "vectors.npy")
    assert vectors.dtype == np.float32 and vectors.shape == (len(rows), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    metadata = pq.read_table(version / "metadata.parquet")
    assert "user_tags" not in metadata.column_names
    assert metadata.column("movie_id").to_pylist() == sorted(row["movie_id"] for row in rows)


def test_a_new_reader_finds_the_same_results(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    reopened = LocalVectorIndex(local_index.path, embeddings)
    for query in ("space creature", "romantic comedy", "prison escape"):
        assert reopened.search(query, k=5) == local_index.search(query, k=5)


def test_hybrid_search_reads_the_saved_bm25_postings_or_builds_them(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    saved = _live_version(local_index) / "bm25.npz"
    assert saved.is_file()
    queries = ("space creature", "romantic comedy in new york", "prison escape")
    with_file = [local_index.search(q, k=5, mode="hybrid") for q in queries]
    saved.unlink()  # a version written before the postings were saved with it
    rebuilt = LocalVectorIndex(local_index.path, embeddings)
    assert [rebuilt.search(q, k=5, mode="hybrid") for q in queries] == with_file


def test_exact_search_agrees_with_faiss(local_index: LocalVectorIndex) -> None:
    faiss = pytest.importorskip("faiss")
    vectors = np.load(_live_version(local_index) / "vectors.npy")
    ids = pq.read_table(_live_version(local_index) / "metadata.parquet")["movie_id"].to_numpy()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    for query in ("heist gone wrong", "animated family film", "war", "haunted", "future"):
        q = local_index.embeddings.encode_query(query)
        scores, rows = flat.search(q[None, :], 8)
        hits = local_index.search(query, k=8)
        assert [hit.movie_id for hit in hits] == ids[rows[0]].tolist()
        np.testing.assert_allclose([hit.score for hit in hits], scores[0], atol=1e-5)


def test_build_reads_a_parquet_directory(
    tmp_path: Path, rows: list[dict[str, Any]], counting: CountingEncoder
) -> None:
    table_dir = tmp_path / "tables" / "movies_info"
    table_dir.mkdir(parents=True)
    table = to_table(rows)
    # Spark leaves several part files and marker files beside them.
    pq.write_table(table.slice(0, 20), table_dir / "part-00000.parquet")
    pq.write_table(table.slice(20), table_dir / "part-00001.parquet")
    (table_dir / "_SUCCESS").write_text("")
    index = LocalVectorIndex(tmp_path / "index", counting, use_cache=False)
    report = index.build(table_dir)
    assert report.added == len(rows) == report.embedded
    assert index.search("bowling and a stolen rug", k=1)[0].movie_id == 1732


def test_missing_table_directory_is_a_clear_error(
    tmp_path: Path, counting: CountingEncoder
) -> None:
    index = LocalVectorIndex(tmp_path / "index", counting)
    with pytest.raises(InputFileError, match="movie-rag build"):
        index.build(tmp_path / "tables" / "movies_info")


def test_invalid_tables_are_rejected(
    tmp_path: Path, rows: list[dict[str, Any]], counting: CountingEncoder
) -> None:
    index = LocalVectorIndex(tmp_path / "index", counting)
    duplicated = to_table([*rows, rows[0]])
    with pytest.raises(DataValidationError, match=f"movie_id {rows[0]['movie_id']}"):
        index.build(duplicated)
    with pytest.raises(DataValidationError, match="document"):
        index.build(to_table(rows).drop_columns(["document"]))
    assert counting.embedded == []


def test_an_index_that_was_never_built_is_not_ready(
    tmp_path: Path, counting: CountingEncoder
) -> None:
    index = LocalVectorIndex(tmp_path / "nothing", counting)
    assert not index.describe().ready
    with pytest.raises(IndexNotReadyError, match="nothing"):
        index.search("anything")


# -- mismatches -------------------------------------------------------------------------


def test_loading_with_another_model_is_a_mismatch(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    other = LocalVectorIndex(local_index.path, CountingEncoder(embeddings, model_name="bge-x"))
    with pytest.raises(IndexMismatchError, match=r"all-MiniLM-L6-v2.*bge-x"):
        other.search("anything")
    assert not other.describe().ready
    with pytest.raises(IndexMismatchError, match="movie-rag build"):
        other.sync(movies_table())


def test_a_manifest_with_another_dimension_is_a_mismatch(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    manifest_path = _live_version(local_index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["dimension"] = 768
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="768-d"):
        LocalVectorIndex(local_index.path, embeddings).load()


def test_an_unknown_format_version_is_a_mismatch(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    manifest_path = _live_version(local_index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format version 99"):
        LocalVectorIndex(local_index.path, embeddings).search("anything")


def test_build_replaces_an_index_of_another_model(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    other = LocalVectorIndex(local_index.path, CountingEncoder(embeddings, model_name="bge-x"))
    other.build(movies_table())
    assert other.search("jedi", k=1)[0].movie_id in {260, 1196}
    with pytest.raises(IndexMismatchError):
        LocalVectorIndex(local_index.path, embeddings).search("jedi")


# -- incremental sync and the embedding cache ---------------------------------------------


def test_sync_embeds_exactly_the_new_and_changed_movies(
    local_index: LocalVectorIndex, rows: list[dict[str, Any]], embeddings: LocalEmbeddings
) -> None:
    before = {hit.movie_id: hit for hit in local_index.search("anything", k=100)}
    old_vectors = np.load(_live_version(local_index) / "vectors.npy")

    by_id = {row["movie_id"]: row for row in rows}
    _edit(by_id[6], overview="A detective and a thief share a coffee before the final heist.")
    by_id[858]["rating"] = 9.3  # metadata only: the document stays the same
    by_id[858]["content_hash"] = content_hash(by_id[858])
    new = dict(by_id[1], movie_id=3114, title="Toy Story 2", year=1999)
    _edit(new, overview="A toy collector steals Woody, and his friends set out to rescue him.")
    del by_id[2]
    rows = [*by_id.values(), new]

    counting = CountingEncoder(embeddings)
    index = LocalVectorIndex(local_index.path, counting)
    report = index.sync(to_table(rows))

    assert sorted(counting.embedded) == sorted([by_id[6]["document"], new["document"]])
    assert report.embedded == 2
    assert (report.added, report.updated, report.deleted) == (1, 2, 1)
    assert report.unchanged == len(before) - 3
    assert report.total == len(rows)

    hits = {hit.movie_id: hit for hit in index.search("anything", k=100)}
    assert set(hits) == set(by_id) | {3114}
    assert hits[858].metadata["rating"] == 9.3
    assert index.similar_to(3114, k=1)[0].movie_id == 1
    # Unchanged movies keep their stored vectors bit for bit.
    ids = pq.read_table(_live_version(index) / "metadata.parquet")["movie_id"].to_pylist()
    new_vectors = np.load(_live_version(index) / "vectors.npy")
    old_ids = sorted(before)
    for movie_id in (1, 50, 858, 2571):
        assert np.array_equal(
            new_vectors[ids.index(movie_id)], old_vectors[old_ids.index(movie_id)]
        )


def test_syncing_an_unchanged_table_writes_nothing(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    version = _live_version(local_index)
    counting = CountingEncoder(embeddings)
    report = LocalVectorIndex(local_index.path, counting).sync(movies_table())
    assert report.embedded == 0 and report.unchanged == report.total
    assert report.added == report.updated == report.deleted == 0
    assert _live_version(local_index) == version
    assert counting.embedded == []


def test_sync_without_an_index_builds_one(
    tmp_path: Path, counting: CountingEncoder, rows: list[dict[str, Any]]
) -> None:
    report = LocalVectorIndex(tmp_path / "index", counting).sync(to_table(rows[:5]))
    assert report.added == report.embedded == 5


def test_rebuilds_reuse_the_embedding_cache(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings, rows: list[dict[str, Any]]
) -> None:
    counting = CountingEncoder(embeddings)
    report = LocalVectorIndex(local_index.path, counting).build(movies_table())
    assert counting.embedded == [] and report.embedded == 0
    assert report.unchanged == len(rows)

    uncached = CountingEncoder(embeddings)
    LocalVectorIndex(local_index.path, uncached, use_cache=False).build(movies_table())
    assert len(uncached.embedded) == len(rows)


def test_a_shared_cache_serves_a_new_index_directory(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings, tmp_path: Path
) -> None:
    counting = CountingEncoder(embeddings)
    fresh = LocalVectorIndex(tmp_path / "fresh", counting, cache_dir=local_index.cache_dir)
    fresh.build(movies_table())
    assert counting.embedded == []
    assert fresh.search("jedi", k=2) == local_index.search("jedi", k=2)


def test_progress_reports_embedding(
    tmp_path: Path, counting: CountingEncoder, rows: list[dict[str, Any]]
) -> None:
    calls: list[tuple[int, int]] = []
    LocalVectorIndex(tmp_path / "index", counting).build(
        to_table(rows), progress=lambda done, total: calls.append((done, total))
    )
    assert calls[0] == (0, len(rows)) and calls[-1] == (len(rows), len(rows))


# -- atomic swaps and locking -------------------------------------------------------------


def test_a_reader_keeps_working_while_the_index_is_rebuilt(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings, rows: list[dict[str, Any]]
) -> None:
    reader = LocalVectorIndex(local_index.path, embeddings)
    old_ids = {hit.movie_id for hit in reader.search("anything", k=100)}
    fresh_rows = rows[:10]
    for row in fresh_rows:
        _edit(row, overview=row["overview"] + " Now restored in 4K.")
    new_ids = {row["movie_id"] for row in fresh_rows}

    seen_during_build: list[set[int]] = []

    def search_mid_build(done: int, total: int) -> None:
        # Runs inside the writer, after embedding started and before the swap.
        seen_during_build.append({hit.movie_id for hit in reader.search("anything", k=100)})

    writer = LocalVectorIndex(local_index.path, CountingEncoder(embeddings), use_cache=False)
    writer.build(to_table(fresh_rows), progress=search_mid_build)

    assert seen_during_build and all(ids == old_ids for ids in seen_during_build)
    assert {hit.movie_id for hit in reader.search("anything", k=100)} == new_ids


def test_concurrent_readers_only_ever_see_complete_versions(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings, rows: list[dict[str, Any]]
) -> None:
    versions = [{row["movie_id"] for row in rows}]
    tables = []
    for size in (12, 30, 8, len(rows)):
        tables.append(to_table(rows[:size]))
        versions.append({row["movie_id"] for row in rows[:size]})
    stop = threading.Event()
    observed: list[set[int]] = []
    errors: list[BaseException] = []

    def read() -> None:
        reader = LocalVectorIndex(local_index.path, embeddings)
        while not stop.is_set():
            try:
                observed.append({hit.movie_id for hit in reader.search("war", k=100)})
            except BaseException as exc:  # any failure is the test's finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        writer = LocalVectorIndex(local_index.path, embeddings)
        for table in tables:
            writer.build(table)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert observed and all(ids in versions for ids in observed)
    # Old versions are pruned: only the live one and its predecessor stay.
    assert len([p for p in local_index.path.iterdir() if p.name.startswith("v-")]) == 2


def test_a_failed_build_leaves_the_old_index_in_place(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings, rows: list[dict[str, Any]]
) -> None:
    version = _live_version(local_index)
    before = local_index.search("jedi", k=3)

    def fail(done: int, total: int) -> None:
        if done:
            raise RuntimeError("disk full")

    for row in rows:
        _edit(row, overview="Completely different text.")
    writer = LocalVectorIndex(local_index.path, embeddings, use_cache=False)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.build(to_table(rows), progress=fail)
    assert _live_version(local_index) == version
    assert LocalVectorIndex(local_index.path, embeddings).search("jedi", k=3) == before
    assert not [p for p in local_index.path.iterdir() if p.name.startswith(".staging")]


def test_a_second_writer_waits_for_the_lock(
    local_index: LocalVectorIndex, embeddings: LocalEmbeddings
) -> None:
    impatient = LocalVectorIndex(local_index.path, embeddings, lock_timeout=0.2)
    failures: list[BaseException] = []

    def try_second_writer(done: int, total: int) -> None:
        try:
            impatient.sync(movies_table())
        except IndexNotReadyError as exc:
            failures.append(exc)

    first = LocalVectorIndex(local_index.path, embeddings, use_cache=False)
    first.build(movies_table(), progress=try_second_writer)
    assert failures and "lock" in str(failures[0])


def test_filters_on_unknown_values_exclude_the_movie(local_index: LocalVectorIndex) -> None:
    # Night of the Living Dead has no rating and Babylon 5 no year.
    rated_hits = local_index.search("zombies", k=100, filters=SearchFilters(min_rating=0))
    rated = {hit.movie_id for hit in rated_hits}
    assert 1975 not in rated and 5069 not in rated
    dated = local_index.search("space station", k=100, filters=SearchFilters(year_max=3000))
    assert 5069 not in {hit.movie_id for hit in dated}


def test_an_empty_table_builds_an_empty_index(tmp_path: Path, counting: CountingEncoder) -> None:
    empty = movies_table().slice(0, 0)
    index = LocalVectorIndex(tmp_path / "index", counting)
    assert index.build(empty).total == 0
    assert index.search("anything") == []
    assert index.describe().ready


def test_hits_survive_arrow_types_written_by_spark(
    tmp_path: Path, counting: CountingEncoder, rows: list[dict[str, Any]]
) -> None:
    # Spark writes integers as int64 and may add columns the schema does not list.
    table = to_table(rows[:6])
    table = table.set_column(0, "movie_id", table["movie_id"].cast(pa.int64()))
    table = table.append_column("ingested_at", pa.array(["2024-01-01"] * 6))
    index = LocalVectorIndex(tmp_path / "index", counting)
    index.build(table)
    hit = index.search("toy", k=1)[0]
    assert isinstance(hit.movie_id, int) and hit.metadata["ingested_at"] == "2024-01-01"


def test_without_content_hash_the_document_decides_what_changed(
    tmp_path: Path, counting: CountingEncoder, rows: list[dict[str, Any]]
) -> None:
    rows = rows[:6]
    index = LocalVectorIndex(tmp_path / "index", counting)
    index.build(to_table(rows).drop_columns(["content_hash"]))
    _edit(rows[0], overview="A new plot.")
    rows[1]["content_hash"] = None
    report = index.sync(to_table(rows))
    # Row 0 is updated; the others now carry hashes the index never saw for them, except
    # row 1 whose missing hash falls back to its document's.
    assert report.embedded == 1
    assert (report.updated, report.unchanged) == (5, 1)
