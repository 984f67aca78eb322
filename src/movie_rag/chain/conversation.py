"""How a request shapes the query: the conversation so far, explicit filters, relaxations.

A follow-up reads against the earlier turns (:func:`apply_history`); filters a client sends
tighten what the question said (:func:`tighten`); when the words of a question together
match nothing, their softest constraints give way one kind at a time (:func:`relaxations`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from movie_rag.chain.types import HistoryTurn, ParsedQuery, SeedMovie
from movie_rag.index.filters import SearchFilters

if TYPE_CHECKING:
    from movie_rag.chain.catalogue import Catalogue
    from movie_rag.chain.query import QueryParser

__all__ = [
    "DARKER_GENRES",
    "LIGHTER_GENRES",
    "apply_history",
    "filters_dict",
    "relaxations",
    "tighten",
]

#: Mood shifts for follow-ups ("something lighter"): soft boosts, never filters.
LIGHTER_GENRES = ["Comedy", "Animation", "Children", "Musical", "Romance"]
#: The other way ("something darker").
DARKER_GENRES = ["Thriller", "Horror", "Crime", "Film-Noir", "Mystery"]


def apply_history(
    parsed: ParsedQuery,
    history: Sequence[HistoryTurn],
    parser: QueryParser,
    catalogue: Catalogue,
) -> tuple[ParsedQuery, set[int]]:
    """``parsed`` read in the light of the conversation so far, and the movies not to repeat.

    A follow-up ("more like the second one", "something lighter", "show me more") keeps
    the earlier question's constraints, points at a movie shown before or shifts the mood;
    everything shown before (and the movie the conversation started from) is excluded.

    Args:
        parsed: The new question, parsed.
        history: Earlier turns, oldest first.
        parser: Parses the earlier question again.
        catalogue: Resolves the movie a follow-up points at.

    Returns:
        The query to rank and the movie ids to exclude.
    """
    follow_up = parsed.follow_up
    shown = [movie_id for turn in history for movie_id in turn.recommendations]
    if follow_up is None or not history:
        return parsed, set()
    last_shown = next((t.recommendations for t in reversed(history) if t.recommendations), [])
    previous_query = next((t.content for t in reversed(history) if t.role == "user"), "")
    base = parser.parse(previous_query) if previous_query else parsed
    if base.seed is not None:
        # The movie the conversation started from is not a new suggestion either.
        shown.append(base.seed.movie_id)
    base = base.model_copy(update={"text": parsed.text, "follow_up": follow_up})
    if follow_up.kind == "more_like" and follow_up.position is not None:
        # "More like the second one" is about that movie, not the earlier constraints.
        base = parsed.model_copy(update={"follow_up": follow_up})
        position = follow_up.position
        if position < 0:  # "that last one"
            position += len(last_shown)
        if 0 <= position < len(last_shown):
            movie_id = last_shown[position]
            if movie_id in catalogue:
                movie = catalogue.movie(movie_id)
                seed = SeedMovie(movie_id=movie_id, title=movie["title"], year=movie.get("year"))
                return base.model_copy(update={"seed": seed}), set(shown)
        return parsed, set(shown)
    if follow_up.kind == "lighter":
        return base.model_copy(update={"boost_genres": LIGHTER_GENRES, "seed": None}), set(shown)
    if follow_up.kind == "darker":
        return base.model_copy(update={"boost_genres": DARKER_GENRES, "seed": None}), set(shown)
    return base, set(shown)


def tighten(parsed: SearchFilters, given: SearchFilters) -> SearchFilters:
    """The question's filters tightened by explicit ones (UI sidebar, API), never loosened."""
    merged = parsed.model_dump()
    for name, value in given.model_dump().items():
        if value is None:
            continue
        current = merged.get(name)
        if current is None:
            merged[name] = value
        elif name in ("year_min", "min_rating", "min_votes"):
            merged[name] = max(current, value)
        elif name == "year_max":
            merged[name] = min(current, value)
        elif name == "include_ids":
            merged[name] = frozenset(current) & frozenset(value)
        elif name == "exclude_ids":
            merged[name] = frozenset(current) | frozenset(value)
        elif name == "genres_any":
            merged[name] = value
        else:
            merged[name] = tuple(dict.fromkeys([*current, *value]))
    low, high = merged.get("year_min"), merged.get("year_max")
    if low is not None and high is not None and low > high:
        merged["year_max"] = low
    return SearchFilters.model_validate(merged)


# Which understood constraints give way first when together they match nothing.
_RELAXED = (
    (("people",), "the people named"),
    (("min_rating", "min_votes"), "the rating asked for"),
    (("year_min", "year_max"), "the years"),
    (("genres_any", "genres_all"), "the genres"),
)


def relaxations(parsed: ParsedQuery) -> Iterator[tuple[ParsedQuery, str]]:
    """``parsed`` with its text constraints dropped one kind at a time, cumulatively."""
    filters = parsed.filters
    dropped: list[str] = []
    for names, label in _RELAXED:
        if all(getattr(filters, name) is None for name in names):
            continue
        filters = filters.model_copy(update=dict.fromkeys(names))
        dropped.append(label)
        yield parsed.model_copy(update={"filters": filters}), " and ".join(dropped)


def filters_dict(filters: SearchFilters) -> dict[str, Any]:
    """The set filters as JSON-ready values (what a response reports)."""
    out: dict[str, Any] = {}
    for name, value in filters.model_dump(exclude_none=True).items():
        if isinstance(value, frozenset | set):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out
