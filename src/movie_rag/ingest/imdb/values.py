"""Value parsing for IMDB-like formats: the helpers a format's mapper is written with.

Leniency rules, shared by all formats:

* identifiers that do not parse (IMDb id, TMDB id) and missing titles reject the record
  (:class:`RowError`);
* descriptive values that do not parse (a year of ``"PG"``, a rating of ``"n/a"``) become null
  through :func:`lenient`, the record is kept, and the value is counted per field in the build
  report;
* a structured field (list or object written as JSON or a Python literal) that does not parse
  rejects the record, since it means the row itself is broken.
"""

from __future__ import annotations

import ast
import html
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from movie_rag.ingest.ids import normalize_imdb_id
from movie_rag.ingest.readers import MAX_JSON_DEPTH, json_depth

__all__ = [
    "NOT_MOVIES",
    "Notes",
    "RowError",
    "as_list",
    "clean_list",
    "clean_overview",
    "clean_text",
    "imdb_id_from_url",
    "language_names",
    "lenient",
    "named_items",
    "parse_count",
    "parse_rating",
    "parse_runtime",
    "parse_structured",
    "parse_year",
    "required_imdb_id",
    "required_title",
    "required_tmdb_id",
    "strip_written_by",
]

_INT32_MAX = 2**31 - 1

#: Title types that are not movies (IMDb's ``titleType``, Bright Data's ``media_type``).
NOT_MOVIES = frozenset({"tvepisode", "videogame"})

#: Values set to null while mapping one record, by ``"<field>: <why>"``.
Notes = Counter[str]


class RowError(ValueError):
    """A record that must go to the quarantine, with the field to blame."""

    def __init__(self, field_name: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


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
    """Cleaned text, or None for a placeholder such as TMDB's "No overview found."."""
    text = clean_text(value, unescape=unescape)
    if text is None or _PLACEHOLDER.fullmatch(text):
        return None
    return text


# IMDb storylines end with their author: "... Written by Keith Loh <loh@sfu.ca>".
_WRITTEN_BY = re.compile(r"\s*\bWritten by\b[^\n]{0,200}$")


def strip_written_by(text: str | None) -> str | None:
    """The storyline without IMDb's trailing "Written by <author>"."""
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
    """The normalised ``tt...`` id (None when blank); one that does not parse rejects the record."""
    try:
        return normalize_imdb_id(value)
    except ValueError as exc:
        raise RowError(field_name, str(exc)) from None


def required_tmdb_id(value: Any, field_name: str) -> int:
    """A positive TMDB id; a missing or malformed one rejects the record."""
    text = clean_text(value)
    if text is None:
        raise RowError(field_name, "missing TMDB id")
    if not text.isdigit() or not 0 < int(text) <= _INT32_MAX:
        raise RowError(field_name, f"TMDB id is not a positive integer: {text!r}")
    return int(text)


def required_title(value: Any, field_name: str, *, unescape: bool = False) -> str:
    """The cleaned title; a missing one rejects the record."""
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
    """``parse(value)``; a non-blank value that does not parse becomes None and is noted.

    The note names ``field_name`` (the source's column): the build report counts it there.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse(value)
    if parsed is None and not _is_zero(value):
        notes[f"{field_name}: unparseable"] += 1
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


def language_names(value: Any, field_name: str) -> list[str]:
    """Language names from TMDB's ``spoken_languages`` (the ISO code where the name is empty)."""
    names = []
    for item in as_list(value, field_name):
        if isinstance(item, dict):
            names.append(item.get("name") or item.get("iso_639_1") or "")
        elif isinstance(item, str):
            names.append(item)
    return names
