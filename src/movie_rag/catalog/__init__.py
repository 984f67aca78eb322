"""The ``movies_info`` contract, below every stage: column schemas, genre vocabulary, title keys.

Ingest writes this contract, the tables store it, and the index, chain, publish and UI read it;
none of them import a pipeline stage for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "GENOME_TAG": "movie_rag.catalog.schemas",
    "IMDB_RECORD_SCHEMA": "movie_rag.catalog.schemas",
    "MOVIES_INFO_SCHEMA": "movie_rag.catalog.schemas",
    "QUARANTINE_SCHEMA": "movie_rag.catalog.schemas",
    "spark_schema": "movie_rag.catalog.schemas",
    "MOVIELENS_GENRES": "movie_rag.catalog.genres",
    "map_genre": "movie_rag.catalog.genres",
    "map_genres": "movie_rag.catalog.genres",
    "parse_movielens_genres": "movie_rag.catalog.genres",
    "ParsedTitle": "movie_rag.catalog.titles",
    "display_title": "movie_rag.catalog.titles",
    "parse_movielens_title": "movie_rag.catalog.titles",
    "title_key": "movie_rag.catalog.titles",
}

__all__ = [
    "GENOME_TAG",
    "IMDB_RECORD_SCHEMA",
    "MOVIELENS_GENRES",
    "MOVIES_INFO_SCHEMA",
    "QUARANTINE_SCHEMA",
    "ParsedTitle",
    "display_title",
    "map_genre",
    "map_genres",
    "parse_movielens_genres",
    "parse_movielens_title",
    "spark_schema",
    "title_key",
]

if TYPE_CHECKING:
    from movie_rag.catalog.genres import (
        MOVIELENS_GENRES,
        map_genre,
        map_genres,
        parse_movielens_genres,
    )
    from movie_rag.catalog.schemas import (
        GENOME_TAG,
        IMDB_RECORD_SCHEMA,
        MOVIES_INFO_SCHEMA,
        QUARANTINE_SCHEMA,
        spark_schema,
    )
    from movie_rag.catalog.titles import (
        ParsedTitle,
        display_title,
        parse_movielens_title,
        title_key,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'movie_rag.catalog' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
