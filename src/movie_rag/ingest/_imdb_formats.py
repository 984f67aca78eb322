"""Parsers of the IMDB-like input formats, all producing rows of ``IMDB_RECORD_SCHEMA``.

Each format has a *mapper* that turns one source record into typed fields (raising
:class:`RowError` when the record must be rejected) and a loader that feeds records through a
:class:`_Collector`, which finishes the fields (genre mapping, title key, url), rejects
duplicates and keeps the row accounting. :func:`detect_format` recognises a file by its name
and its header or first record.

Leniency rules, shared by all formats:

* identifiers that do not parse (IMDb id, TMDB id) and missing titles reject the record;
* descriptive values that do not parse (a year of ``"PG"``, a rating of ``"n/a"``) become null
  and the record is kept; the counts are logged per field;
* a structured field (list or object written as JSON or a Python literal) that does not parse
  rejects the record, since it means the row itself is broken.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import html
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from movie_rag.catalog.genres import map_genres
from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA
from movie_rag.catalog.titles import title_key
from movie_rag.errors import InputFileError
from movie_rag.ingest.ids import imdb_url, normalize_imdb_id
from movie_rag.ingest.quality import (
    MAX_JSON_DEPTH,
    Quarantine,
    json_depth,
    open_text,
    read_csv_records,
    read_json_records,
)

logger = logging.getLogger("movie_rag")

FORMATS = (
    "bright_data",
    "imdb_tsv",
    "movies_dataset",
    "tmdb_5000",
    "imdb_top_1000",
    "itemsapi",
)

_INT32_MAX = 2**31 - 1
_YEAR_RANGE = (1870, 2100)  # the first films are from the late 1880s
_MAX_RUNTIME = 100_000  # minutes; the longest films run for days, not months

# -- row errors and the collector ---------------------------------------------------------


class RowError(ValueError):
    """A record that must go to the quarantine, with the field to blame."""

    def __init__(self, field_name: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


Notes = Counter[str]
Mapper = Callable[[Mapping[str, Any], Notes], dict[str, Any]]


@dataclass
class Collected:
    """What a format loader hands back to IMDBLoader."""

    path: Path
    table: pa.Table
    rows_in: int
    quarantine: Quarantine
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Collector:
    fmt: str
    path: Path
    # Off where the source has a primary key anyway (IMDb's tconst): saves a digest per row.
    exact_duplicates: bool = True
    quarantine: Quarantine = field(default_factory=Quarantine)
    notes: Notes = field(default_factory=Counter)
    rows: list[dict[str, Any]] = field(default_factory=list)
    seen: int = 0  # records that reached add() or reject()
    own_rejects: int = 0
    _first_raw: dict[bytes, int] = field(default_factory=dict)
    _first_id: dict[tuple[str, object], int] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"imdb_{self.fmt}"

    def reject(self, row: int, field_name: str | None, reason: str, raw: str) -> None:
        self.seen += 1
        self.own_rejects += 1
        self.quarantine.add(self.source, self.path, row, field_name, reason, raw)

    def add(self, row: int, raw: str, mapper: Mapper, record: Mapping[str, Any]) -> None:
        # A digest, not the text: big Bright Data dumps would otherwise be held twice.
        if self.exact_duplicates:
            data = raw.encode("utf-8", "surrogateescape")
            digest = hashlib.blake2b(data, digest_size=16).digest()
            first = self._first_raw.setdefault(digest, row)
            if first != row:
                self.reject(row, None, f"exact duplicate of row {first}", raw)
                return
        try:
            fields = self._finish(mapper(record, self.notes))
        except RowError as exc:
            self.reject(row, exc.field, exc.reason, raw)
            return
        for key in ("imdb_id", "tmdb_id"):
            value = fields[key]
            if value is not None and (key, value) in self._first_id:
                first = self._first_id[(key, value)]
                self.reject(row, key, f"duplicate {key} {value} (first at row {first})", raw)
                return
        for key in ("imdb_id", "tmdb_id"):
            if fields[key] is not None:
                self._first_id[(key, fields[key])] = row
        self.seen += 1
        fields["source"] = self.fmt
        fields["source_row"] = row
        self.rows.append(fields)

    def _finish(self, fields: dict[str, Any]) -> dict[str, Any]:
        genres, unmapped = map_genres(fields.pop("genre_names", []))
        imdb_id = fields.get("imdb_id")
        return {
            "imdb_id": imdb_id,
            "tmdb_id": fields.get("tmdb_id"),
            "title": fields["title"],
            "title_key": title_key(fields["title"]),
            "year": self._in_range("year", fields.get("year"), *_YEAR_RANGE),
            "overview": fields.get("overview"),
            "genres": genres,
            "unmapped_genres": unmapped,
            "directors": fields.get("directors", []),
            "cast": fields.get("cast", []),
            "keywords": fields.get("keywords", []),
            "imdb_rating": self._in_range("imdb_rating", fields.get("imdb_rating"), 0, 10),
            "votes": self._in_range("votes", fields.get("votes"), 0, 10**12),
            "countries": fields.get("countries", []),
            "languages": fields.get("languages", []),
            "runtime": self._in_range("runtime", fields.get("runtime"), 1, _MAX_RUNTIME),
            "url": imdb_url(imdb_id),
        }

    def _in_range(self, name: str, value: Any, low: float, high: float) -> Any:
        if value is None or low <= value <= high:
            return value
        self.notes[f"{name} out of range"] += 1
        return None

    def result(self) -> Collected:
        reader_rejects = self.quarantine.count() - self.own_rejects
        warnings = []
        if self.notes:
            summary = ", ".join(f"{name} ({count})" for name, count in sorted(self.notes.items()))
            warnings.append(
                f"{self.path}: values set to null (unparseable or out of range): {summary}"
            )
            logger.warning("%s", warnings[-1])
        table = pa.Table.from_pylist(self.rows, schema=IMDB_RECORD_SCHEMA)
        return Collected(
            path=self.path,
            table=table,
            rows_in=self.seen + reader_rejects,
            quarantine=self.quarantine,
            warnings=warnings,
        )


# -- value parsing ------------------------------------------------------------------------


def clean_text(value: Any, *, unescape: bool = False) -> str | None:
    """Strip, collapse whitespace (CR, LF, tabs, NBSP) and optionally unescape HTML."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value)
    if unescape:
        text = html.unescape(text)
    return " ".join(text.split()) or None


