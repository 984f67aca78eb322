"""Hand-written requests on the real build, each with the property a user would expect.

Each row: the request, and a check of the answer (its recommendations and filters). The
cases come from what new users tried: broad asks that must favour well-known films of the
kind over title-word matches, soft words that must not empty the answer, years in
brackets that belong to a title.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from movie_rag.chain.recommender import RecommenderChain
from movie_rag.chain.types import RecommendationResponse

pytestmark = [pytest.mark.spark, pytest.mark.slow]

Check = Callable[[RecommendationResponse, RecommenderChain], bool]


def _movies(response: RecommendationResponse, chain: RecommenderChain) -> list[dict[str, Any]]:
    return [dict(chain.catalogue.movie(r.movie_id)) for r in response.recommendations]


def _all_genre(genre: str) -> Check:
    return lambda r, c: (
        bool(r.recommendations) and all(genre in (m.get("genres") or []) for m in _movies(r, c))
    )


def _well_known(share: float, ratings: int = 50) -> Check:
    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        movies = _movies(response, chain)
        known = [m for m in movies if int(m.get("ml_rating_count") or 0) >= ratings]
        return bool(movies) and len(known) >= share * len(movies)

    return check


def _few_titles_with(word: str) -> Check:
    pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)
    return lambda r, c: sum(bool(pattern.search(x.title)) for x in r.recommendations) <= 1


def _any_of(*titles: str) -> Check:
    return lambda r, c: any(x.title in titles for x in r.recommendations)


def _before(year: int) -> Check:
    return lambda r, c: (
        bool(r.recommendations)
        and all(x.year is not None and x.year < year for x in r.recommendations)
    )


def _not_empty(r: RecommendationResponse, c: RecommenderChain) -> bool:
    return bool(r.recommendations)


def _no_year_filter(r: RecommendationResponse, c: RecommenderChain) -> bool:
    return "year_min" not in r.filters and "year_max" not in r.filters


def _both(*checks: Check) -> Check:
    return lambda r, c: all(check(r, c) for check in checks)


#: (request, what must hold, what the property is called in a failure).
CASES: list[tuple[str, Check, str]] = [
    ("war movies", _both(_all_genre("War"), _few_titles_with("war")), "War, not 'War' titles"),
    ("I want to watch war movies", _few_titles_with("war"), "no title-word matches"),
    ("a good action movie", _both(_all_genre("Action"), _well_known(0.6)), "well-known Action"),
    ("recommend me some horror movies", _both(_all_genre("Horror"), _well_known(0.6)),
     "well-known Horror"),
    ("sci-fi from before 1980", _both(_before(1980), _all_genre("Sci-Fi"),
     _any_of("Alien", "2001: A Space Odyssey", "Star Wars: Episode IV - A New Hope")),
     "classic Sci-Fi before 1980"),
    ("good comedies from the 90s", _both(_all_genre("Comedy"), _well_known(0.6)),
     "well-known 90s comedies"),
    ("Recommend some heist movies", _any_of("Ocean's Eleven", "Heist", "The Maiden Heist"),
     "heists, not just crime"),
    ("I loved Easy A (2010)", _both(_not_empty, _no_year_filter), "the year is the title's"),
    ("I liked Heat and Easy A (2010). more?", _both(_not_empty, _no_year_filter),
     "a bracketed year after a second title filters nothing"),
    ("comedies i like kristin wigg with Meryl Streep and Keanu Reeves from 1931", _not_empty,
     "soft people never empty the answer"),
    ("westerns starring Tom Hanks", _not_empty, "an impossible combination still answers"),
]  # fmt: skip


@pytest.fixture(scope="module")
def chain(real_build) -> RecommenderChain:
    settings, _ = real_build
    return RecommenderChain.from_settings(settings)


def failures(chain: RecommenderChain) -> list[str]:
    """The requests whose answer lacks its property (also used to check a built workdir)."""
    failed = []
    for query, check, expected in CASES:
        response = chain.invoke({"query": query, "k": 5})
        if not check(response, chain):
            titles = [r.title for r in response.recommendations]
            failed.append(f"{query!r}: expected {expected}, got {titles} {response.filters}")
    return failed


def test_every_hand_written_request_gets_its_property(chain: RecommenderChain) -> None:
    assert failures(chain) == []
