"""IMDBLoader: one loader for every registered IMDB-like format.

The formats are registrations (:mod:`movie_rag.ingest.imdb.registry`): the built-in ones are
the modules of :mod:`movie_rag.ingest.imdb.formats` (``bright_data``, ``imdb_tsv``,
``movies_dataset``, ``tmdb_5000``, ``imdb_top_1000``, ``itemsapi``), and
:func:`~movie_rag.ingest.imdb.register_format` adds one. A format's name is the ``format=``
value and the ``source`` column of its records.

Every record read either lands in the table or in the quarantine with the reason and its
source row (``rows_in == rows_loaded + quarantine.count()``). Duplicate ids within one source
keep the first record; later ones are quarantined naming the first row. Values that do not
parse or lie outside their plausible range are set to null with the record kept, and counted
per field (:attr:`IMDBSource.nulled`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA
from movie_rag.errors import InputFileError
from movie_rag.ingest.imdb import registry
from movie_rag.ingest.imdb.collector import NulledValue
from movie_rag.ingest.quality import Quarantine
from movie_rag.platform import platform_for
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["IMDBFormat", "IMDBLoader", "IMDBSource"]

logger = logging.getLogger("movie_rag")

#: The built-in format names (a registered format's name is accepted too).
IMDBFormat = Literal[
    "auto", "bright_data", "imdb_tsv", "movies_dataset", "tmdb_5000", "imdb_top_1000", "itemsapi"
]


@dataclass
class IMDBSource:
    """One loaded IMDB-like source, normalised to ``IMDB_RECORD_SCHEMA``.

    Attributes:
        format: The resolved format; also the value of the table's ``source`` column.
        path: The file (or, for ``imdb_tsv``, the ``title.basics`` file) that was read.
        table: The records, exactly ``IMDB_RECORD_SCHEMA``.
        rows_in: Records read from the file(s).
        quarantine: Records rejected from this source (source name ``imdb_<format>``).
        warnings: What was changed without rejecting a record (values out of range or
            unparseable, set to null), for the build report.
        nulled: Each value set to null in a kept record, with its row, field and reason.
    """

    format: str
    path: Path
    table: pa.Table
    rows_in: int
    quarantine: Quarantine
    warnings: list[str] = field(default_factory=list)
    nulled: list[NulledValue] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        """Records in :attr:`table`; ``rows_in == rows_loaded + quarantine.count()``."""
        return int(self.table.num_rows)

    def nulled_counts(self) -> dict[str, int]:
        """Values set to null in kept records by ``"<field>: <reason>"`` (the build report)."""
        counts: dict[str, int] = {}
        for value in self.nulled:
            key = f"{value.field}: {value.reason}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def to_spark(self, spark: SparkSession) -> DataFrame:
        """The table as a Spark DataFrame with the Spark form of ``IMDB_RECORD_SCHEMA``.

        Args:
            spark: An active ``SparkSession``.

        Returns:
            A DataFrame with one row per loaded record.
        """
        from movie_rag.catalog.schemas import spark_schema
        from movie_rag.spark import arrow_to_spark

        return arrow_to_spark(spark, self.table, spark_schema(IMDB_RECORD_SCHEMA))


class IMDBLoader:
    """Loads IMDB-like movie metadata from any supported format into one schema.

    Example:
        Instantiate and load, letting the loader recognise the format:

        >>> from movie_rag.ingest.imdb import IMDBLoader
        >>> loader = IMDBLoader()
        >>> source = loader.load("data/imdb/tmdb_5000_movies.csv")  # doctest: +SKIP
        >>> source.format, source.rows_in, source.rows_loaded  # doctest: +SKIP
        ('tmdb_5000', 4803, 4803)

        Name the format when the file is unusual, and inspect the rejects:

        >>> source = loader.load("export.ndjson", format="bright_data")  # doctest: +SKIP
        >>> [(r.row, r.reason) for r in source.quarantine.rows]  # doctest: +SKIP
        [(7, 'duplicate imdb_id tt0133093 (first at row 2)')]
    """

    def __init__(self, settings: MovieRagSettings | None = None) -> None:
        self.settings = settings or MovieRagSettings()

    def __repr__(self) -> str:
        return f"IMDBLoader(backend={platform_for(self.settings).name!r})"

    def load(self, path: str | Path, format: IMDBFormat | str = "auto") -> IMDBSource:
        """Read one IMDB-like file (or IMDb dataset directory) into the normalised schema.

        Args:
            path: The file, or for the official IMDb datasets the directory holding
                ``title.basics.tsv[.gz]`` (or that file itself).
            format: A registered format's name, or ``"auto"`` to detect it.

        Returns:
            The loaded source with its table, row count and quarantine.

        Raises:
            InputFileError: The file is missing, empty, of an unknown format, or lacks the
                columns its format needs.
        """
        path = Path(path)
        resolved: str = self.detect_format(path) if format == "auto" else format
        spec = registry.get_format(resolved)
        if spec is None:
            names = ["auto", *(s.name for s in registry.registered_formats())]
            raise InputFileError(path, f"unknown format {format!r}", f"one of {', '.join(names)}")
        collected = spec.load(path)
        source = IMDBSource(
            format=resolved,
            path=collected.path,
            table=collected.table,
            rows_in=collected.rows_in,
            quarantine=collected.quarantine,
            warnings=list(collected.warnings),
            nulled=list(collected.nulled),
        )
        logger.info(
            "%s (%s): %d records read, %d loaded, %d quarantined",
            source.path,
            resolved,
            source.rows_in,
            source.rows_loaded,
            source.quarantine.count(),
        )
        return source

    @staticmethod
    def detect_format(path: str | Path) -> str:
        """Recognise a file's format from its name and its header or first record's keys.

        Args:
            path: A file, or a directory holding the official IMDb datasets.

        Returns:
            The format name (never ``"auto"``): a built-in :data:`IMDBFormat` or a registered
            one.

        Raises:
            InputFileError: The file is missing or empty, or matches no supported format
                (the message lists the keys found and the formats expected).
        """
        return registry.detect_format(Path(path))
