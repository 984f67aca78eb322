"""SearchFilters: the reference semantics every backend's filtering is checked against."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from movie_rag.index import SearchFilters

HEAT: dict[str, Any] = {
    "movie_id": 6,
    "genres": ["Action", "Crime", "Thriller"],
    "year": 1995,
    "rating": 8.3,
    "votes": 720_000,
    "directors": ["Michael Mann"],
    "cast": ["Al Pacino", "Robert De Niro"],
}
UNKNOWN: dict[str, Any] = {"movie_id": 7, "genres": [], "year": None, "rating": None}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"genres_any": ["Horror", "crime"]}, True),
        ({"genres_any": ["Horror", "Comedy"]}, False),
        ({"genres_all": ["Action", "THRILLER"]}, True),
        ({"genres_all": ["Action", "Drama"]}, False),
        ({"year_min": 1995, "year_max": 1995}, True),
        ({"year_min": 1996}, False),
        ({"year_max": 1994}, False),
        ({"min_rating": 8.3}, True),
        ({"min_rating": 8.4}, False),
        ({"min_votes": 720_000}, True),
        ({"min_votes": 720_001}, False),
        ({"people": ["al pacino"]}, True),
        ({"people": ["  Michael   MANN "]}, True),
        ({"people": ["Al Pacino", "Robert De Niro"]}, True),
        ({"people": ["Al Pacino", "Val Kilmer"]}, False),
        ({"people": ["Pacino"]}, False),
        ({"include_ids": [6, 7]}, True),
        ({"include_ids": [7]}, False),
        ({"include_ids": []}, False),
        ({"exclude_ids": [6]}, False),
        ({"exclude_ids": []}, True),
        ({"genres_any": []}, True),
        ({"genres_any": ["Crime"], "year_min": 1990, "people": ["Robert De Niro"]}, True),
        ({"genres_any": ["Crime"], "year_min": 2000, "people": ["Robert De Niro"]}, False),
    ],
)
def test_matches(fields: dict[str, Any], expected: bool) -> None:
    assert SearchFilters(**fields).matches(HEAT) is expected


@pytest.mark.parametrize(
    "fields",
    [
        {"year_min": 1900},
        {"year_max": 2100},
        {"min_rating": 0},
        {"min_votes": 0},
        {"genres_any": ["Drama"]},
        {"people": ["Nobody"]},
    ],
)
def test_unknown_values_fail_every_bound(fields: dict[str, Any]) -> None:
    assert not SearchFilters(**fields).matches(UNKNOWN)


def test_missing_keys_count_as_unknown() -> None:
    assert SearchFilters().matches({"movie_id": 1})
    assert not SearchFilters(year_min=1900).matches({"movie_id": 1})
    assert not SearchFilters(min_rating=1).matches({"movie_id": 1, "rating": float("nan")})


def test_invalid_filters_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="swap them"):
        SearchFilters(year_min=2000, year_max=1990)
    with pytest.raises(ValidationError, match="min_rating"):
        SearchFilters(min_rating=11)
    with pytest.raises(ValidationError, match="genre"):
        SearchFilters(genre=["Drama"])  # type: ignore[call-arg]


def test_filters_are_immutable_values_that_round_trip_through_json() -> None:
    filters = SearchFilters(genres_any=["Drama"], include_ids=[3, 1], min_rating=7.5)
    with pytest.raises(ValidationError):
        filters.year_min = 1990  # type: ignore[misc]
    assert SearchFilters.model_validate_json(filters.model_dump_json()) == filters
    assert hash(filters) == hash(SearchFilters.model_validate(filters.model_dump()))
    assert filters.model_dump(exclude_none=True) == {
        "genres_any": ("Drama",),
        "include_ids": frozenset({1, 3}),
        "min_rating": 7.5,
    }


def test_is_empty() -> None:
    assert SearchFilters().is_empty
    assert SearchFilters(genres_any=[], people=[" "], exclude_ids=[]).is_empty
    assert not SearchFilters(include_ids=[]).is_empty
