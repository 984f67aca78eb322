"""Bright Data's IMDb dataset as a JSON array, NDJSON or CSV (nested fields then JSON text).

The IMDb id comes from ``url`` and wins over ``id``; shapes seen in the wild are accepted
(genres as a list or comma text, ``top_cast`` as objects or strings, ``credit`` as
``{"title": "Director", "names": [...]}`` objects or ``"Director: X"`` text, counts like
``"2.1M"``, dates like ``"March 31, 1999 (United States)"``). Overview is ``storyline``, else
``presentation``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from movie_rag.ingest.imdb.collector import Collected, load_csv, load_json
from movie_rag.ingest.imdb.registry import BY_COLUMNS, BY_FILE_NAME, FormatSpec
from movie_rag.ingest.imdb.values import (
    NOT_MOVIES,
    Notes,
    RowError,
    as_list,
    clean_list,
    clean_overview,
    clean_text,
    imdb_id_from_url,
    lenient,
    parse_count,
    parse_rating,
    parse_year,
    required_imdb_id,
    required_title,
    strip_written_by,
)
from movie_rag.ingest.readers import open_text

# -- Bright Data IMDb ---------------------------------------------------------------------

BRIGHT_DATA_FIELDS = (
    "id", "title", "url", "media_type", "imdb_rating", "imdb_rating_count", "popularity",
    "review_count", "review_rating", "critics_review_count", "featured_review", "genres",
    "presentation", "storyline", "comment", "credit", "top_cast", "details_release_date",
    "details_countries_of_origin", "details_language", "details_also_known_as",
    "details_filming_locations", "details_production_companies", "details_official_site",
    "specs_color", "specs_sound_mix", "specs_aspect_ratio", "poster_url", "videos", "photos",
    "awards", "boxoffice_budget", "episode_count", "keywords",
)  # fmt: skip
# Keys only Bright Data's IMDb records carry; two of them mark a file as Bright Data.
_BRIGHT_DATA_MARKERS = frozenset(
    {"imdb_rating_count", "top_cast", "credit", "details_release_date", "storyline",
     "presentation", "media_type", "featured_review", "details_countries_of_origin",
     "details_language", "boxoffice_budget", "review_rating", "awards", "poster_url"}
)  # fmt: skip
_PERSON_KEYS = ("name", "actor", "actor_name", "cast_name", "person", "full_name")
_ROLE_KEYS = ("title", "role", "job", "category", "type", "department")
_NAMES_KEYS = ("names", "name", "people", "persons", "credits", "value")
_DIRECTOR_ROLE = re.compile(r"direct(?:or|ors|or\(s\)|ed by|ion)", re.IGNORECASE)
_CREDIT_TEXT = re.compile(r"(?P<role>[^:]+?)\s*:\s*(?P<names>.+)")
_DIRECTED_BY = re.compile(r"directed by\s+(?P<names>.+)", re.IGNORECASE)
# "Keanu Reeves as Neo", "Keanu Reeves ... Neo": the actor comes first.
_CHARACTER = re.compile(r"\s+(?:as\s|\.\.\.|…)|\s*\.\.\.\s*")


def bright_data_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one Bright Data IMDb record (from JSON, NDJSON or CSV)."""
    media_type = clean_text(record.get("media_type")) or ""
    if media_type.replace(" ", "").lower() in NOT_MOVIES:
        raise RowError("media_type", f"{media_type} not a movie")
    if record.get("error") and not clean_text(record.get("title")):
        raise RowError("error", f"Bright Data error record: {clean_text(record['error'])}")
    from_url = imdb_id_from_url(record.get("url"))
    if from_url is not None:
        imdb_id = required_imdb_id(from_url, "url")
    else:
        imdb_id = required_imdb_id(clean_text(record.get("id")), "id")
    storyline = strip_written_by(clean_text(record.get("storyline"), unescape=True))
    presentation = clean_text(record.get("presentation"), unescape=True)
    return {
        "imdb_id": imdb_id,
        "title": required_title(record.get("title"), "title", unescape=True),
        "year": lenient(
            notes, "details_release_date", record.get("details_release_date"), parse_year
        ),
        "overview": clean_overview(storyline or presentation),
        "genre_names": clean_list(as_list(record.get("genres"), "genres")),
        "directors": clean_list(_credit_directors(record.get("credit")), unescape=True),
        "cast": clean_list(_cast_names(record.get("top_cast")), unescape=True),
        "keywords": clean_list(as_list(record.get("keywords"), "keywords"), unescape=True),
        "imdb_rating": lenient(notes, "imdb_rating", record.get("imdb_rating"), parse_rating),
        "votes": lenient(notes, "imdb_rating_count", record.get("imdb_rating_count"), parse_count),
        "countries": clean_list(
            as_list(record.get("details_countries_of_origin"), "details_countries_of_origin")
        ),
        "languages": clean_list(as_list(record.get("details_language"), "details_language")),
    }


