"""Look movies and people up in the catalogue by the names people (and LLMs) write.

Built once from ``movies_info`` (an Arrow table, no Spark). Titles resolve in any common form:
``"The Matrix"``, ``"Matrix, The"``, ``"the matrix (1999)"``, ``"Jurasic Park"``. People are
the catalogue's directors and cast, found inside free text by their full names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from movie_rag.catalog.titles import title_key
from movie_rag.catalog.visibility import columns_above

__all__ = ["Catalogue", "MovieRef"]

_YEAR_SUFFIX = re.compile(r"\s*[(\[]?\s*((?:19|20)\d{2})\s*[)\]]?\s*$")
_WORDS = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
_MAX_NAME_WORDS = 4
#: A misspelt name is matched only to people with at least this many films.
MIN_FILMS_FOR_FUZZY_NAME = 2
# Each word of a misspelt name is at least this close to the name's word (0-100).
_MIN_WORD_SCORE = 70.0
_INTERNAL = columns_above("prompt")


@dataclass(frozen=True)
class MovieRef:
    """A catalogue movie a name resolved to.

    Attributes:
        movie_id: The movie's key.
        title: Its display title.
        year: Its year, or None.
        score: Match confidence, 100 for an exact title match.
    """

    movie_id: int
    title: str
    year: int | None
    score: float


class Catalogue:
    """Title and people lookups over movies_info.

    Args:
        table: movies_info as Arrow (needs ``movie_id``, ``title``, ``year``, ``votes``,
            ``directors``, ``cast``); every public column is kept, ``user_tags``,
            ``document`` and ``content_hash`` are not.
        fuzzy_cutoff: Minimum rapidfuzz score (0–100) for a fuzzy title match.

    Example:
        >>> catalogue = Catalogue(movies_info_table)  # doctest: +SKIP
        >>> catalogue.resolve_title("Matrix, The").title  # doctest: +SKIP
        'The Matrix'
    """

    def __init__(self, table: pa.Table, *, fuzzy_cutoff: float = 88.0) -> None:
        self.fuzzy_cutoff = fuzzy_cutoff
        columns = {name: table.column(name).to_pylist() for name in _needed(table)}
        self._movies: dict[int, dict[str, Any]] = {}
        self._by_key: dict[str, list[int]] = defaultdict(list)
        self._title_keys: dict[int, str] = {}
        people: dict[str, set[int]] = defaultdict(set)
        self._display_name: dict[str, str] = {}
        for i, movie_id in enumerate(columns["movie_id"]):
            movie = {name: values[i] for name, values in columns.items()}
            self._movies[movie_id] = movie
            key = title_key(movie["title"])
            self._title_keys[movie_id] = key
            self._by_key[key].append(movie_id)
            for name in [*(movie.get("directors") or []), *(movie.get("cast") or [])]:
                key = _name_key(name)
                if key:
                    people[key].add(movie_id)
                    self._display_name.setdefault(key, name)
        self._people = dict(people)
        self._keys = list(self._by_key)
        self._name_buckets: dict[tuple[str, str, int], list[tuple[str, list[str], str]]] | None
        self._name_buckets = None

    def __len__(self) -> int:
        return len(self._movies)

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self._movies

    def movie(self, movie_id: int) -> Mapping[str, Any]:
        """The catalogue columns of one movie (raises KeyError when unknown)."""
        return self._movies[movie_id]

    def resolve_title(self, text: str, year: int | None = None) -> MovieRef | None:
        """The catalogue movie a written title means, or None.

        An exact (normalised) title wins; with several movies of that title the one of the
        given year, else the most voted. Then a title the text starts (``"Shawshank"``), the
        most voted of them; then the closest title when its fuzzy score reaches
        ``fuzzy_cutoff`` (small typos).

        Args:
            text: The title as written, optionally with a year (``"Heat (1995)"``).
            year: A year that disambiguates remakes.

        Returns:
            The movie, or None when nothing is close enough.
        """
        from rapidfuzz import fuzz, process

        text = text.strip().strip("\"'“”‘’*_")
        match = _YEAR_SUFFIX.search(text)
        if match and match.start() > 0:
            year = year or int(match.group(1))
            text = text[: match.start()]
        key = title_key(text)
        if not key:
            return None
        if key in self._by_key:
            return self._pick(self._by_key[key], year, 100.0)
        if len(key) >= 4:
            # "Shawshank" → "The Shawshank Redemption", "Star Wars" → its most voted episode.
            prefixed = [k for k in self._keys if k.startswith(key + " ")]
            if prefixed:
                ids = [movie_id for k in prefixed for movie_id in self._by_key[k]]
                return self._pick(ids, year, 90.0)
        best = process.extractOne(
            key, self._keys, scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff
        )
        if best is None or len(key) < 4:
            return None
        return self._pick(self._by_key[best[0]], year, float(best[1]))

    def _pick(self, movie_ids: list[int], year: int | None, score: float) -> MovieRef:
        def rank(movie_id: int) -> tuple[bool, int, int]:
            movie = self._movies[movie_id]
            same_year = year is not None and movie.get("year") == year
            return (same_year, int(movie.get("votes") or 0), -movie_id)

        chosen = max(movie_ids, key=rank)
        movie = self._movies[chosen]
        return MovieRef(chosen, movie["title"], movie.get("year"), score)

    def duplicates_of(self, movie_id: int) -> list[int]:
        """Other movie ids with the same normalised title and year (duplicated entries)."""
        movie = self._movies[movie_id]
        return [
            other
            for other in self._by_key[self._title_keys[movie_id]]
            if other != movie_id and self._movies[other].get("year") == movie.get("year")
        ]

    def people_in(self, text: str) -> list[str]:
        """Catalogue people named in ``text`` by full name, longest names first, no overlaps.

        Args:
            text: Free text (``"something with tom hanks directed by Spielberg"``).

        Returns:
            Display names as the catalogue writes them (``["Tom Hanks"]``).
        """
        return [name for name, _, _, _ in self._people_found(text)]

    def people_spans(self, text: str) -> list[tuple[str, int, int]]:
        """Where catalogue people are named in ``text``: ``(display name, start, end)``.

        Longer names win over the shorter names inside them; in text order. Linear in the
        length of the text.
        """
        found = sorted(self._people_found(text), key=lambda f: f[1])
        return [(name, start, end) for name, start, end, _ in found]

    def _people_found(self, text: str) -> list[tuple[str, int, int, int]]:
        # (name, start, end, words), longest names first, then in text order.
        words = [(m.group(0), m.start(), m.end()) for m in _WORDS.finditer(text)]
        found: list[tuple[str, int, int, int]] = []
        taken = [False] * len(words)
        for size in range(_MAX_NAME_WORDS, 1, -1):
            for start in range(len(words) - size + 1):
                if any(taken[start : start + size]):
                    continue
                key = _name_key(" ".join(w for w, _, _ in words[start : start + size]))
                if key in self._people:
                    found.append(
                        (self._display_name[key], words[start][1], words[start + size - 1][2], size)
                    )
                    for i in range(start, start + size):
                        taken[i] = True
        return found

    def closest_person(
        self, written: str, *, cutoff: float = 80.0, exact: frozenset[str] = frozenset()
    ) -> str | None:
        """The well-known person a misspelt name means ("kristin wigg" → Kristen Wiig), or None.

        Only people with at least :data:`MIN_FILMS_FOR_FUZZY_NAME` films are considered, and
        only names with the same number of words and the same first letters, each word close
        to the name's (``"John Cena"`` is not John Callen), so that a typo reaches the person
        and ordinary words reach nobody.

        Args:
            written: Two to four words as written.
            cutoff: Least fuzzy score (0-100) of the whole name.
            exact: Common words that must be written exactly when they are part of the name
                ("will ferel" is Will Ferrell; "too hard" is not Tom Hardy).

        Returns:
            The person's display name, or None.
        """
        from rapidfuzz import fuzz

        words = _name_words(written)
        if len(words) < 2:
            return None
        bucket = self._buckets().get((words[0][0], words[-1][0], len(words)), [])
        target = " ".join(words)
        best, best_score = None, cutoff
        for key, name, joined in bucket:
            if any(
                (w in exact and w != n) or fuzz.ratio(w, n) < _MIN_WORD_SCORE
                for w, n in zip(words, name, strict=True)
            ):
                continue
            score = fuzz.ratio(target, joined)
            if score >= best_score:
                best, best_score = key, score
        return self._display_name[best] if best is not None else None

    def _buckets(self) -> dict[tuple[str, str, int], list[tuple[str, list[str], str]]]:
        # (first letter, last word's first letter, words) -> (key, words, joined words)
        if self._name_buckets is None:
            buckets: dict[tuple[str, str, int], list[tuple[str, list[str], str]]]
            buckets = defaultdict(list)
            for key, films in self._people.items():
                words = _name_words(key)
                if len(films) >= MIN_FILMS_FOR_FUZZY_NAME and len(words) >= 2:
                    entry = (key, words, " ".join(words))
                    buckets[(words[0][0], words[-1][0], len(words))].append(entry)
            self._name_buckets = dict(buckets)
        return self._name_buckets

    def movies_with(self, person: str) -> set[int]:
        """Movie ids a person directed or plays in."""
        return set(self._people.get(_name_key(person), ()))

    def ids(self) -> Iterable[int]:
        """All movie ids."""
        return self._movies.keys()


def _name_words(name: str) -> list[str]:
    # "Daniel Day-Lewis" and "daniel day lewis" are the same words.
    return re.sub(r"[-.’']", " ", name).casefold().split()


def _name_key(name: str) -> str:
    return " ".join(name.replace("’", "'").split()).casefold()


def _needed(table: pa.Table) -> list[str]:
    # Everything public: the generator quotes these values; internal columns stay out.
    return [name for name in table.column_names if name not in _INTERNAL]
