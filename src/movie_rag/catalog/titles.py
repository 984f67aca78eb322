"""Movie titles: MovieLens title parsing and the normalised key used to match records.

MovieLens writes titles as ``"Matrix, The (1999)"`` and keeps foreign or alternative titles in
parentheses (``"City of Lost Children, The (Cité des enfants perdus, La) (1995)"``). Other
sources write ``"The Matrix"``. :func:`title_key` maps every form onto one matching key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["ParsedTitle", "display_title", "parse_movielens_title", "title_key"]

# Leading articles that MovieLens moves to the end ("Misérables, Les").
_ARTICLES = (
    "The",
    "A",
    "An",
    "Les",
    "La",
    "Le",
    "L'",
    "Il",
    "Lo",
    "Gli",
    "I",
    "Das",
    "Der",
    "Die",
    "Den",
    "Det",
    "En",
    "Ett",
    "El",
    "Los",
    "Las",
    "Un",
    "Une",
    "O",
    "Os",
    "As",
    "De",
    "Het",
)
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.+), (?P<article>" + "|".join(re.escape(a) for a in _ARTICLES) + r")$"
)
# For matching keys only: people (and LLMs) also write "matrix, the".
_TRAILING_ARTICLE_ANY_CASE = re.compile(_TRAILING_ARTICLE.pattern, re.IGNORECASE)
# "(1999)", "(2006–2007)" (en dash), "(2006-2007)", "(2006-)"; trailing spaces tolerated.
_YEAR_SUFFIX = re.compile(r"\s*\((?P<year>\d{4})(?:\s*[-–]\s*(?P<end>\d{4})?)?\)\s*$")
_PAREN_SUFFIX = re.compile(r"\s*\((?P<inner>[^()]*)\)\s*$")
_AKA = re.compile(r"^a\.?k\.?a\.?\s+", re.IGNORECASE)
# Letters NFKD leaves whole; dropping them would cut "Schuß" to "schu".
_TRANSLITERATIONS = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ð": "d", "þ": "th", "ł": "l", "đ": "d", "ı": "i"}
)
# Only English articles: "die", "la" or "el" also start titles in English ("Die Hard",
# "La La Land", "El Dorado"), and a MovieLens "Boot, Das" already meets "Das Boot" through
# display_title.
_LEADING_ARTICLE_KEY = re.compile(r"^(?:the|a|an) ")


@dataclass(frozen=True)
class ParsedTitle:
    """A MovieLens title split into its parts.

    Attributes:
        title: Display form with the article in front (``"The Matrix"``).
        year: Release year, or None when the title carries none.
        year_end: Last year of a range such as ``(2006–2007)``, else None.
        alternates: Alternative titles from parentheses, in display form.
    """

    title: str
    year: int | None
    year_end: int | None = None
    alternates: tuple[str, ...] = field(default_factory=tuple)


def display_title(title: str) -> str:
    """Move a trailing article to the front: ``"Matrix, The"`` → ``"The Matrix"``.

    Args:
        title: A title without year.

    Returns:
        The display form; titles without a trailing article come back stripped.
    """
    title = " ".join(title.split())
    match = _TRAILING_ARTICLE.match(title)
    if not match:
        return title
    article = match.group("article")
    body = match.group("body")
    # "L'" joins the next word without a space ("L'Avventura").
    return f"{article}{body}" if article.endswith("'") else f"{article} {body}"


def parse_movielens_title(raw: str) -> ParsedTitle:
    """Parse a MovieLens ``title`` field.

    Args:
        raw: The field as read from ``movies.csv``.

    Returns:
        The display title, year (None when absent), range end and alternative titles.

    Example:
        >>> parse_movielens_title("Matrix, The (1999)")
        ParsedTitle(title='The Matrix', year=1999, year_end=None, alternates=())
        >>> parse_movielens_title("Babylon 5").year is None
        True
    """
    text = " ".join(raw.split())
    year = year_end = None
    match = _YEAR_SUFFIX.search(text)
    if match:
        year = int(match.group("year"))
        year_end = int(match.group("end")) if match.group("end") else None
        text = text[: match.start()].rstrip()
    alternates: list[str] = []
    # Peel "(Alternative title)" groups off the end; keep a title that is only parentheses.
    while True:
        paren = _PAREN_SUFFIX.search(text)
        if not paren or paren.start() == 0:
            break
        inner = _AKA.sub("", paren.group("inner").strip())
        if inner:
            alternates.append(display_title(inner))
        text = text[: paren.start()].rstrip()
    return ParsedTitle(
        title=display_title(text) or text,
        year=year,
        year_end=year_end,
        alternates=tuple(reversed(alternates)),
    )


def title_key(title: str) -> str:
    """The key two spellings of one title share.

    Lower case, accents stripped (``ß`` read as ``ss``, ``æ`` as ``ae``...), ``&`` read as
    ``and``, punctuation dropped, a trailing article moved to the front and a leading English
    one ignored: ``"Matrix, The"``, ``"The Matrix"`` and ``"THE MATRIX!"`` all give
    ``"matrix"``; ``"Boot, Das"`` and ``"Das Boot"`` both give ``"das boot"``. Letters of
    other scripts are kept.

    Args:
        title: Any spelling of a title, without year.

    Returns:
        The matching key (may be empty for a title of punctuation only).
    """
    text = display_title(title)
    lowered = _TRAILING_ARTICLE_ANY_CASE.match(text)
    if lowered:
        text = f"{lowered.group('article')} {lowered.group('body')}"
    text = text.lower().translate(_TRANSLITERATIONS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ")
    text = text.replace("'", "").replace("’", "")
    # Letters and digits of every script count, so Cyrillic, Greek or CJK titles keep their own
    # keys; vowel signs (marks) stay with their letters in scripts such as Devanagari.
    text = "".join(ch if ch.isalnum() or unicodedata.category(ch)[0] == "M" else " " for ch in text)
    return _LEADING_ARTICLE_KEY.sub("", " ".join(text.split()))
