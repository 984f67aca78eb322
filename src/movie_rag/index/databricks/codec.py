"""How ``movies_info`` rows travel to and from a Vector Search index.

Direct Access indexes hold scalar columns only, so list and struct columns are stored as JSON
text, plus one boolean column per MovieLens genre so genre filters still run in the index.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA
from movie_rag.index.base import HIDDEN_COLUMNS, SearchHit
from movie_rag.index.filters import normalise_name

PRIMARY_KEY = "movie_id"
SOURCE_COLUMN = "document"
VECTOR_COLUMN = "document_vector"
MODEL_COLUMN = "embedding_model"


PUBLIC_FIELDS = [f for f in MOVIES_INFO_SCHEMA if f.name not in HIDDEN_COLUMNS]
PUBLIC_COLUMNS: list[str] = [f.name for f in PUBLIC_FIELDS]
_NESTED_COLUMNS = frozenset(
    f.name for f in PUBLIC_FIELDS if pa.types.is_list(f.type) or pa.types.is_struct(f.type)
)
_INT_COLUMNS = frozenset(f.name for f in PUBLIC_FIELDS if pa.types.is_integer(f.type))
_FLOAT_COLUMNS = frozenset(f.name for f in PUBLIC_FIELDS if pa.types.is_floating(f.type))
# What SearchFilters.matches reads: enough to post-filter without fetching documents.
#: What the post-filter reads of a candidate row.
FILTER_COLUMNS = [PRIMARY_KEY, "genres", "year", "rating", "votes", "directors", "cast"]


def genre_flag(genre: str) -> str:
    """Name of the boolean column marking a MovieLens genre (``Sci-Fi`` → ``genre_sci_fi``)."""
    return "genre_" + re.sub(r"[^a-z0-9]+", "_", genre.lower()).strip("_")


def direct_schema() -> dict[str, str]:
    """Column types of a Direct Access index written by the self-managed mode."""
    schema = {f.name: _direct_type(f.type) for f in PUBLIC_FIELDS}
    schema.update({genre_flag(g): "boolean" for g in MOVIELENS_GENRES})
    schema[MODEL_COLUMN] = "string"
    schema[VECTOR_COLUMN] = "array<float>"
    return schema


def _direct_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_int64(arrow_type):
        return "long"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    # Direct Access indexes hold scalars only: lists and structs travel as JSON text.
    return "string"


def encode(record: Mapping[str, Any], vector: Sequence[float], model: str) -> dict[str, Any]:
    """A ``movies_info`` record as a Direct Access row (JSON text, genre flags, vector)."""
    row: dict[str, Any] = {}
    for name in PUBLIC_COLUMNS:
        value = record.get(name)
        if name in _NESTED_COLUMNS and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, float) and math.isnan(value):
            value = None
        row[name] = value
    genres = {normalise_name(g) for g in record.get("genres") or () if g}
    for genre in MOVIELENS_GENRES:
        row[genre_flag(genre)] = normalise_name(genre) in genres
    row[MODEL_COLUMN] = model
    row[VECTOR_COLUMN] = [float(v) for v in vector]
    return row


def decode(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row from the index as ``movies_info`` metadata (public columns, original types)."""
    record: dict[str, Any] = {}
    for name in PUBLIC_COLUMNS:
        if name not in values:
            continue
        value = values[name]
        if value is None:
            record[name] = None
        elif name in _NESTED_COLUMNS:
            record[name] = json.loads(value) if isinstance(value, str) else value
        elif name in _INT_COLUMNS:
            record[name] = int(value)
        elif name in _FLOAT_COLUMNS:
            record[name] = float(value)
        else:
            record[name] = value
    return record


def hit(row: Mapping[str, Any]) -> SearchHit:
    """A query-result row (with its ``score``) as a :class:`SearchHit`."""
    return SearchHit(
        movie_id=int(row[PRIMARY_KEY]), score=float(row["score"]), metadata=decode(row)
    )


def from_value(value: Any) -> Any:
    """A protobuf ``Value`` from the scan route as a Python value."""
    if not isinstance(value, Mapping) or not value or "null_value" in value:
        return None
    if "bool_value" in value:
        return bool(value["bool_value"])
    if "number_value" in value:
        return value["number_value"]
    if "string_value" in value:
        return value["string_value"]
    if "list_value" in value:
        return [from_value(v) for v in (value["list_value"] or {}).get("values", [])]
    if "struct_value" in value:
        fields = (value["struct_value"] or {}).get("fields", [])
        return {f["key"]: from_value(f.get("value")) for f in fields}
    return None


#: A three-part Unity Catalog name.
UC_NAME = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")


def check_uc_name(name: str, what: str) -> None:
    """Refuse an index or table name that is not ``catalog.schema.name``."""
    from movie_rag.index.databricks.errors import InvalidIndexNameError

    if not UC_NAME.match(name or ""):
        raise InvalidIndexNameError(
            f"{what}={name!r} is not a Unity Catalog name: Vector Search indexes are named "
            "catalog.schema.name, using letters, digits and underscores only (for example "
            "'main.silver.movies_index')"
        )


def origin(table: Any) -> str:
    """How a table source is named in messages."""
    return "movies_info (Arrow table)" if isinstance(table, pa.Table) else str(table)