# Placeholders TMDB shows instead of a plot ("No overview found.", "No overview yet.").
_PLACEHOLDER = re.compile(
    r"(?:no (?:overview|plot|synopsis|description|storyline)"
    r"(?: (?:found|yet|available|provided))?|n/?a|none|null|tbd|-+)\.?",
    re.IGNORECASE,
)


def clean_overview(value: Any, *, unescape: bool = False) -> str | None:
    text = clean_text(value, unescape=unescape)
    if text is None or _PLACEHOLDER.fullmatch(text):
        return None
    return text


# IMDb storylines end with their author: "... Written by Keith Loh <loh@sfu.ca>".
_WRITTEN_BY = re.compile(r"\s*\bWritten by\b[^\n]{0,200}$")


def strip_written_by(text: str | None) -> str | None:
    if text is None:
        return None
    return _WRITTEN_BY.sub("", text).strip() or None


_IMDB_ID_IN_URL = re.compile(r"(?:^|/)(tt\d+)(?=[/?#]|$)", re.IGNORECASE)


def imdb_id_from_url(url: Any) -> str | None:
    """The ``tt...`` part of an IMDb title url, or None when it has none."""
    if not isinstance(url, str):
        return None
    match = _IMDB_ID_IN_URL.search(url.strip())
    return match.group(1) if match else None


def required_imdb_id(value: Any, field_name: str) -> str | None:
    try:
        return normalize_imdb_id(value)
    except ValueError as exc:
        raise RowError(field_name, str(exc)) from None


