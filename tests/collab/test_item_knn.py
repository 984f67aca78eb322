"""Co-like neighbours: the score definition, lookups, persistence and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pytest

from movie_rag.collab.item_knn import ItemNeighbours, fit_item_knn
from movie_rag.errors import InputFileError


def _ratings(rows: list[tuple[int, int, float]]) -> pa.Table:
    users, movies, stars = zip(*rows, strict=True)
    return pa.table(
        {
            "user_id": pa.array(users, pa.int32()),
            "movie_id": pa.array(movies, pa.int32()),
            "rating": pa.array(stars, pa.float32()),
            "timestamp": pa.array([0] * len(rows), pa.int64()),
        }
    )


RATINGS = _ratings(
    [
        # users 1-3 like 10 and 20; user 3 also likes 30; user 4 likes 30 and 40
        (1, 10, 5.0), (1, 20, 4.0),
        (2, 10, 4.5), (2, 20, 4.0), (2, 40, 2.0),  # 2.0 is not a like
        (3, 10, 4.0), (3, 20, 5.0), (3, 30, 4.0),
        (4, 30, 5.0), (4, 40, 4.0),
    ]
)  # fmt: skip


def test_default_scores_are_the_share_of_fans_who_also_liked() -> None:
    model = fit_item_knn(RATINGS)
    assert model.params["alpha"] == 1.0
    scores = dict(model.neighbours_of(30))
    assert scores == {10: pytest.approx(1 / 2), 20: pytest.approx(1 / 2), 40: pytest.approx(1 / 2)}
    assert dict(model.neighbours_of(40)) == {30: pytest.approx(1.0)}
    assert model.neighbours_of(10) == [(20, pytest.approx(1.0)), (30, pytest.approx(1 / 3))]


def test_alpha_one_half_is_the_cosine_of_binary_like_vectors() -> None:
    model = fit_item_knn(RATINGS, alpha=0.5)
    assert model.like_counts == {10: 3, 20: 3, 30: 2, 40: 1}
    scores = dict(model.neighbours_of(10))
    assert scores[20] == pytest.approx(3 / math.sqrt(3 * 3))
    assert scores[30] == pytest.approx(1 / math.sqrt(3 * 2))
    assert 40 not in scores  # user 2's 2.0 is below the like threshold
    assert dict(model.neighbours_of(40)) == {30: pytest.approx(1 / math.sqrt(1 * 2))}


def test_threshold_min_co_likes_and_top_n() -> None:
    assert 40 in dict(fit_item_knn(RATINGS, like_threshold=2.0).neighbours_of(10))
    strict = fit_item_knn(RATINGS, min_co_likes=2, alpha=0.5)
    assert strict.neighbours_of(10) == [(20, pytest.approx(1.0))]
    assert 30 not in strict  # no pair with 30 is co-liked twice
    assert len(fit_item_knn(RATINGS, top_n=1).neighbours_of(30)) == 1


def test_similar_to_sums_over_seeds_and_excludes() -> None:
    model = fit_item_knn(RATINGS, alpha=0.5)
    both = model.similar_to([10, 40], k=10)
    assert both[0][0] == 30  # co-liked with both seeds
    assert dict(both)[30] == pytest.approx(1 / math.sqrt(6) + 1 / math.sqrt(2))
    assert all(m not in (10, 40) for m, _ in both)
    assert 20 not in dict(model.similar_to([10], k=10, exclude={20}))
    assert model.similar_to([10], k=1) == [(20, pytest.approx(1.0))]
    assert model.similar_to([999], k=5) == []


def test_ties_break_on_the_smaller_id() -> None:
    ratings = _ratings([(1, 5, 5.0), (1, 3, 5.0), (1, 4, 5.0)])
    assert [m for m, _ in fit_item_knn(ratings).similar_to([5], k=2)] == [3, 4]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = fit_item_knn(RATINGS)
    loaded = ItemNeighbours.load(model.save(tmp_path / "knn"))
    assert loaded.similar_to([10, 30], k=5) == model.similar_to([10, 30], k=5)
    assert loaded.params == model.params
    assert loaded.like_counts == model.like_counts


def test_no_likes_gives_an_empty_model() -> None:
    model = fit_item_knn(_ratings([(1, 10, 1.0)]))
    assert len(model) == 0
    assert model.similar_to([10], k=5) == []


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="rating"):
        fit_item_knn(RATINGS.drop_columns(["rating"]))
    with pytest.raises(ValueError, match="top_n"):
        fit_item_knn(RATINGS, top_n=0)
    with pytest.raises(ValueError, match="min_co_likes"):
        fit_item_knn(RATINGS, min_co_likes=0)
    with pytest.raises(ValueError, match="alpha"):
        fit_item_knn(RATINGS, alpha=1.5)


def test_missing_directory_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="movie-rag build"):
        ItemNeighbours.load(tmp_path)


def test_real_ratings_neighbours_make_sense(shared_data: Path) -> None:
    from movie_rag.ingest.movielens import MovieLensLoader

    ratings = MovieLensLoader().load(shared_data / "ml-latest-small").ratings
    model = fit_item_knn(ratings)
    assert len(model) > 5000
    # By default the neighbours are what most of a movie's fans also liked: favourites for
    # Toy Story (1) and The Matrix (2571). The cosine favours rarer neighbours: there
    # Toy Story 2 (3114) comes first.
    assert 3114 in dict(model.neighbours_of(1))
    assert model.similar_to([1], k=1)[0][0] == 318
    assert {1196, 1210, 260, 2959, 2028} & {m for m, _ in model.similar_to([2571], k=5)}
    assert fit_item_knn(ratings, alpha=0.5).similar_to([1], k=1)[0][0] == 3114


def test_shrinkage_discounts_pairs_with_few_co_likes() -> None:
    from movie_rag.collab.item_knn import neighbour_score

    plain = fit_item_knn(RATINGS, alpha=0.5)
    shrunk = fit_item_knn(RATINGS, alpha=0.5, shrinkage=2.0)
    assert shrunk.params["shrinkage"] == 2.0 and plain.params["shrinkage"] == 0.0
    # 10 and 20: co 3, n 3 and 3 -> cosine 1.0, shrunk by 3 / (3 + 2).
    assert dict(plain.neighbours_of(10))[20] == pytest.approx(1.0)
    assert dict(shrunk.neighbours_of(10))[20] == pytest.approx(3 / 5)
    # 10 and 30: co 1, n 3 and 2 -> cosine 1/sqrt(6), shrunk by 1 / 3: a single co-like
    # counts for much less than three.
    assert dict(shrunk.neighbours_of(10))[30] == pytest.approx(1 / 6**0.5 / 3)
    assert neighbour_score(1, 3, 2, alpha=0.5, shrinkage=2.0) == pytest.approx(1 / 6**0.5 / 3)
    with pytest.raises(ValueError, match="shrinkage"):
        fit_item_knn(RATINGS, shrinkage=-1.0)
