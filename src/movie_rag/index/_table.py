"""Reading movies_info without Spark and shaping it into what the local index stores."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from movie_rag.errors import DataValidationError
from movie_rag.index.base import HIDDEN_COLUMNS
from movie_rag.tables import read_local_table

REQUIRED_COLUMNS = ("movie_id", "document")


def read_table(source: pa.Table | str | os.PathLike[str]) -> pa.Table:
    if isinstance(source, pa.Table):
        return source
    return read_local_table(Path(source))


def prepare(table: pa.Table, origin: str = "movies_info") -> pa.Table:
    """Validated rows the index stores: sorted by movie_id, hidden columns removed."""
    missing = [name for name in REQUIRED_COLUMNS if name not in table.column_names]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}; the index needs movies_info as written "
            "by MovieInfoBuilder (see movie_rag.catalog.schemas.MOVIES_INFO_SCHEMA)",
            path=origin,
            field=missing[0],
        )
    table = table.drop_columns([c for c in table.column_names if c in HIDDEN_COLUMNS])
    table = table.set_column(
        table.schema.get_field_index("movie_id"),
        "movie_id",
        pc.cast(table.column("movie_id"), pa.int64()),
    )
    _check_not_null(table, "movie_id", origin)
    _check_not_null(table, "document", origin)
    ids = table.column("movie_id")
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pc.value_counts(ids)
        duplicate = next(item["values"].as_py() for item in counts if item["counts"].as_py() > 1)
        raise DataValidationError(
            f"movie_id {duplicate} appears more than once; movies_info has one row per movie",
            path=origin,
            field="movie_id",
        )
    # Without a content_hash (or with gaps in it), the document alone decides what changed.
    document_hashes = pa.array(
        [_sha256(doc) for doc in table.column("document").to_pylist()], pa.string()
    )
    if "content_hash" not in table.column_names:
        table = table.append_column("content_hash", document_hashes)
    elif table.column("content_hash").null_count:
        position = table.schema.get_field_index("content_hash")
        filled = pc.coalesce(table.column("content_hash").cast(pa.string()), document_hashes)
        table = table.set_column(position, "content_hash", filled)
    table = table.sort_by("movie_id").combine_chunks()
    return table.replace_schema_metadata(None)


def _check_not_null(table: pa.Table, column: str, origin: str) -> None:
    nulls = table.column(column).null_count
    if nulls:
        raise DataValidationError(
            f"{nulls} row(s) have a null {column}; rebuild movies_info", path=origin, field=column
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(table: pa.Table) -> str:
    """Content hash of a prepared table: any change to any stored value changes it."""
    digest = hashlib.sha256()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()