def required_tmdb_id(value: Any, field_name: str) -> int:
    text = clean_text(value)
    if text is None:
        raise RowError(field_name, "missing TMDB id")
    if not text.isdigit() or not 0 < int(text) <= _INT32_MAX:
        raise RowError(field_name, f"TMDB id is not a positive integer: {text!r}")
    return int(text)


def required_title(value: Any, field_name: str, *, unescape: bool = False) -> str:
    title = clean_text(value, unescape=unescape)
    if title is None:
        raise RowError(field_name, "missing title")
    return title


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)")


def parse_year(value: Any) -> int | None:
    """First plausible year in ``1999``, ``"1999-03-31"``, ``"March 31, 1999 (USA)"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    match = _YEAR.search(str(value))
    return int(match.group(1)) if match else None


_RUNTIME_HM = re.compile(r"(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?|s)?)?)?")
_RUNTIME_MIN = re.compile(r"(\d+(?:\.\d+)?)\s*(?:min(?:utes?|s)?\.?)?")


def parse_runtime(value: Any) -> int | None:
    """Minutes from ``142``, ``"81.0"``, ``"142 min"`` or ``"2h 16m"``; 0 (unknown) → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        minutes = int(value) if math.isfinite(value) else 0
        return minutes or None
    text = str(value).strip().lower()
    match = _RUNTIME_MIN.fullmatch(text)
    if match:
        return int(float(match.group(1))) or None
    match = _RUNTIME_HM.fullmatch(text)
    if match and any(match.groups()):
        return (int(match.group(1) or 0) * 60 + int(match.group(2) or 0)) or None
    return None


_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*([kmb])", re.IGNORECASE)
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_DOT_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")


def parse_count(value: Any) -> int | None:
    """A count from ``2100000``, ``"1,234"``, ``"2.1M"``, ``"850K"`` or ``"(1.2K)"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    text = str(value).strip().strip("()").strip()
    match = _SCALED.fullmatch(text)
    if match:
        return round(float(match.group(1)) * _SCALE[match.group(2).lower()])
    if _DOT_THOUSANDS.fullmatch(text):
        return int(text.replace(".", ""))
    digits = re.sub(r"[,\s\u00a0_']", "", text)
    if digits.isdigit():
        return int(digits)
    try:
        number = float(digits)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def parse_rating(value: Any) -> float | None:
    """A 0-10 rating from ``8``, ``8.7``, ``"8.7"`` or ``"8.7/10"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    text = text.removesuffix("/10").strip().replace(",", ".")
    try:
        rating = float(text)
    except ValueError:
        return None
    return rating if math.isfinite(rating) else None


def lenient(notes: Notes, field_name: str, value: Any, parse: Callable[[Any], Any]) -> Any:
    """``parse(value)``; a non-blank value that does not parse becomes None and is noted."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse(value)
    if parsed is None and not _is_zero(value):
        notes[field_name] += 1
    return parsed


def _is_zero(value: Any) -> bool:
    # 0 is the sources' way of writing "unknown" (runtime), not a parse failure.
    try:
        return float(str(value).split()[0]) == 0
    except (ValueError, IndexError):
        return False


def parse_structured(value: str, field_name: str) -> Any:
    """JSON or Python-literal text (``[{'name': 'Drama'}]``) → object; never ``eval``."""
    depth = json_depth(value) if value.count("[") + value.count("{") > MAX_JSON_DEPTH else 0
    if depth > MAX_JSON_DEPTH:
        raise RowError(field_name, f"nested {depth:,} levels deep (limit {MAX_JSON_DEPTH})")
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise RowError(field_name, f"not a JSON or Python list: {value[:80]!r}") from None


def as_list(value: Any, field_name: str) -> list[Any]:
    """A list, a list written as JSON/Python text, or separated text, as a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, str):
        return [value]
    text = value.strip()
    if not text:
        return []
    if text[0] in "[{":
        parsed = parse_structured(text, field_name)
        return parsed if isinstance(parsed, list) else [parsed]
    return text.split(",")


