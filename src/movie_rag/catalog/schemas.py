"""Column contracts shared by the loaders, the builder and the index (DESIGN.md §4).

Schemas are pyarrow schemas: parsing happens in Python (exact row numbers for the
quarantine), Spark receives Arrow data, and the query path reads the same columns from
parquet without a JVM. :func:`spark_schema` converts them for Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

__all__ = [
    "GENOME_TAG",
    "IMDB_RECORD_SCHEMA",
    "MOVIES_INFO_SCHEMA",
    "QUARANTINE_SCHEMA",
    "VISIBILITY_KEY",
    "spark_schema",
]

_STRINGS = pa.list_(pa.string())

GENOME_TAG = pa.struct([("tag", pa.string()), ("relevance", pa.float64())])

#: One normalised record from any IMDB-like source (output of IMDBLoader).
IMDB_RECORD_SCHEMA = pa.schema(
    [
        (
            "source",
            pa.string(),
        ),  # bright_data, imdb_tsv, movies_dataset, tmdb_5000, imdb_top_1000, itemsapi
        ("source_row", pa.int64()),  # line or record number in the source file
        ("imdb_id", pa.string()),  # "tt" + >= 7 digits, or null for id-less sources
        ("tmdb_id", pa.int32()),
        ("title", pa.string()),
        ("title_key", pa.string()),  # movie_rag.catalog.titles.title_key(title)
        ("year", pa.int32()),
        ("overview", pa.string()),
        ("genres", _STRINGS),  # already mapped onto the MovieLens vocabulary
        ("unmapped_genres", _STRINGS),  # source genre names with no MovieLens counterpart
        ("directors", _STRINGS),
        ("cast", _STRINGS),  # top-billed first
        ("keywords", _STRINGS),
        ("imdb_rating", pa.float64()),  # 0-10, IMDb users only (not TMDB vote_average)
        ("votes", pa.int64()),  # IMDb rating count
        ("countries", _STRINGS),
        ("languages", _STRINGS),
        ("runtime", pa.int32()),  # minutes
        ("url", pa.string()),
        ("poster_path", pa.string()),  # TMDB image path ("/abc.jpg"), TMDB-based sources only
    ]
)

#: Field-metadata key holding a movies_info column's visibility (see catalog.visibility).
VISIBILITY_KEY = b"visibility"


def _column(name: str, type_: pa.DataType, visibility: str) -> pa.Field:
    # The visibility travels with the field (and into parquet), so every reader of the schema
    # sees the same rule; movie_rag.catalog.visibility turns it into column sets.
    return pa.field(name, type_, metadata={VISIBILITY_KEY: visibility})


#: Field-metadata key holding a movies_info column's visibility (see catalog.visibility).
VISIBILITY_KEY = b"visibility"

#: The canonical movies_info table; each field's metadata names its visibility:
#: ``public`` (may be shown to users), ``prompt`` (read by the generator, never shown raw),
#: ``retrieval`` (held by the index for search and sync only) or ``internal`` (never leaves
#: the table).
MOVIES_INFO_SCHEMA = pa.schema(
    [
        _column("movie_id", pa.int32(), "public"),
        _column("title", pa.string(), "public"),
        _column("year", pa.int32(), "public"),
        _column("genres", _STRINGS, "public"),
        _column("imdb_id", pa.string(), "public"),
        _column("tmdb_id", pa.int32(), "public"),
        _column("overview", pa.string(), "public"),
        _column("directors", _STRINGS, "public"),
        _column("cast", _STRINGS, "public"),
        _column("keywords", _STRINGS, "public"),
        # Tag names feed the generator's reasons; the relevance numbers are never shown.
        _column("genome_tags", pa.list_(GENOME_TAG), "prompt"),
        # What MovieLens users typed: privacy-relevant, it never leaves movies_info.
        _column("user_tags", _STRINGS, "internal"),
        _column("ml_rating_mean", pa.float64(), "public"),
        _column("ml_rating_count", pa.int32(), "public"),
        _column("ml_rating_bayes", pa.float64(), "public"),
        _column("imdb_rating", pa.float64(), "public"),
        _column("imdb_votes", pa.int64(), "public"),
        _column("rating", pa.float64(), "public"),
        _column("votes", pa.int64(), "public"),
        _column("url", pa.string(), "public"),
        # TMDB's image path ("/abc.jpg"); the UI joins it to its poster base URL.
        _column("poster_path", pa.string(), "public"),
        _column("sources", _STRINGS, "public"),
        # The embedded text and its hash: what the index searches and syncs by.
        _column("document", pa.string(), "retrieval"),
        _column("content_hash", pa.string(), "retrieval"),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("path", pa.string()),
        ("row", pa.int64()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


def spark_schema(schema: pa.Schema) -> StructType:
    """Convert an Arrow schema to a Spark ``StructType`` (needs pyspark)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)
