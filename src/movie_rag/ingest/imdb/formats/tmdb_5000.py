"""TMDB 5000 ``tmdb_5000_movies.csv`` (JSON lists; a TMDB id, no IMDb id)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from movie_rag.ingest.imdb.collector import Collected, load_csv
from movie_rag.ingest.imdb.formats.movies_dataset import tmdb_poster_path
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
    required_title,
    required_tmdb_id,
)

TMDB_REQUIRED = ("id", "title", "overview", "genres", "keywords", "release_date")
# The Kaggle copy has no poster_path; copies exported from the TMDB API do.
TMDB_OPTIONAL = (
    "original_title",
    "runtime",
    "production_countries",
    "spoken_languages",
    "poster_path",
)


def tmdb_5000_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one row of the TMDB 5000 set (no IMDb id; vote_average is TMDB's)."""
    return {
        "tmdb_id": required_tmdb_id(record["id"], "id"),
        "title": required_title(record["title"] or record.get("original_title"), "title"),
        "year": lenient(notes, "release_date", record["release_date"], parse_year),
        "overview": clean_overview(record["overview"], unescape=True),
        "genre_names": named_items(record["genres"], "genres"),
        "keywords": clean_list(named_items(record["keywords"], "keywords"), unescape=True),
        "countries": clean_list(
            named_items(record.get("production_countries"), "production_countries")
        ),
        "languages": clean_list(language_names(record.get("spoken_languages"), "spoken_languages")),
        "runtime": lenient(notes, "runtime", record.get("runtime"), parse_runtime),
        "poster_path": tmdb_poster_path(record.get("poster_path")),
    }


def load_tmdb_5000(path: Path) -> Collected:
    """Read ``tmdb_5000_movies.csv``."""
    return load_csv(
        "tmdb_5000",
        path,
        tmdb_5000_record,
        required=TMDB_REQUIRED,
        optional=TMDB_OPTIONAL,
        expected="TMDB 5000 tmdb_5000_movies.csv with columns " + ", ".join(TMDB_REQUIRED),
    )


def _detect(keys: frozenset[str], name: str) -> int:
    return BY_COLUMNS if {"id", "title", "overview", "keywords"} <= keys else 0


# TMDB's keywords are curated tags: the best keywords after Bright Data's.
FORMAT = FormatSpec(
    name="tmdb_5000",
    load=load_tmdb_5000,
    detect=_detect,
    strengths={"overview": 60, "keywords": 80, "genres": 60, "year": 60},
    description="tmdb_5000_movies.csv",
    order=40,
)
