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
    ]
)

#: The canonical movies_info table.
MOVIES_INFO_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int32()),
        ("title", pa.string()),
        ("year", pa.int32()),
        ("genres", _STRINGS),
        ("imdb_id", pa.string()),
        ("tmdb_id", pa.int32()),
        ("overview", pa.string()),
        ("directors", _STRINGS),
        ("cast", _STRINGS),
        ("keywords", _STRINGS),
        ("genome_tags", pa.list_(GENOME_TAG)),
        ("user_tags", _STRINGS),
        ("ml_rating_mean", pa.float64()),
        ("ml_rating_count", pa.int32()),
        ("ml_rating_bayes", pa.float64()),
        ("imdb_rating", pa.float64()),
        ("imdb_votes", pa.int64()),
        ("rating", pa.float64()),
        ("votes", pa.int64()),
        ("url", pa.string()),
        ("sources", _STRINGS),
        ("document", pa.string()),
        ("content_hash", pa.string()),
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