def named_items(value: Any, field_name: str, *, key: str = "name") -> list[str]:
    """Names from a list of strings or objects (``[{'id': 18, 'name': 'Drama'}]``)."""
    names = []
    for item in as_list(value, field_name):
        if isinstance(item, dict):
            item = item.get(key)
        if isinstance(item, str):
            names.append(item)
    return names


def clean_list(values: list[Any], *, unescape: bool = False) -> list[str]:
    """Cleaned, non-empty, de-duplicated strings in their original order."""
    out: list[str] = []
    for value in values:
        text = clean_text(value, unescape=unescape)
        if text and text not in out:
            out.append(text)
    return out


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
_NOT_MOVIES = frozenset({"tvepisode", "videogame"})
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
    if media_type.replace(" ", "").lower() in _NOT_MOVIES:
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


# -- The Movies Dataset (movies_metadata.csv) ---------------------------------------------

MOVIES_DATASET_REQUIRED = ("id", "imdb_id", "title", "overview", "genres", "release_date")
MOVIES_DATASET_OPTIONAL = ("original_title", "runtime", "production_countries", "spoken_languages")


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
        "languages": clean_list(_languages(record.get("spoken_languages"), "spoken_languages")),
        "runtime": lenient(notes, "runtime", record.get("runtime"), parse_runtime),
    }


def _languages(value: Any, field_name: str) -> list[str]:
    # TMDB leaves the name of some languages empty; the ISO code is better than nothing.
    names = []
    for item in as_list(value, field_name):
        if isinstance(item, dict):
            names.append(item.get("name") or item.get("iso_639_1") or "")
        elif isinstance(item, str):
            names.append(item)
    return names


# -- TMDB 5000 (tmdb_5000_movies.csv) -----------------------------------------------------

TMDB_REQUIRED = ("id", "title", "overview", "genres", "keywords", "release_date")
TMDB_OPTIONAL = ("original_title", "runtime", "production_countries", "spoken_languages")


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
        "languages": clean_list(_languages(record.get("spoken_languages"), "spoken_languages")),
        "runtime": lenient(notes, "runtime", record.get("runtime"), parse_runtime),
    }


# -- IMDB Top 1000 (imdb_top_1000.csv) ----------------------------------------------------

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


# -- itemsapi IMDb scrape (itemsapi_imdb.json) --------------------------------------------

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


# -- official IMDb datasets (title.basics.tsv.gz and siblings) ----------------------------

TSV_BASICS_REQUIRED = (
    "tconst",
    "titleType",
    "primaryTitle",
    "startYear",
    "runtimeMinutes",
    "genres",
)
_TSV_NULL = "\\N"
_CAST_CATEGORIES = frozenset({"actor", "actress", "self"})


