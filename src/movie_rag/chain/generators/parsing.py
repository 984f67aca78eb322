"""Read whatever a chat model wrote into a :class:`~movie_rag.chain.types.GeneratedAnswer`.

Structured JSON, fenced or embedded JSON, JSON with trailing commas, single quotes or cut
short by a token limit, or a numbered list as a last resort. Never raises: what cannot be
read becomes an answer without picks.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from typing import Any

from movie_rag.chain.types import GeneratedAnswer, Pick

__all__ = ["parse_answer", "parse_with_method"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_PICK_LISTS = ("picks", "recommendations", "movies", "results", "items", "films")
_INTRO_KEYS = ("intro", "introduction", "answer", "message", "summary", "response", "text")
_TITLE_KEYS = ("title", "name", "movie", "movie_title", "film")
_REASON_KEYS = ("reason", "why", "explanation", "because", "justification", "description")
_YEAR = re.compile(r"\b(18[89]\d|19\d{2}|20\d{2})\b")
_TITLE_YEAR = re.compile(r"^(?P<title>.+?)\s*[(\[]\s*(?P<year>(?:18|19|20)\d{2})\s*[)\]]\s*")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}\s*[.):]|[-*•+])\s+(?P<body>\S.*)$")
# Strongest first: "Star Wars: Episode IV - A New Hope — reason" splits at the dash.
_REASON_SEPARATORS = (" — ", " – ", "—", " -- ", " - ", ": ")
_MAX_JSON_STARTS = 20
_MAX_TITLE_CHARS = 200


def parse_answer(text: str) -> GeneratedAnswer:
    """Read a model's answer into intro and picks, whatever shape it came in.

    Tries, in order: JSON (whole, fenced in markdown, or embedded in prose; trailing commas
    and single quotes tolerated; an answer cut short keeps its complete picks), then a
    numbered or bulleted ``Title (Year) — reason`` list, then the text as a plain intro.
    ``movie_id`` fields a model writes are ignored: it was never shown any.

    Args:
        text: The model's message content.

    Returns:
        What could be read; never raises.

    Example:
        >>> answer = parse_answer('Sure: {"picks": [{"title": "Heat", "year": 1995,}]} Enjoy!')
        >>> answer.picks[0].title, answer.picks[0].year
        ('Heat', 1995)
    """
    return parse_with_method(text)[0]


def parse_with_method(text: str) -> tuple[GeneratedAnswer, str]:
    """Like :func:`parse_answer`, also saying how the answer was read.

    Args:
        text: The model's message content.

    Returns:
        The answer and how it was read: ``json``, ``repaired JSON``, ``a list``,
        ``prose without picks`` or ``an empty answer``.
    """
    text = (text or "").strip()
    if not text:
        return GeneratedAnswer(), "an empty answer"
    try:
        strict: Any = json.loads(text)
    except ValueError:
        strict = None
    answer = _from_json(strict) if strict is not None else None
    if answer is not None:
        return answer, "json"
    for match in _FENCE.finditer(text):
        # Chat models often fence otherwise valid JSON in markdown: not worth a warning.
        try:
            fenced = _from_json(json.loads(match.group(1)))
        except ValueError:
            continue
        if fenced is not None:
            return fenced, "json"
    for candidate in _json_candidates(text):
        value = _loads_lenient(candidate)
        if value is None:
            continue
        answer = _from_json(value)
        if answer is not None:
            return answer, "repaired JSON"
    listed = _from_list(text)
    if listed.picks:
        return listed, "a list"
    return GeneratedAnswer(intro=text), "prose without picks"


def _json_candidates(text: str) -> Iterator[str]:
    """Strings that may hold the JSON answer, most likely first."""
    yield text
    for match in _FENCE.finditer(text):
        inner = match.group(1).strip()
        if inner:
            yield inner
    starts = [i for i, ch in enumerate(text) if ch in "{["][:_MAX_JSON_STARTS]
    for start in starts:
        yield text[start:]


def _loads_lenient(text: str) -> Any:
    if not text or text[0] not in "{[":
        return None
    decoder = json.JSONDecoder()
    without_commas = _drop_trailing_commas(text)
    for attempt in (text, without_commas):
        try:
            return decoder.raw_decode(attempt)[0]
        except ValueError:
            pass
    closed = _close_truncated(without_commas)
    if closed is not None:
        return closed
    return _python_literal(without_commas)


def _drop_trailing_commas(text: str) -> str:
    """Remove commas that directly precede a closing bracket, outside strings."""
    out: list[str] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == ",":
            rest = text[i + 1 :].lstrip()
            if rest[:1] in {"}", "]"}:
                continue
        out.append(ch)
    return "".join(out)


def _close_truncated(text: str) -> Any:
    """Decode the longest prefix that ends a complete value, closing what is still open.

    A model stopped by its token limit writes ``{"picks": [{...}, {"title": "He``; this
    keeps the complete picks and drops the one cut in half.
    """
    stack: list[str] = []
    ends: list[tuple[int, str]] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack[-1] != ch:
                break
            stack.pop()
            if not stack:
                break  # complete: raw_decode already had its chance
            ends.append((i + 1, "".join(reversed(stack))))
    decoder = json.JSONDecoder()
    for end, closers in reversed(ends[-50:]):
        try:
            return decoder.raw_decode(text[:end] + closers)[0]
        except ValueError:
            continue
    return None


def _python_literal(text: str) -> Any:
    """Single-quoted, Python-style dicts (``{'title': 'Heat'}``), which some models write."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "{["
        depth -= ch in "}]"
        if depth == 0:
            try:
                return ast.literal_eval(text[: i + 1])
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
    return None


def _from_json(value: Any, depth: int = 0) -> GeneratedAnswer | None:
    if isinstance(value, list):
        picks = [pick for item in value if (pick := _pick_from(item)) is not None]
        return GeneratedAnswer(picks=picks) if picks or not value else None
    if not isinstance(value, dict):
        return None
    keys = {str(key).lower(): key for key in value}
    intro = next(
        (value[keys[k]] for k in _INTRO_KEYS if k in keys and isinstance(value[keys[k]], str)),
        "",
    )
    for name in _PICK_LISTS:
        if name in keys and isinstance(value[keys[name]], list):
            items = value[keys[name]]
            picks = [pick for item in items if (pick := _pick_from(item)) is not None]
            return GeneratedAnswer(intro=intro.strip(), picks=picks)
    single = _pick_from(value)
    if single is not None:
        return GeneratedAnswer(picks=[single])
    if depth == 0:
        for nested in value.values():
            if isinstance(nested, dict | list):
                found = _from_json(nested, depth + 1)
                if found is not None and found.picks:
                    return found.model_copy(update={"intro": found.intro or intro.strip()})
    return GeneratedAnswer(intro=intro.strip()) if intro else None


def _pick_from(item: Any) -> Pick | None:
    if isinstance(item, str):
        return _pick_from_line(item)
    if not isinstance(item, dict):
        return None
    keys = {str(key).lower(): key for key in item}
    title: Any = next((item[keys[k]] for k in _TITLE_KEYS if k in keys), None)
    if isinstance(title, dict):
        return _pick_from({**title, **{k: v for k, v in item.items() if k not in title}})
    if not isinstance(title, str):
        return None
    reason = next(
        (item[keys[k]] for k in _REASON_KEYS if k in keys and isinstance(item[keys[k]], str)),
        "",
    )
    year_key = next((k for k in ("year", "release_year", "released") if k in keys), None)
    year = _year_of(item[keys[year_key]]) if year_key else None
    title = _clean_title(title)
    match = _TITLE_YEAR.match(title + " ")
    if match and match.end() >= len(title):
        title, year = match.group("title").strip(), year or int(match.group("year"))
    if not title or len(title) > _MAX_TITLE_CHARS:
        return None
    return Pick(title=title, year=year, reason=" ".join(reason.split()))


def _pick_from_line(body: str) -> Pick | None:
    body = _strip_markdown(body.strip())
    if not body:
        return None
    match = _TITLE_YEAR.match(body)
    if match:
        title, year = match.group("title"), int(match.group("year"))
        reason = body[match.end() :].lstrip(" —–-:.,")
    else:
        title, reason = _split_reason(body)
        year = None
    title = _clean_title(title)
    if not title or len(title) > 120:
        return None
    return Pick(title=title, year=year, reason=" ".join(reason.split()))


def _from_list(text: str) -> GeneratedAnswer:
    intro: list[str] = []
    picks: list[Pick] = []
    for line in text.splitlines():
        match = _LIST_ITEM.match(line)
        if match:
            pick = _pick_from_line(match.group("body"))
            if pick is not None:
                picks.append(pick)
        elif not picks and line.strip():
            intro.append(line.strip())
    return GeneratedAnswer(intro=" ".join(intro), picks=picks)


def _year_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 1870 <= value <= 2100:
        return int(value)
    if isinstance(value, str):
        match = _YEAR.search(value)
        return int(match.group(1)) if match else None
    return None


def _split_reason(body: str) -> tuple[str, str]:
    for separator in _REASON_SEPARATORS:
        title, found, reason = body.partition(separator)
        if found and title.strip():
            return title, reason
    return body, ""


def _strip_markdown(text: str) -> str:
    text = re.sub(r"\*\*|__|`", "", text)
    # *Emphasis* and _italics_ around words, not the marks inside them ("Bat*21").
    return re.sub(r"(?<!\w)[*_]|[*_](?!\w)", "", text)


def _clean_title(title: str) -> str:
    title = _strip_markdown(" ".join(title.split()))
    return title.strip(" \"'“”‘’«».,;:")
