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
    "REPHRASE",
    "accumulate",
    "apply_history",
    "filters_dict",
    "relaxations",
    "tighten",
]

#: The answer to a request nothing of which could be read (gibberish).
REPHRASE = (
    "Sorry, I didn't understand that. Could you rephrase? Tell me a genre, a decade, a mood, "
    'an actor or director, or a film you liked, for example: "funny movies from the 90s" or '
    '"something like Alien".'
)

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
    earlier = [parser.parse(t.content) for t in history if t.role == "user" and t.content.strip()]
    if follow_up is None:
        # A new message adds to what the conversation asked so far ("something more recent"
        # after "a horror movie" still wants horror).
        return (accumulate([*earlier, parsed]) if earlier else parsed), set()
    if not history:
        return parsed, set()
    last_shown = next((t.recommendations for t in reversed(history) if t.recommendations), [])
    base = accumulate(earlier) if earlier else parsed
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


def _about_movies(parsed: ParsedQuery) -> bool:
    """Whether a message says anything about movies (not small talk, refusal or gibberish)."""
    from movie_rag.chain.query_patterns import is_chit_chat

    return not (parsed.off_topic or parsed.unclear or is_chit_chat(parsed.text))


def accumulate(messages: Sequence[ParsedQuery]) -> ParsedQuery:
    """One request from every message of a conversation, oldest first.

    Each kind of constraint (genres, years, rating) is the latest message's that sets it;
    people, boosts, avoided genres and the movies named (liked, disliked, seen) add up; the
    seed is the latest one named. Greetings and small talk add nothing. The conversation is
    off-topic only when no message is about movies and one is about something else, and
    unclear only when nothing in it could be read.

    Args:
        messages: The parsed messages (at least one), oldest first.

    Returns:
        The request the conversation makes; its ``text`` is the last message's.
    """
    last = messages[-1]
    useful = [m for m in messages if _about_movies(m)]
    if not useful:
        return last.model_copy(
            update={
                "off_topic": any(m.off_topic for m in messages),
                "unclear": last.unclear
                and all(m.unclear or not _about_movies(m) for m in messages),
            }
        )
    merged = useful[0]
    for message in useful[1:]:
        merged = _merge(merged, message)
    return merged.model_copy(
        update={
            "text": last.text,
            "follow_up": last.follow_up,
            "off_topic": False,
            "unclear": False,
        }
    ).with_seed_set()


def _merge(old: ParsedQuery, new: ParsedQuery) -> ParsedQuery:
    """``old`` with ``new`` read after it (see :func:`accumulate`)."""
    a, b = old.filters, new.filters
    genres_set = b.genres_any is not None or b.genres_all is not None
    years_set = b.year_min is not None or b.year_max is not None
    genres_any, genres_all = (
        (b.genres_any, b.genres_all) if genres_set else (a.genres_any, a.genres_all)
    )
    avoided = set(new.avoid_genres)
    if genres_any and avoided:
        genres_any = tuple(g for g in genres_any if g not in avoided) or None
    filters = SearchFilters(
        genres_any=genres_any,
        genres_all=genres_all,
        year_min=b.year_min if years_set else a.year_min,
        year_max=b.year_max if years_set else a.year_max,
        min_rating=b.min_rating if b.min_rating is not None else a.min_rating,
        min_votes=b.min_votes if b.min_votes is not None else a.min_votes,
        people=_union(a.people, b.people),
        include_ids=b.include_ids if b.include_ids is not None else a.include_ids,
        exclude_ids=frozenset({*(a.exclude_ids or ()), *(b.exclude_ids or ())}) or None,
    )
    required = set(filters.genres_any or ()) | set(filters.genres_all or ())
    disliked = _movies(old.disliked, new.disliked)
    unwanted = {m.movie_id for m in disliked}
    seed = new.seed or old.seed
    if seed is not None and seed.movie_id in unwanted:
        seed = None
    avoid = [g for g in dict.fromkeys([*old.avoid_genres, *new.avoid_genres]) if g not in required]
    search = " ".join(t for t in (old.search_text, new.search_text) if t)
    return new.model_copy(
        update={
            "filters": filters,
            "boost_terms": list(dict.fromkeys([*old.boost_terms, *new.boost_terms])),
            "boost_genres": [
                g
                for g in dict.fromkeys([*old.boost_genres, *new.boost_genres])
                if g not in required and g not in avoid
            ],
            "avoid_genres": avoid,
            "seed": seed,
            "seed_text": None if seed else (new.seed_text or old.seed_text),
            "wants_best": old.wants_best or new.wants_best,
            "open_ask": new.open_ask and (old.open_ask or not old.wants_best),
            "liked": [m for m in _movies(new.liked, old.liked) if m.movie_id not in unwanted],
            "disliked": disliked,
            "seen": _movies(old.seen, new.seen),
            "search_text": search,
        }
    )


def _union(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return tuple(dict.fromkeys([*(a or ()), *(b or ())])) or None


def _movies(*groups: Sequence[SeedMovie]) -> list[SeedMovie]:
    out: dict[int, SeedMovie] = {}
    for group in groups:
        for movie in group:
            out.setdefault(movie.movie_id, movie)
    return list(out.values())


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