def find_tsv(directory: Path, stem: str) -> Path | None:
    for suffix in (".tsv.gz", ".tsv"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def basics_file(path: Path) -> Path:
    if path.is_dir():
        found = find_tsv(path, "title.basics")
        if found is None:
            raise InputFileError(
                path, "no title.basics file in this directory", "title.basics.tsv[.gz]"
            )
        return found
    if not path.exists():
        raise InputFileError(path, "file not found")
    return path


def read_tsv(
    path: Path,
    required: tuple[str, ...],
    on_bad: Callable[[int, str, str], None],
) -> Iterator[tuple[int, str, dict[str, str | None]]]:
    """IMDb's TSV: no quoting (titles may start with a quote), ``\\N`` for null.

    Yields ``(line, raw, values)``; rows of the wrong width or with undecodable bytes go to
    ``on_bad(line, reason, raw)``.
    """
    expected = f"an IMDb dataset TSV with columns {', '.join(required)}"
    with open_text(path, expected) as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if header == [""]:
            raise InputFileError(path, "file is empty", expected)
        missing = [name for name in required if name not in header]
        if missing:
            raise InputFileError(path, f"missing column(s) {missing}; header is {header}", expected)
        positions = {name: header.index(name) for name in required}
        width = len(header)
        for number, line in enumerate(handle, start=2):
            raw = line.rstrip("\r\n")
            if not raw:
                continue
            fields = raw.split("\t")
            if len(fields) != width:
                on_bad(number, f"expected {width} fields, found {len(fields)}", raw)
                continue
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                on_bad(number, "not valid UTF-8 (wrong file encoding?)", raw)
                continue
            values = {
                n: None if fields[p] == _TSV_NULL else fields[p] for n, p in positions.items()
            }
            yield number, raw, values


@dataclass
class _SideFileProblems:
    """Bad lines of ratings/principals/names: logged, since they are not records themselves."""

    path: Path
    count: int = 0
    first: str = ""

    def __call__(self, line: int, reason: str, raw: str) -> None:
        self.count += 1
        if not self.first:
            self.first = f"line {line}: {reason}"

    def log(self) -> None:
        if self.count:
            logger.warning(
                "%s: %d malformed line(s) skipped (first %s)", self.path, self.count, self.first
            )


def tsv_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one title.basics row joined with its rating, people and names."""
    return {
        "imdb_id": required_imdb_id(record["tconst"], "tconst"),
        "title": required_title(record["primaryTitle"], "primaryTitle"),
        "year": lenient(notes, "startYear", record["startYear"], parse_year),
        "genre_names": (record["genres"] or "").split(","),
        "directors": clean_list(record["directors"]),
        "cast": clean_list(record["cast"]),
        "imdb_rating": lenient(notes, "averageRating", record["averageRating"], parse_rating),
        "votes": lenient(notes, "numVotes", record["numVotes"], parse_count),
        "runtime": lenient(notes, "runtimeMinutes", record["runtimeMinutes"], parse_runtime),
    }


def load_imdb_tsv(path: Path) -> Collected:
    basics = basics_file(path)
    collector = _Collector("imdb_tsv", basics, exact_duplicates=False)
    movies: list[tuple[int, str, dict[str, Any]]] = []
    for line, raw, values in read_tsv(basics, TSV_BASICS_REQUIRED, _tsv_reject(collector)):
        title_type = values["titleType"] or ""
        if title_type.lower() in _NOT_MOVIES:
            # Skipped by design, but reported: rows in = rows loaded + rows quarantined.
            collector.reject(line, "titleType", f"{title_type} not a movie", raw)
            continue
        movies.append((line, raw, values))
    wanted = {values["tconst"] for _, _, values in movies if values["tconst"]}
    directory = basics.parent
    ratings = _tsv_ratings(directory, wanted)
    directors, cast = _tsv_people(directory, wanted)
    people = {n for ids in (*directors.values(), *cast.values()) for n in ids}
    names = _tsv_names(directory, people)
    for line, raw, values in movies:
        tconst = values["tconst"] or ""
        rating = ratings.get(tconst, (None, None))
        joined = values | {
            "averageRating": rating[0],
            "numVotes": rating[1],
            "directors": [names[n] for n in directors.get(tconst, []) if n in names],
            "cast": [names[n] for n in cast.get(tconst, []) if n in names],
        }
        collector.add(line, raw, tsv_record, joined)
    return collector.result()


def _tsv_reject(collector: _Collector) -> Callable[[int, str, str], None]:
    def reject(line: int, reason: str, raw: str) -> None:
        collector.reject(line, None, reason, raw)

    return reject


def _tsv_ratings(directory: Path, titles: set[str]) -> dict[str, tuple[str | None, str | None]]:
    path = find_tsv(directory, "title.ratings")
    if path is None:
        return {}
    problems = _SideFileProblems(path)
    ratings = {
        values["tconst"] or "": (values["averageRating"], values["numVotes"])
        for _, _, values in read_tsv(path, ("tconst", "averageRating", "numVotes"), problems)
        if values["tconst"] in titles
    }
    problems.log()
    return ratings


def _tsv_people(
    directory: Path, titles: set[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Directors and cast per title, from principals (by ``ordering``), else from crew."""
    credits: dict[str, list[tuple[int, str, str]]] = {}
    path = find_tsv(directory, "title.principals")
    if path is not None:
        problems = _SideFileProblems(path)
        required = ("tconst", "ordering", "nconst", "category")
        for _, _, values in read_tsv(path, required, problems):
            category = values["category"] or ""
            if values["tconst"] not in titles or not values["nconst"]:
                continue
            if category == "director" or category in _CAST_CATEGORIES:
                ordering = values["ordering"] or ""
                order = int(ordering) if ordering.isdigit() else 10**6
                credits.setdefault(values["tconst"] or "", []).append(
                    (order, category, values["nconst"])
                )
        problems.log()
    directors: dict[str, list[str]] = {}
    cast: dict[str, list[str]] = {}
    for tconst, people in credits.items():
        people.sort()
        directors[tconst] = [n for _, c, n in people if c == "director"]
        cast[tconst] = [n for _, c, n in people if c in _CAST_CATEGORIES]
    _tsv_crew_directors(directory, titles, directors)
    return directors, cast


def _tsv_crew_directors(directory: Path, titles: set[str], directors: dict[str, list[str]]) -> None:
    # principals holds only the ten top-billed people: a title whose ten name no director
    # still has its directors in title.crew.
    path = find_tsv(directory, "title.crew")
    if path is None:
        return
    problems = _SideFileProblems(path)
    for _, _, values in read_tsv(path, ("tconst", "directors"), problems):
        tconst = values["tconst"]
        if tconst in titles and values["directors"] and not directors.get(tconst):
            directors[tconst] = values["directors"].split(",")
    problems.log()


def _tsv_names(directory: Path, wanted: set[str]) -> dict[str, str]:
    path = find_tsv(directory, "name.basics")
    if path is None:
        if wanted:
            logger.warning("%s: no name.basics file; directors and cast left empty", directory)
        return {}
    problems = _SideFileProblems(path)
    names = {
        values["nconst"] or "": values["primaryName"] or ""
        for _, _, values in read_tsv(path, ("nconst", "primaryName"), problems)
        if values["nconst"] in wanted and values["primaryName"]
    }
    problems.log()
    return names


# -- delimited and JSON loaders -----------------------------------------------------------

_CSV_SPECS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Mapper, str]] = {
    "movies_dataset": (
        MOVIES_DATASET_REQUIRED,
        MOVIES_DATASET_OPTIONAL,
        movies_dataset_record,
        "The Movies Dataset movies_metadata.csv",
    ),
    "tmdb_5000": (TMDB_REQUIRED, TMDB_OPTIONAL, tmdb_5000_record, "TMDB 5000 tmdb_5000_movies.csv"),
    "imdb_top_1000": (TOP_1000_REQUIRED, TOP_1000_OPTIONAL, top_1000_record, "imdb_top_1000.csv"),
}


