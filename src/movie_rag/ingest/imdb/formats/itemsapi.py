"""The itemsapi IMDb scrape ``itemsapi_imdb.json`` (no id: matched on name and year).

HTML entities are unescaped and the storyline's trailing ``"Written by <author>"`` removed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from movie_rag.ingest.imdb.collector import Collected, load_json
from movie_rag.ingest.imdb.registry import BY_COLUMNS, FormatSpec
from movie_rag.ingest.imdb.values import (
    Notes,
    as_list,
    clean_list,
    clean_overview,
    clean_text,
    lenient,
    parse_count,
    parse_rating,
    parse_runtime,
    parse_year,
    required_title,
    strip_written_by,
)

_CREDIT_NOTE = re.compile(r"\s*\((?:uncredited|as [^()]*|co-director|segment [^()]*)\)", re.I)


def itemsapi_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one itemsapi record (no id: matched later on name and year)."""
    storyline = strip_written_by(clean_text(record.get("storyline"), unescape=True))
    description = clean_text(record.get("description"), unescape=True)
    return {
        "title": required_title(record.get("name"), "name", unescape=True),
        "year": lenient(notes, "year", record.get("year"), parse_year),
        "overview": clean_overview(storyline or description),
        "genre_names": clean_list(as_list(record.get("genres"), "genres")),
        "directors": _itemsapi_directors(as_list(record.get("director"), "director")),
        "cast": clean_list(as_list(record.get("actors"), "actors"), unescape=True),
        "keywords": clean_list(as_list(record.get("tags"), "tags"), unescape=True),
        "imdb_rating": lenient(notes, "rating", record.get("rating"), parse_rating),
        "votes": lenient(notes, "votes", record.get("votes"), parse_count),
        "countries": clean_list(as_list(record.get("country"), "country")),
        "runtime": lenient(notes, "runtime", record.get("runtime"), parse_runtime),
    }


def _itemsapi_directors(values: list[Any]) -> list[str]:
    # When the scraper ran past the director block, an entry holds "Name  | 1 more
    # credit&nbsp;&raquo; Writers: ..." and later entries are writers and stars: keep the
    # name before the "|" and stop there.
    names: list[str] = []
    for value in values:
        text = html.unescape(str(value))
        head, bar, _ = text.partition("|")
        name = clean_text(_CREDIT_NOTE.sub("", head))
        if name and name not in names:
            names.append(name)
        if bar:
            break
    return names


def load_itemsapi(path: Path) -> Collected:
    """Read the itemsapi JSON array or NDJSON."""
    return load_json("itemsapi", path, itemsapi_record)


def _detect(keys: frozenset[str], name: str) -> int:
    return BY_COLUMNS if {"name", "storyline", "director", "actors"} <= keys else 0


FORMAT = FormatSpec(
    name="itemsapi",
    load=load_itemsapi,
    detect=_detect,
    strengths={"overview": 80, "people": 70, "ratings": 60, "keywords": 70, "genres": 40},
    description="itemsapi imdb.json",
    order=50,
)
