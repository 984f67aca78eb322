"""The Movies Dataset ``movies_metadata.csv`` (Python-literal lists).

Its ``vote_average`` is TMDB's and is not used as an IMDb rating; "No overview found." → null.
Its ``poster_path`` (TMDB's image path, ``/abc.jpg``) is kept when it has that shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from movie_rag.ingest.imdb.collector import Collected, load_csv
from movie_rag.ingest.imdb.registry import BY_COLUMNS, FormatSpec
from movie_rag.ingest.imdb.values import (
    Notes,
    clean_list,
    clean_overview,
    language_names,
    lenient,
    named_items,
    parse_runtime,
    parse_year,
    required_imdb_id,
    required_title,
    required_tmdb_id,
)

MOVIES_DATASET_REQUIRED = ("id", "imdb_id", "title", "overview", "genres", "release_date")
MOVIES_DATASET_OPTIONAL = (
    "original_title",
    "runtime",
    "production_countries",
    "spoken_languages",
    "poster_path",
)

# TMDB image paths: one path segment of safe characters with an image suffix. Anything else
# (a full URL, markup, "None") is dropped, so no record can steer the UI's <img> elsewhere.
_POSTER_PATH = re.compile(r"^/[A-Za-z0-9_-]{1,100}\.(?:jpe?g|png|webp)$")


def tmdb_poster_path(value: Any) -> str | None:
    """A TMDB ``poster_path`` such as ``/rhIRbceoE9lR4veEXuwCC2wARtG.jpg``, or None.

    Example:
        >>> tmdb_poster_path(" /abc123.jpg "), tmdb_poster_path("javascript:alert(1)")
        ('/abc123.jpg', None)
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if _POSTER_PATH.match(value) else None


def movies_dataset_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one row of The Movies Dataset; its vote_average/vote_count are TMDB's, not IMDb's."""
    return {
        "imdb_id": required_imdb_id(record["imdb_id"], "imdb_id"),
        "tmdb_id": required_tmdb_id(record["id"], "id"),
        "title": required_title(record["title"] or record.get("original_title"), "title"),
        "year": lenient(notes, "release_date", record["release_date"], parse_year),
        "overview": clean_overview(record["overview"], unescape=True),
        "genre_names": named_items(record["genres"], "genres"),
        "countries": clean_list(
            named_items(record.get("production_countries"), "production_countries")
        ),
        "languages": clean_list(language_names(record.get("spoken_languages"), "spoken_languages")),
        "runtime": lenient(notes, "runtime", record.get("runtime"), parse_runtime),
        "poster_path": tmdb_poster_path(record.get("poster_path")),
    }


def load_movies_dataset(path: Path) -> Collected:
    """Read ``movies_metadata.csv``."""
    return load_csv(
        "movies_dataset",
        path,
        movies_dataset_record,
        required=MOVIES_DATASET_REQUIRED,
        optional=MOVIES_DATASET_OPTIONAL,
        expected="The Movies Dataset movies_metadata.csv with columns "
        + ", ".join(MOVIES_DATASET_REQUIRED),
    )


def _detect(keys: frozenset[str], name: str) -> int:
    return BY_COLUMNS if {"imdb_id", "id", "title", "overview"} <= keys else 0


FORMAT = FormatSpec(
    name="movies_dataset",
    load=load_movies_dataset,
    detect=_detect,
    strengths={"overview": 70, "keywords": 60, "genres": 70, "year": 70},
    description="The Movies Dataset movies_metadata.csv",
    order=30,
)