def load_csv_format(fmt: str, path: Path) -> Collected:
    required, optional, mapper, what = _CSV_SPECS[fmt]
    collector = _Collector(fmt, path)
    expected = f"{what} with columns {', '.join(required)}"
    records = read_csv_records(
        path,
        source=collector.source,
        required=required,
        optional=optional,
        quarantine=collector.quarantine,
        expected=expected,
    )
    for record in records:
        collector.add(record.line, record.raw.rstrip("\r\n"), mapper, record.values)
    return collector.result()


def load_json_format(fmt: str, path: Path, mapper: Mapper) -> Collected:
    collector = _Collector(fmt, path)
    for row, record in read_json_records(
        path, source=collector.source, quarantine=collector.quarantine
    ):
        raw = json.dumps(record, ensure_ascii=False, sort_keys=True)
        collector.add(row, raw, mapper, record)
    return collector.result()


def load_bright_data(path: Path) -> Collected:
    """Bright Data IMDb as a JSON array, NDJSON or CSV (nested fields then as JSON text)."""
    if _first_char(path) in ("[", "{"):
        return load_json_format("bright_data", path, bright_data_record)
    collector = _Collector("bright_data", path)
    records = read_csv_records(
        path,
        source=collector.source,
        required=("title",),
        optional=tuple(f for f in BRIGHT_DATA_FIELDS if f != "title"),
        quarantine=collector.quarantine,
        expected="a Bright Data IMDb CSV export with at least title and url",
    )
    for record in records:
        values = {k: v for k, v in record.values.items() if v != ""}
        collector.add(record.line, record.raw.rstrip("\r\n"), bright_data_record, values)
    return collector.result()