def _person(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in _PERSON_KEYS:
            value = item.get(key)
            if isinstance(value, dict):
                value = _person(value)
            if isinstance(value, str) and value.strip():
                return value
        return None
    if isinstance(item, str):
        return _CHARACTER.split(item.strip(), maxsplit=1)[0]
    return None


def _cast_names(value: Any) -> list[str]:
    names = [_person(item) for item in as_list(value, "top_cast")]
    return [name for name in names if name]


def _credit_entries(value: Any) -> list[Any]:
    # Free-text credits separate roles with "|", ";" or newlines; commas separate names.
    if isinstance(value, str) and value.strip()[:1] not in ("[", "{"):
        return [part for part in re.split(r"\s*[|;\n]\s*", value) if part.strip()]
    return as_list(value, "credit")


def _credit_directors(value: Any) -> list[str]:
    directors: list[str] = []
    for entry in _credit_entries(value):
        if isinstance(entry, dict):
            role = next((entry[k] for k in _ROLE_KEYS if isinstance(entry.get(k), str)), "")
            if not _DIRECTOR_ROLE.fullmatch(role.strip(" :")):
                continue
            names: Any = next((entry[k] for k in _NAMES_KEYS if entry.get(k)), [])
            people = names if isinstance(names, list) else as_list(names, "credit")
            directors.extend(name for name in map(_person, people) if name)
        elif isinstance(entry, str):
            text = entry.strip()
            match = _CREDIT_TEXT.fullmatch(text)
            if (match and _DIRECTOR_ROLE.fullmatch(match.group("role"))) or (
                match := _DIRECTED_BY.fullmatch(text)
            ):
                directors.extend(match.group("names").split(","))
    return directors


def _first_char(path: Path) -> str:
    with open_text(path, "a Bright Data IMDb export") as handle:
        head = handle.read(4096)
    stripped = head.lstrip()
    return stripped[:1]


def load_bright_data(path: Path) -> Collected:
    """Bright Data IMDb as a JSON array, NDJSON or CSV (nested fields then as JSON text)."""
    if _first_char(path) in ("[", "{"):
        return load_json("bright_data", path, bright_data_record)
    return load_csv(
        "bright_data",
        path,
        bright_data_record,
        required=("title",),
        optional=tuple(f for f in BRIGHT_DATA_FIELDS if f != "title"),
        expected="a Bright Data IMDb CSV export with at least title and url",
        drop_empty=True,
    )


def _detect(keys: frozenset[str], name: str) -> int:
    if "title" in keys and len(keys & _BRIGHT_DATA_MARKERS) >= 2:
        return BY_COLUMNS
    # Column names alone are ambiguous for minimal exports; the file name breaks the tie.
    return BY_FILE_NAME if "bright" in name.lower() and "title" in keys else 0


# The richest source: a full IMDb page per record; it wins every field it has.
FORMAT = FormatSpec(
    name="bright_data",
    load=load_bright_data,
    detect=_detect,
    strengths=dict.fromkeys(
        ("overview", "people", "billing", "ratings", "keywords", "genres", "year"), 90
    ),
    description="a Bright Data IMDb JSON/NDJSON/CSV export",
    order=60,
)
