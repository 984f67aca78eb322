"""Promises every VectorIndex backend keeps (run per backend via the ``backend`` fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from sample_movies import SECRET_USER_TAG

from movie_rag.index import SearchFilters, UnknownMovieError, VectorIndex

pytestmark = pytest.mark.slow

FILTER_CASES: dict[str, dict[str, Any]] = {
    "genre any": {"genres_any": ["Horror"]},
    "genre any, lower case": {"genres_any": ["sci-fi", "western"]},
    "genres all": {"genres_all": ["Comedy", "Romance"]},
    "nineties": {"year_min": 1990, "year_max": 1999},
    "old": {"year_max": 1970},
    "well rated": {"min_rating": 8.5},
    "many votes": {"min_votes": 1_500_000},
    "person in cast": {"people": ["tom hanks"]},
    "director": {"people": ["Christopher Nolan"]},
    "two people": {"people": ["Tom Hanks", "Meg Ryan"]},
    "person as director and actor": {"people": ["Clint Eastwood"], "genres_any": ["Western"]},
    "include ids": {"include_ids": [1, 2571, 1214, 5069]},
    "exclude ids": {"exclude_ids": [1214, 1200], "genres_any": ["Horror"]},
    "combined": {"genres_any": ["Sci-Fi"], "year_min": 1975, "min_rating": 8.0, "min_votes": 1},
    "nothing matches": {"genres_any": ["Film-Noir"]},
    "empty include list": {"include_ids": []},
}


def _matching(rows: list[dict[str, Any]], filters: SearchFilters) -> set[int]:
    return {row["movie_id"] for row in rows if filters.matches(row)}


def test_search_ranks_the_obvious_answer_first(backend: VectorIndex) -> None:
    cases = {
        "toys that come to life when nobody is watching": 1,
        "dinosaurs escape on an island theme park": 480,
        "a man who cannot make new memories uses tattoos": 4226,
        "weatherman stuck living the same day again and again": 1265,
    }
    for query, expected in cases.items():
        assert backend.search(query, k=1)[0].movie_id == expected, query


def test_search_returns_k_hits_best_first(backend: VectorIndex) -> None:
    hits = backend.search("space adventure", k=7)
    assert len(hits) == 7
    assert len({hit.movie_id for hit in hits}) == 7
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= score <= 1.0 + 1e-6 for score in scores)


def test_k_larger_than_the_catalogue_returns_every_movie(
    backend: VectorIndex, rows: list[dict[str, Any]]
) -> None:
    hits = backend.search("anything", k=500)
    assert sorted(hit.movie_id for hit in hits) == sorted(row["movie_id"] for row in rows)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
@pytest.mark.parametrize("case", FILTER_CASES)
@pytest.mark.parametrize("k", [3, 10])
def test_filters_are_exact_and_fill_k(
    backend: VectorIndex, rows: list[dict[str, Any]], case: str, mode: Any, k: int
) -> None:
    filters = SearchFilters(**FILTER_CASES[case])
    expected = _matching(rows, filters)
    hits = backend.search("a gripping story", k=k, filters=filters, mode=mode)
    by_id = {row["movie_id"]: row for row in rows}
    assert all(filters.matches(by_id[hit.movie_id]) for hit in hits)
    assert len(hits) == min(k, len(expected))


@pytest.mark.parametrize("case", ["genre any", "nineties", "person in cast", "combined"])
def test_filtered_search_equals_best_of_the_matching_subset(
    backend: VectorIndex, rows: list[dict[str, Any]], case: str
) -> None:
    filters = SearchFilters(**FILTER_CASES[case])
    everything = backend.search("a lonely hero against the odds", k=len(rows))
    allowed = _matching(rows, filters)
    expected = [hit.movie_id for hit in everything if hit.movie_id in allowed][:5]
    hits = backend.search("a lonely hero against the odds", k=5, filters=filters)
    assert [hit.movie_id for hit in hits] == expected


def test_filter_with_few_matches_is_not_lost_behind_better_movies(
    backend: VectorIndex,
) -> None:
    # The two movies with no rating score badly on this query; a search that over-fetches
    # and then filters would come back empty.
    filters = SearchFilters(include_ids=[1975, 5069])
    hits = backend.search("romantic comedy in new york", k=2, filters=filters)
    assert {hit.movie_id for hit in hits} == {1975, 5069}


def test_hits_carry_metadata_but_never_user_tags(
    backend: VectorIndex, rows: list[dict[str, Any]]
) -> None:
    by_id = {row["movie_id"]: row for row in rows}
    hits = backend.search("haunted hotel", k=len(rows), mode="hybrid")
    for hit in hits:
        assert "user_tags" not in hit.metadata
        assert SECRET_USER_TAG not in repr(hit.metadata)
        expected = {k: v for k, v in by_id[hit.movie_id].items() if k != "user_tags"}
        assert hit.metadata == expected


@pytest.mark.parametrize(
    ("query", "target"),
    [("woodchipper", 608), ("delorean", 1270), ("rosebud", 923), ("marmalade", 116797)],
)
def test_hybrid_finds_exact_keywords_dense_misses(
    backend: VectorIndex, query: str, target: int
) -> None:
    dense = [hit.movie_id for hit in backend.search(query, k=5)]
    hybrid = [hit.movie_id for hit in backend.search(query, k=5, mode="hybrid")]
    assert dense[0] != target
    assert hybrid[0] == target


def test_hybrid_scores_are_ordered(backend: VectorIndex) -> None:
    hits = backend.search("time travel", k=8, mode="hybrid")
    scores = [hit.score for hit in hits]
    assert len(hits) == 8 and scores == sorted(scores, reverse=True)


def test_mmr_diversifies_the_list(backend: VectorIndex) -> None:
    plain = [hit.movie_id for hit in backend.search("space opera with jedi", k=6)]
    diverse = backend.search("space opera with jedi", k=6, mmr=0.3)
    assert len(diverse) == 6
    assert [hit.movie_id for hit in diverse] != plain
    assert diverse[0].movie_id == plain[0]
    # The two Star Wars films are near-duplicates: diversity must not keep both on top.
    assert {260, 1196} != {hit.movie_id for hit in diverse[:2]}


def test_mmr_of_one_is_plain_relevance(backend: VectorIndex) -> None:
    plain = [hit.movie_id for hit in backend.search("heist", k=5)]
    assert [hit.movie_id for hit in backend.search("heist", k=5, mmr=1.0)] == plain


def test_mmr_keeps_filters_and_k(backend: VectorIndex, rows: list[dict[str, Any]]) -> None:
    filters = SearchFilters(genres_any=["Drama"], year_min=1990)
    for mode in ("dense", "hybrid"):
        hits = backend.search("war", k=8, filters=filters, mmr=0.5, mode=mode)  # type: ignore[arg-type]
        assert len(hits) == 8
        assert all(filters.matches(hit.metadata) for hit in hits)


def test_similar_to_excludes_the_seed_and_finds_the_sequel(backend: VectorIndex) -> None:
    hits = backend.similar_to(1200, k=5)
    ids = [hit.movie_id for hit in hits]
    assert len(ids) == 5 and 1200 not in ids
    assert ids[0] == 1214  # Aliens -> Alien
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_similar_to_honours_filters(backend: VectorIndex, rows: list[dict[str, Any]]) -> None:
    filters = SearchFilters(year_min=1990, genres_any=["Sci-Fi"])
    hits = backend.similar_to(260, k=50, filters=filters)
    assert {hit.movie_id for hit in hits} == _matching(rows, filters) - {260}


def test_similar_to_an_unknown_movie_says_so(backend: VectorIndex) -> None:
    with pytest.raises(UnknownMovieError, match="movie_id 999999"):
        backend.similar_to(999999)


def test_bad_arguments_are_rejected(backend: VectorIndex) -> None:
    assert backend.search("x", k=0) == []
    with pytest.raises(ValueError, match="mode"):
        backend.search("x", mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mmr"):
        backend.search("x", mmr=1.5)
    with pytest.raises(ValueError, match="k must"):
        backend.search("x", k=-1)


def test_describe_reports_a_ready_index(backend: VectorIndex, rows: list[dict[str, Any]]) -> None:
    status = backend.describe()
    assert status.ready
    assert status.row_count == len(rows)
    assert status.model_name == "all-MiniLM-L6-v2"
    assert status.dimension == 384
    assert status.created_at is not None


def test_delete_leaves_an_index_that_is_not_ready(backend: VectorIndex) -> None:
    from movie_rag.index import IndexNotReadyError

    backend.delete()
    assert not backend.describe().ready
    with pytest.raises(IndexNotReadyError, match="movie-rag build"):
        backend.search("anything")
