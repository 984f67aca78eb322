"""Reading parquet without ``pyarrow.dataset`` where a plain file read does the same."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["read_parquet"]


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """Read a parquet file, or a flat directory of parquet parts, as ``pq.read_table`` does.

    A file, or a directory whose parts are all files with one schema, is read part by part
    with :class:`pyarrow.parquet.ParquetFile`, which skips ``pyarrow.dataset`` (and the
    pandas import it brings, a quarter of a second of a cold query); anything else (nested
    or partitioned directories, differing schemas) goes through ``pq.read_table``. Files whose
    names start with ``_`` or ``.`` (``_SUCCESS``, ``.crc``) are skipped, as dataset
    discovery skips them.

    Args:
        path: A parquet file or a table directory.
        columns: Only these columns, or all of them.

    Returns:
        The table as Arrow.
    """
    path = Path(path)
    if path.is_file():
        return pq.ParquetFile(path).read(columns=columns)
    if not path.is_dir():
        return pq.read_table(path, columns=columns)
    entries = sorted(path.iterdir())
    parts = [entry for entry in entries if not entry.name.startswith(("_", "."))]
    if not parts or not all(part.is_file() for part in parts):
        return pq.read_table(path, columns=columns)
    tables = [pq.ParquetFile(part).read(columns=columns) for part in parts]
    if any(not table.schema.equals(tables[0].schema) for table in tables[1:]):
        return pq.read_table(path, columns=columns)
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)
