"""The ``movies_info`` contract, below every stage: column schemas, genre vocabulary, title keys.

Ingest writes this contract, the tables store it, and the index, chain, publish and UI read it;
none of them import a pipeline stage for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

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
        VISIBILITY_KEY,
        spark_schema,
    )
    from movie_rag.catalog.titles import (
        ParsedTitle,
        display_title,
        parse_movielens_title,
        title_key,
    )
    from movie_rag.catalog.visibility import (
        COLUMN_VISIBILITY,
        INTERNAL_COLUMNS,
        PROMPT_COLUMNS,
        PUBLIC_COLUMNS,
        RETRIEVAL_COLUMNS,
        VISIBILITY_LEVELS,
        Visibility,
        columns_above,
        restrict,
    )

__all__ = [
    "COLUMN_VISIBILITY",
    "GENOME_TAG",
    "IMDB_RECORD_SCHEMA",
    "INTERNAL_COLUMNS",
    "MOVIELENS_GENRES",
    "MOVIES_INFO_SCHEMA",
    "PROMPT_COLUMNS",
    "PUBLIC_COLUMNS",
    "QUARANTINE_SCHEMA",
    "RETRIEVAL_COLUMNS",
    "VISIBILITY_KEY",
    "VISIBILITY_LEVELS",
    "ParsedTitle",
    "Visibility",
    "columns_above",
    "display_title",
    "map_genre",
    "map_genres",
    "parse_movielens_genres",
    "parse_movielens_title",
    "restrict",
    "spark_schema",
    "title_key",
]

_EXPORTS: dict[str, str] = {
    "MOVIELENS_GENRES": "movie_rag.catalog.genres",
    "map_genre": "movie_rag.catalog.genres",
    "map_genres": "movie_rag.catalog.genres",
    "parse_movielens_genres": "movie_rag.catalog.genres",
    "GENOME_TAG": "movie_rag.catalog.schemas",
    "IMDB_RECORD_SCHEMA": "movie_rag.catalog.schemas",
    "MOVIES_INFO_SCHEMA": "movie_rag.catalog.schemas",
    "QUARANTINE_SCHEMA": "movie_rag.catalog.schemas",
    "VISIBILITY_KEY": "movie_rag.catalog.schemas",
    "spark_schema": "movie_rag.catalog.schemas",
    "ParsedTitle": "movie_rag.catalog.titles",
    "display_title": "movie_rag.catalog.titles",
    "parse_movielens_title": "movie_rag.catalog.titles",
    "title_key": "movie_rag.catalog.titles",
    "COLUMN_VISIBILITY": "movie_rag.catalog.visibility",
    "INTERNAL_COLUMNS": "movie_rag.catalog.visibility",
    "PROMPT_COLUMNS": "movie_rag.catalog.visibility",
    "PUBLIC_COLUMNS": "movie_rag.catalog.visibility",
    "RETRIEVAL_COLUMNS": "movie_rag.catalog.visibility",
    "VISIBILITY_LEVELS": "movie_rag.catalog.visibility",
    "Visibility": "movie_rag.catalog.visibility",
    "columns_above": "movie_rag.catalog.visibility",
    "restrict": "movie_rag.catalog.visibility",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
