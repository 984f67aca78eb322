"""IMDB Top 1000 ``imdb_top_1000.csv`` (no id: matched on title and year).

The original file's Apollo 13 row has ``Released_Year = "PG"``: its year becomes null and the
record is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from movie_rag.ingest.imdb.collector import Collected, load_csv
from movie_rag.ingest.imdb.registry import BY_COLUMNS, FormatSpec
from movie_rag.ingest.imdb.values import (
    Notes,
    clean_list,
    clean_overview,
    lenient,
    parse_count,
    parse_rating,
    parse_runtime,
    parse_year,
    required_title,
)

TOP_1000_REQUIRED = (
    "Series_Title", "Released_Year", "Runtime", "Genre", "IMDB_Rating", "Overview",
    "Director", "Star1", "Star2", "Star3", "Star4", "No_of_Votes",
)  # fmt: skip
TOP_1000_OPTIONAL = ("Gross", "Certificate", "Meta_score", "Poster_Link")


def top_1000_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one row of the IMDB Top 1000 set (no id: matched later on title and year).

    The original file has Apollo 13's certificate in ``Released_Year`` ("PG"): such a year
    becomes null and the record stays.
    """
    return {
        "title": required_title(record["Series_Title"], "Series_Title"),
        "year": lenient(notes, "Released_Year", record["Released_Year"], parse_year),
        "overview": clean_overview(record["Overview"]),
        "genre_names": record["Genre"].split(","),
        "directors": clean_list(record["Director"].split(",")),
        "cast": clean_list([record[f"Star{n}"] for n in range(1, 5)]),
        "imdb_rating": lenient(notes, "IMDB_Rating", record["IMDB_Rating"], parse_rating),
        "votes": lenient(notes, "No_of_Votes", record["No_of_Votes"], parse_count),
        "runtime": lenient(notes, "Runtime", record["Runtime"], parse_runtime),
    }


def load_imdb_top_1000(path: Path) -> Collected:
    """Read ``imdb_top_1000.csv``."""
    return load_csv(
        "imdb_top_1000",
        path,
        top_1000_record,
        required=TOP_1000_REQUIRED,
        optional=TOP_1000_OPTIONAL,
        expected="imdb_top_1000.csv with columns " + ", ".join(TOP_1000_REQUIRED),
    )


def _detect(keys: frozenset[str], name: str) -> int:
    return BY_COLUMNS if {"Series_Title", "Released_Year", "IMDB_Rating"} <= keys else 0


# Matched on title + year only: trusted after the sources with ids.
FORMAT = FormatSpec(
    name="imdb_top_1000",
    load=load_imdb_top_1000,
    detect=_detect,
    # Star1-Star4 are the billed stars, in billing order.
    strengths={"overview": 50, "people": 60, "billing": 90, "ratings": 70, "genres": 50},
    description="imdb_top_1000.csv",
    order=20,
)
