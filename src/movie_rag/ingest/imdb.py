"""IMDB-like movie metadata: one loader for every supported source format.

Supported formats (``format=`` value, also the ``source`` column of the result):

* ``bright_data`` — Bright Data's IMDb dataset as a JSON array, NDJSON or CSV (nested fields
  then arrive as JSON text). The IMDb id comes from ``url`` and wins over ``id``; shapes seen
  in the wild are accepted (genres as a list or comma text, ``top_cast`` as objects or strings,
  ``credit`` as ``{"title": "Director", "names": [...]}`` objects or ``"Director: X"`` text,
  counts like ``"2.1M"``, dates like ``"March 31, 1999 (United States)"``). Overview is
  ``storyline``, else ``presentation``.
* ``imdb_tsv`` — the official IMDb datasets: a directory with ``title.basics.tsv[.gz]`` and
  optionally ``title.ratings``, ``title.principals``, ``title.crew`` and ``name.basics``.
  ``tvEpisode`` (and ``videoGame``) rows are skipped by design and reported in the quarantine
  with the reason ``"tvEpisode not a movie"``, so no row is lost silently. Malformed lines of
  the side files (ratings, people, names) are logged and skipped: they are not records.
* ``movies_dataset`` — The Movies Dataset ``movies_metadata.csv`` (Python-literal lists; its
  ``vote_average`` is TMDB's and is not used as an IMDb rating; "No overview found." → null).
* ``tmdb_5000`` — ``tmdb_5000_movies.csv`` (JSON lists; TMDB id, no IMDb id).
* ``imdb_top_1000`` — ``imdb_top_1000.csv`` (no id; the original file's Apollo 13 row has
  ``Released_Year = "PG"``: its year becomes null and the record is kept).
* ``itemsapi`` — the itemsapi IMDb scrape (no id; HTML entities unescaped, the storyline's
  trailing ``"Written by <author>"`` removed).

Every record read either lands in the table or in the quarantine with the reason and its
source row (``rows_in == rows_loaded + quarantine.count()``). Duplicate ids within one source
keep the first record; later ones are quarantined naming the first row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast, get_args

import pyarrow as pa

from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA
from movie_rag.errors import InputFileError
from movie_rag.ingest import _imdb_formats
from movie_rag.ingest.quality import Quarantine
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["IMDBFormat", "IMDBLoader", "IMDBSource"]

logger = logging.getLogger("movie_rag")

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
    """

    format: str
    path: Path
    table: pa.Table
    rows_in: int
    quarantine: Quarantine
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        """Records in :attr:`table`; ``rows_in == rows_loaded + quarantine.count()``."""
        return int(self.table.num_rows)

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
        return f"IMDBLoader(backend={self.settings.backend!r})"

    def load(self, path: str | Path, format: IMDBFormat = "auto") -> IMDBSource:
        """Read one IMDB-like file (or IMDb dataset directory) into the normalised schema.

        Args:
            path: The file, or for the official IMDb datasets the directory holding
                ``title.basics.tsv[.gz]`` (or that file itself).
            format: One of the supported formats, or ``"auto"`` to detect it.

        Returns:
            The loaded source with its table, row count and quarantine.

        Raises:
            InputFileError: The file is missing, empty, of an unknown format, or lacks the
                columns its format needs.
        """
        path = Path(path)
        if format == "auto":
            resolved: str = self.detect_format(path)
        elif format in _imdb_formats.FORMATS:
            resolved = format
        else:
            raise InputFileError(
                path, f"unknown format {format!r}", f"one of {', '.join(get_args(IMDBFormat))}"
            )
        collected = _imdb_formats.LOADERS[resolved](path)
        source = IMDBSource(
            format=resolved,
            path=collected.path,
            table=collected.table,
            rows_in=collected.rows_in,
            quarantine=collected.quarantine,
            warnings=list(collected.warnings),
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
    def detect_format(path: str | Path) -> IMDBFormat:
        """Recognise a file's format from its name and its header or first record's keys.

        Args:
            path: A file, or a directory holding the official IMDb datasets.

        Returns:
            The format name (never ``"auto"``).

        Raises:
            InputFileError: The file is missing or empty, or matches no supported format
                (the message lists the keys found and the formats expected).
        """
        return cast(IMDBFormat, _imdb_formats.detect_format(Path(path)))