def load_itemsapi(path: Path) -> Collected:
    return load_json_format("itemsapi", path, itemsapi_record)


LOADERS: dict[str, Callable[[Path], Collected]] = {
    "bright_data": load_bright_data,
    "imdb_tsv": load_imdb_tsv,
    "movies_dataset": lambda path: load_csv_format("movies_dataset", path),
    "tmdb_5000": lambda path: load_csv_format("tmdb_5000", path),
    "imdb_top_1000": lambda path: load_csv_format("imdb_top_1000", path),
    "itemsapi": load_itemsapi,
}


# -- format detection ---------------------------------------------------------------------

_DETECT_BYTES = 4 * 1024 * 1024
_EXPECTED_FORMATS = (
    "a Bright Data IMDb JSON/NDJSON/CSV export, an IMDb dataset directory or "
    "title.basics.tsv[.gz], The Movies Dataset movies_metadata.csv, tmdb_5000_movies.csv, "
    "imdb_top_1000.csv or itemsapi imdb.json"
)


def _first_char(path: Path) -> str:
    with open_text(path, _EXPECTED_FORMATS) as handle:
        head = handle.read(4096)
    stripped = head.lstrip()
    return stripped[:1]


def detect_format(path: Path) -> str:
    """The format of ``path`` from its name and its header or first record's keys."""
    if path.is_dir():
        if find_tsv(path, "title.basics") is None:
            raise InputFileError(path, "directory has no title.basics file", _EXPECTED_FORMATS)
        return "imdb_tsv"
    with open_text(path, _EXPECTED_FORMATS) as handle:
        head = handle.read(_DETECT_BYTES)
    stripped = head.lstrip()
    if not stripped:
        raise InputFileError(path, "file is empty", _EXPECTED_FORMATS)
    json_like = stripped[0] in "[{"
    keys = _first_record_keys(path, stripped) if json_like else _header_keys(stripped)
    fmt = _format_from_keys(keys, path.name)
    if fmt is None:
        shown = sorted(keys)[:20]
        raise InputFileError(path, f"unknown IMDB file format (keys {shown})", _EXPECTED_FORMATS)
    return fmt


def _first_record_keys(path: Path, text: str) -> set[str]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    try:
        first, _ = decoder.raw_decode(text, start) if start >= 0 else (None, 0)
    except (ValueError, RecursionError):
        raise InputFileError(
            path, "first JSON record does not parse (or is over 4 MB)", _EXPECTED_FORMATS
        ) from None
    return set(first) if isinstance(first, dict) else set()


def _header_keys(text: str) -> set[str]:
    first_line = text.splitlines()[0]
    delimiter = "\t" if "\t" in first_line else ","
    return {name.strip() for name in next(csv.reader([first_line], delimiter=delimiter))}


def _format_from_keys(keys: set[str], name: str) -> str | None:
    if {"tconst", "titleType", "primaryTitle"} <= keys:
        return "imdb_tsv"
    if {"Series_Title", "Released_Year", "IMDB_Rating"} <= keys:
        return "imdb_top_1000"
    if {"imdb_id", "id", "title", "overview"} <= keys:
        return "movies_dataset"
    if {"id", "title", "overview", "keywords"} <= keys:
        return "tmdb_5000"
    if {"name", "storyline", "director", "actors"} <= keys:
        return "itemsapi"
    if "title" in keys and len(keys & _BRIGHT_DATA_MARKERS) >= 2:
        return "bright_data"
    # Column names alone are ambiguous for minimal exports; the file name breaks the tie.
    lowered = name.lower()
    if lowered.startswith("title.basics"):
        return "imdb_tsv"
    if "bright" in lowered and "title" in keys:
        return "bright_data"
    return None
