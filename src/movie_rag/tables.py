"""Table storage with one code path: path-based tables locally, Unity Catalog on Databricks.

Locally a table is a directory ``<workdir>/tables/<name>/`` (parquet, or Delta when the
session has it). Overwrites are written aside and swapped in under a lock, so a reader never
sees half a table and the next process finds the table by its path (no metastore to forget
it). On Databricks a table is ``catalog.schema.name`` in Delta; ``movies_info`` gets change
data feed so a delta-sync vector index can follow it.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

from movie_rag._parquet import read_parquet
from movie_rag.errors import ConfigurationError, InputFileError
from movie_rag.platform import platform_for
from movie_rag.settings import MovieRagSettings
from movie_rag.spark import arrow_to_spark, table_format
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["MergeStats", "TableStore", "read_local_table"]

logger = logging.getLogger("movie_rag")
Layer = Literal["bronze", "silver"]


@dataclass(frozen=True)
class MergeStats:
    """What a write changed, by key and content hash.

    Attributes:
        inserted: Keys new in this write.
        updated: Keys whose content hash changed.
        deleted: Keys that were in the table and are no longer.
        unchanged: Keys with the same content hash as before.
    """

    inserted: int
    updated: int
    deleted: int
    unchanged: int


class TableStore:
    """Writes and reads the project's tables on the configured backend.

    Args:
        spark: The Spark session.
        settings: Backend, names and workdir.

    Example:
        >>> store = TableStore(spark, MovieRagSettings(workdir="/tmp/wd"))  # doctest: +SKIP
        >>> store.write(df, "movielens_movies", layer="bronze")  # doctest: +SKIP
    """

    def __init__(self, spark: SparkSession, settings: MovieRagSettings) -> None:
        self.spark = spark
        self.settings = settings
        self.platform = platform_for(settings)
        self.workdir = Workdir(settings.workdir)
        self.format = table_format(spark, settings)

    def __repr__(self) -> str:
        return f"TableStore(backend={self.platform.name!r}, format={self.format!r})"

    def location(self, name: str, layer: Layer = "silver") -> str:
        """Where a table lives: a directory locally, a three-level name on Databricks."""
        return self.platform.table_location(name, layer)

    def exists(self, name: str, layer: Layer = "silver") -> bool:
        """Whether the table has been written."""
        if self.platform.is_local:
            return self.workdir.table(name).is_dir()
        return bool(self.spark.catalog.tableExists(self.location(name, layer)))

    def read(self, name: str, layer: Layer = "silver") -> DataFrame:
        """Read a table as a Spark DataFrame.

        Raises:
            InputFileError: The table has not been written yet.
        """
        if not self.exists(name, layer):
            raise InputFileError(
                self.location(name, layer), "table not found", "run `movie-rag build` first"
            )
        if self.platform.is_local:
            return self.spark.read.format(self.format).load(self.location(name, layer))
        return self.spark.table(self.location(name, layer))

    def write(
        self,
        data: DataFrame | pa.Table,
        name: str,
        layer: Layer = "silver",
        *,
        change_data_feed: bool = False,
    ) -> None:
        """Replace a table's content.

        Args:
            data: The new content, as a Spark DataFrame or an Arrow table.
            name: Short table name.
            layer: ``bronze`` or ``silver`` (the schema on Databricks).
            change_data_feed: Enable Delta change data feed (Delta only).
        """
        if self.platform.is_local:
            self._swap_in_local(data, name)
            return
        df = arrow_to_spark(self.spark, data) if isinstance(data, pa.Table) else data
        target = self.location(name, layer)
        catalog, schema, _ = target.split(".")
        self.spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{catalog}`.`{schema}`")
        # The session's format: Delta on Databricks (always there), parquet on a local
        # session without Delta Lake (where change data feed does not exist).
        writer = df.write.format(self.format).mode("overwrite").option("overwriteSchema", "true")
        writer.saveAsTable(target)
        if change_data_feed and self.format == "delta":
            self.spark.sql(
                f"ALTER TABLE {target} SET TBLPROPERTIES (delta.enableChangeDataFeed = true)"
            )

    def merge(
        self, data: DataFrame | pa.Table, name: str, key: str, layer: Layer = "silver"
    ) -> MergeStats:
        """Make the table equal to ``df`` by key, changing only what changed.

        Rows are matched on ``key`` and compared on ``content_hash``: changed rows are
        updated, new ones inserted, missing ones deleted. On Delta this is one ``MERGE``
        (so the change data feed records exactly those changes); on parquet the table is
        rewritten and swapped in. Either way the statistics say what changed.

        Args:
            data: The complete new content (must have ``key`` and ``content_hash``), as a
                Spark DataFrame or an Arrow table.
            name: Short table name.
            key: Primary-key column.
            layer: ``bronze`` or ``silver``.

        Returns:
            Counts of inserted, updated, deleted and unchanged keys.
        """
        if isinstance(data, pa.Table) and self._writes_arrow:
            stats = self._diff_arrow(data, name, key)
            self.write(data, name, layer, change_data_feed=True)
            return stats
        df = arrow_to_spark(self.spark, data) if isinstance(data, pa.Table) else data
        stats = self._diff(df, name, key, layer)
        if not self.exists(name, layer) or self.format != "delta":
            self.write(df, name, layer, change_data_feed=True)
            return stats
        df.createOrReplaceTempView("_movie_rag_merge_source")
        target = self.location(name, layer)
        if self.platform.is_local:
            target = f"delta.`{target}`"
        self.spark.sql(
            f"""
            MERGE INTO {target} AS t USING _movie_rag_merge_source AS s ON t.{key} = s.{key}
            WHEN MATCHED AND t.content_hash <> s.content_hash THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *
            WHEN NOT MATCHED BY SOURCE THEN DELETE
            """
        )
        return stats

    def write_quarantine(self, rows: list[dict[str, Any]]) -> str:
        """Replace the quarantine with this build's rejected rows.

        Locally each source gets ``quarantine/<source>/rows.parquet`` (written by Arrow, so it
        is readable with or without Spark); on Databricks the rows go to the bronze table
        ``quarantine``.

        Args:
            rows: Dicts with the columns of ``QUARANTINE_SCHEMA``.

        Returns:
            Where the quarantine is.
        """
        from movie_rag.catalog.schemas import QUARANTINE_SCHEMA

        if not self.platform.is_local:
            table = pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA)
            self.write(table, "quarantine", layer="bronze")
            return self.location("quarantine", "bronze")
        root = self.workdir.quarantine
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
        by_source: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_source.setdefault(row["source"], []).append(row)
        for source, source_rows in sorted(by_source.items()):
            target = self.workdir.quarantine_for(source)
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                pa.Table.from_pylist(source_rows, schema=QUARANTINE_SCHEMA),
                target / "rows.parquet",
            )
        return str(root)

    @property
    def _writes_arrow(self) -> bool:
        # Local parquet tables are written straight from Arrow: no JVM round trip.
        return self.platform.is_local and self.format == "parquet"

    def _diff_arrow(self, new: pa.Table, name: str, key: str) -> MergeStats:
        new_hashes = dict(
            zip(new.column(key).to_pylist(), new.column("content_hash").to_pylist(), strict=True)
        )
        if not self.exists(name):
            return MergeStats(inserted=len(new_hashes), updated=0, deleted=0, unchanged=0)
        old = pq.read_table(self.location(name), columns=[key, "content_hash"])
        old_hashes = dict(
            zip(old.column(key).to_pylist(), old.column("content_hash").to_pylist(), strict=True)
        )
        shared = new_hashes.keys() & old_hashes.keys()
        unchanged = sum(1 for k in shared if new_hashes[k] == old_hashes[k])
        return MergeStats(
            inserted=len(new_hashes.keys() - old_hashes.keys()),
            updated=len(shared) - unchanged,
            deleted=len(old_hashes.keys() - new_hashes.keys()),
            unchanged=unchanged,
        )

    def _diff(self, df: DataFrame, name: str, key: str, layer: Layer) -> MergeStats:
        from pyspark.sql import functions as F

        new = df.select(F.col(key), F.col("content_hash").alias("new_hash"))
        if not self.exists(name, layer):
            return MergeStats(inserted=new.count(), updated=0, deleted=0, unchanged=0)
        old = self.read(name, layer).select(F.col(key), F.col("content_hash").alias("old_hash"))
        joined = old.join(new, on=key, how="full_outer")
        row = joined.agg(
            F.sum(F.when(F.col("old_hash").isNull(), 1).otherwise(0)).alias("inserted"),
            F.sum(F.when(F.col("new_hash").isNull(), 1).otherwise(0)).alias("deleted"),
            F.sum(
                F.when(
                    F.col("old_hash").isNotNull()
                    & F.col("new_hash").isNotNull()
                    & (F.col("old_hash") != F.col("new_hash")),
                    1,
                ).otherwise(0)
            ).alias("updated"),
            F.sum(F.when(F.col("old_hash") == F.col("new_hash"), 1).otherwise(0)).alias(
                "unchanged"
            ),
        ).collect()[0]
        return MergeStats(
            inserted=int(row["inserted"] or 0),
            updated=int(row["updated"] or 0),
            deleted=int(row["deleted"] or 0),
            unchanged=int(row["unchanged"] or 0),
        )

    def _swap_in_local(self, data: DataFrame | pa.Table, name: str) -> None:
        final = self.workdir.table(name)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".{name}.staging-{uuid.uuid4().hex[:8]}"
        retired = final.parent / f".{name}.retired-{uuid.uuid4().hex[:8]}"
        # Written aside first: Spark cannot overwrite a path it is reading from, and a reader
        # must never see half a table.
        if isinstance(data, pa.Table) and self._writes_arrow:
            staging.mkdir(parents=True)
            pq.write_table(data, staging / "part-00000.parquet")
        else:
            df = arrow_to_spark(self.spark, data) if isinstance(data, pa.Table) else data
            df.write.format(self.format).mode("overwrite").save(str(staging))
        with FileLock(str(final.parent / f".{name}.lock")):
            if final.exists():
                final.rename(retired)
            staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
        logger.info("wrote table %s", final)


def read_local_table(path: str | Path) -> pa.Table:
    """Read a local table written by :class:`TableStore`, without Spark.

    Parquet directories (and single parquet files) are read with pyarrow; a Delta table
    (``_delta_log/``) is read through its log with the ``deltalake`` package, because its
    directory also holds files of removed versions.

    Args:
        path: The table directory (``<workdir>/tables/<name>``) or a parquet file.

    Returns:
        The table as Arrow.

    Raises:
        InputFileError: Nothing readable is there.
        ConfigurationError: A Delta table, and ``deltalake`` is not installed.
    """
    path = Path(path)
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        raise InputFileError(path, "no table here", "a parquet table; run `movie-rag build` first")
    if (path / "_delta_log").is_dir():
        return _read_delta(path)
    try:
        # Directory discovery skips _SUCCESS, .crc and other files Spark leaves beside parts.
        return read_parquet(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(path, f"cannot be read as parquet: {exc}", "a parquet table") from exc


def _read_delta(path: Path) -> pa.Table:
    try:
        from deltalake import DeltaTable
    except ImportError as exc:
        raise ConfigurationError(
            f"{path} is a Delta table and reading it without Spark needs the deltalake "
            "package; pip install deltalake, or write the table as parquet "
            "(table_format='parquet')"
        ) from exc
    return DeltaTable(str(path)).to_pyarrow_table()
