"""Search filters shared by every index backend.

A :class:`SearchFilters` is plain data: the local index evaluates it as a mask over its
metadata, a remote backend compiles it to its own filter syntax, and :meth:`matches` is the
reference semantics both are tested against.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["FiltersLike", "SearchFilters", "as_filters", "normalise_name"]


def normalise_name(name: str) -> str:
    """The form genres and people are compared in: case-folded, whitespace collapsed.

    Args:
        name: A genre or a person's name as written anywhere.

    Returns:
        The comparison key (``"  Tom   HANKS "`` → ``"tom hanks"``).
    """
    return " ".join(name.split()).casefold()


class SearchFilters(BaseModel):
    """Hard constraints on search results; unset fields constrain nothing.

    All set fields must hold at once. A movie whose value is unknown (``year``, ``rating``
    or ``votes`` is null) fails any bound on that value. Genres and people compare
    case-insensitively; people match a director or a cast member by full name. An empty
    ``genres_any``, ``genres_all``, ``people`` or ``exclude_ids`` constrains nothing, but an
    empty ``include_ids`` matches no movie (it is an allow-list).

    Attributes:
        genres_any: At least one of these genres.
        genres_all: Every one of these genres.
        year_min: Released in or after this year.
        year_max: Released in or before this year.
        min_rating: ``rating`` (0-10) at least this.
        min_votes: ``votes`` at least this.
        people: Every one of these people directed or plays in the movie.
        include_ids: Only these movie ids.
        exclude_ids: None of these movie ids.

    Example:
        >>> from movie_rag.index import SearchFilters
        >>> f = SearchFilters(genres_any=["horror"], year_min=1990, year_max=1999)
        >>> f.matches({"movie_id": 1, "genres": ["Horror"], "year": 1996})
        True
        >>> f.matches({"movie_id": 2, "genres": ["Horror"], "year": None})
        False
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    genres_any: tuple[str, ...] | None = None
    genres_all: tuple[str, ...] | None = None
    year_min: int | None = None
    year_max: int | None = None
    min_rating: float | None = Field(None, ge=0.0, le=10.0)
    min_votes: int | None = Field(None, ge=0)
    people: tuple[str, ...] | None = None
    include_ids: frozenset[int] | None = None
    exclude_ids: frozenset[int] | None = None

    @field_validator("genres_any", "genres_all", "people", mode="after")
    @classmethod
    def _drop_empty_names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        kept = tuple(name for name in value if name.strip())
        return kept or None

    @field_validator("exclude_ids", mode="after")
    @classmethod
    def _drop_empty_exclusions(cls, value: frozenset[int] | None) -> frozenset[int] | None:
        return value or None

    @model_validator(mode="after")
    def _years_in_order(self) -> SearchFilters:
        low, high = self.year_min, self.year_max
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"year_min ({low}) is after year_max ({high}); swap them or drop one bound"
            )
        return self

    @property
    def is_empty(self) -> bool:
        """True when no field constrains anything."""
        return all(value is None for value in self.model_dump().values())

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether one movie satisfies every set constraint.

        Args:
            record: A movie as a mapping with ``movies_info`` column names; missing keys
                count as null.

        Returns:
            True when the movie passes the filters.
        """
        if self.include_ids is not None and int(record["movie_id"]) not in self.include_ids:
            return False
        if self.exclude_ids is not None and int(record["movie_id"]) in self.exclude_ids:
            return False
        if not self._genres_match(record.get("genres")):
            return False
        if not _at_least(record.get("year"), self.year_min):
            return False
        if not _at_most(record.get("year"), self.year_max):
            return False
        if not _at_least(record.get("rating"), self.min_rating):
            return False
        if not _at_least(record.get("votes"), self.min_votes):
            return False
        if self.people is not None:
            credited = _names(record.get("directors")) | _names(record.get("cast"))
            return all(normalise_name(person) in credited for person in self.people)
        return True

    def _genres_match(self, genres: Iterable[str] | None) -> bool:
        if self.genres_any is None and self.genres_all is None:
            return True
        present = _names(genres)
        if self.genres_any is not None and not any(
            normalise_name(g) in present for g in self.genres_any
        ):
            return False
        return self.genres_all is None or all(normalise_name(g) in present for g in self.genres_all)


def _names(values: Iterable[str] | None) -> set[str]:
    return {normalise_name(v) for v in values or () if v is not None}


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _at_least(value: Any, bound: float | None) -> bool:
    return bound is None or (_known(value) and value >= bound)


def _at_most(value: Any, bound: float | None) -> bool:
    return bound is None or (_known(value) and value <= bound)


#: What a search accepts as filters: the model, a mapping of its fields, or nothing.
FiltersLike = SearchFilters | Mapping[str, Any] | None


def as_filters(filters: FiltersLike) -> SearchFilters | None:
    """``filters`` as a :class:`SearchFilters` (a mapping is validated field by field).

    Raises:
        TypeError: ``filters`` is neither a SearchFilters, a mapping nor None.
        pydantic.ValidationError: A mapping names an unknown field or a bad value.
    """
    if filters is None or isinstance(filters, SearchFilters):
        return filters
    if isinstance(filters, Mapping):
        return SearchFilters.model_validate(dict(filters))
    raise TypeError(
        f"filters must be a SearchFilters or a mapping of its fields, got {type(filters).__name__}"
    )
