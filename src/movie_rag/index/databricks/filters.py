"""Compiling :class:`SearchFilters` to the standard-endpoint ``filters_json`` syntax."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.index.databricks.codec import PRIMARY_KEY, genre_flag
from movie_rag.index.filters import SearchFilters, normalise_name

__all__ = ["CompiledFilters", "compile_filters"]

_CANONICAL_GENRES = {normalise_name(g): g for g in MOVIELENS_GENRES}


@dataclass(frozen=True)
class CompiledFilters:
    """:class:`SearchFilters` split into what the index evaluates and what we do after.

    Attributes:
        native: The standard-endpoint filter dictionary sent as ``filters_json``.
        residual: Whether some constraint is not in ``native``, so hits are post-filtered
            with :meth:`SearchFilters.matches` and the fetch over-fetches.
        slack: Hits the post-filter may remove beyond what ``native`` already excludes
            (excluded ids that could not be sent), added to the first fetch.
        matches_nothing: The filters exclude every movie (an empty ``include_ids``).
    """

    native: dict[str, Any] = field(default_factory=dict)
    residual: bool = False
    slack: int = 0
    matches_nothing: bool = False


def compile_filters(
    filters: SearchFilters | None, *, storage: Literal["arrays", "flags"]
) -> CompiledFilters:
    """Compile filters to the standard-endpoint syntax, as far as it can express them.

    Args:
        filters: The constraints (None or empty: no filter).
        storage: ``arrays`` when ``genres`` is an array column (Delta Sync index on
            ``movies_info``), ``flags`` when genres are boolean ``genre_*`` columns (Direct
            Access index written by the self-managed mode).

    Returns:
        The native dictionary and whether post-filtering is needed.

    Example:
        >>> from movie_rag.index import SearchFilters
        >>> compiled = compile_filters(
        ...     SearchFilters(genres_any=["sci-fi"], year_min=1990, people=["Tom Hanks"]),
        ...     storage="arrays",
        ... )
        >>> compiled.native, compiled.residual
        ({'genres': 'Sci-Fi', 'year >=': 1990}, True)
    """
    if filters is None or filters.is_empty:
        return CompiledFilters()
    native: dict[str, Any] = {}
    residual = False
    slack = 0
    if filters.include_ids is not None:
        if not filters.include_ids:
            return CompiledFilters(matches_nothing=True)
        native[PRIMARY_KEY] = sorted(filters.include_ids)
    if filters.exclude_ids:
        if len(filters.exclude_ids) == 1 and filters.include_ids is None:
            native[f"{PRIMARY_KEY} NOT"] = next(iter(filters.exclude_ids))
        else:
            residual = True
            slack = len(filters.exclude_ids)
    genres_residual = _compile_genres(filters, storage, native)
    residual = residual or genres_residual
    if filters.year_min is not None:
        native["year >="] = filters.year_min
    if filters.year_max is not None:
        native["year <="] = filters.year_max
    if filters.min_rating is not None:
        native["rating >="] = filters.min_rating
    if filters.min_votes is not None:
        native["votes >="] = filters.min_votes
    if filters.people is not None:
        residual = True
    return CompiledFilters(native=native, residual=residual, slack=slack)


def _canonical(genres: Sequence[str] | None) -> list[str] | None:
    """Canonical spellings, or None when some name is outside the vocabulary."""
    if genres is None:
        return []
    names = [_CANONICAL_GENRES.get(normalise_name(g)) for g in genres]
    if any(name is None for name in names):
        return None
    return list(dict.fromkeys(name for name in names if name is not None))


def _compile_genres(
    filters: SearchFilters, storage: Literal["arrays", "flags"], native: dict[str, Any]
) -> bool:
    """Add genre conditions to ``native``; return whether some are left to post-filter."""
    any_of, all_of = _canonical(filters.genres_any), _canonical(filters.genres_all)
    residual = any_of is None or all_of is None
    if storage == "flags":
        if any_of:
            flags = [genre_flag(g) for g in any_of]
            if len(flags) == 1:
                native[flags[0]] = True
            else:
                native[" OR ".join(flags)] = [True] * len(flags)
        for genre in all_of or ():
            native[genre_flag(genre)] = True
        return residual
    # An array column takes one key: "contains any" for genres_any, else one genres_all name.
    if any_of:
        native["genres"] = any_of[0] if len(any_of) == 1 else any_of
        return residual or bool(all_of)
    if all_of:
        native["genres"] = all_of[0]
        return residual or len(all_of) > 1
    return residual
