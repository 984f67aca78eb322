"""The Spark training jobs: neighbours equal to the in-memory definition, ALS factors usable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.compute as pc
import pytest

from movie_rag.collab.item_knn import fit_item_knn
from movie_rag.collab.spark_jobs import fit_item_knn_spark, train_als

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_ratings(shared_data: Path):
    from movie_rag.ingest.movielens import MovieLensLoader

    ratings = MovieLensLoader().load(shared_data / "ml-latest-small").ratings
    # A third of the users keeps the self-join quick while leaving thousands of movies.
    return ratings.filter(pc.less_equal(ratings.column("user_id"), 200))


def _build_defaults() -> dict[str, float | int]:
    from movie_rag.collab.model import training_params
    from movie_rag.settings import MovieRagSettings

    params = training_params(MovieRagSettings())
    return {
        name: params[name]
        for name in ("like_threshold", "min_co_likes", "top_n", "alpha", "shrinkage")
    }


@pytest.mark.parametrize(
    "params",
    [
        {"like_threshold": 3.5, "min_co_likes": 2, "top_n": 25, "shrinkage": 3.0},
        # What a build trains: the lift-over-popularity defaults of the settings.
        pytest.param(_build_defaults(), id="build-defaults"),
    ],
)
def test_spark_neighbours_equal_the_in_memory_definition(
    spark: SparkSession, real_ratings, params: dict
) -> None:
    from movie_rag.spark import arrow_to_spark

    expected = fit_item_knn(real_ratings, **params)
    got = fit_item_knn_spark(arrow_to_spark(spark, real_ratings), **params)
    assert got.params == expected.params
    assert got.like_counts == expected.like_counts
    assert got.table.num_rows == expected.table.num_rows > 10_000
    assert got.table.column("movie_id").equals(expected.table.column("movie_id"))
    assert got.table.column("neighbour_id").equals(expected.table.column("neighbour_id"))
    np.testing.assert_allclose(
        got.table.column("score").to_numpy(), expected.table.column("score").to_numpy(), rtol=1e-12
    )


def test_als_factors_rank_a_users_held_out_likes_above_chance(
    spark: SparkSession, real_ratings
) -> None:
    from movie_rag.spark import arrow_to_spark

    factors = train_als(arrow_to_spark(spark, real_ratings), rank=16, max_iter=5)
    assert factors.user_factors.shape == (len(factors.user_ids), 16)
    assert factors.item_factors.shape == (len(factors.item_ids), 16)
    assert np.all(np.diff(factors.item_ids) > 0)
    # A user's own rated movies score far above the catalogue's average for that user.
    users = real_ratings.column("user_id").to_numpy()
    movies = real_ratings.column("movie_id").to_numpy()
    row = {int(m): i for i, m in enumerate(factors.item_ids)}
    wins = 0
    for user_index, user in enumerate(factors.user_ids[:50]):
        scores = factors.item_factors @ factors.user_factors[user_index]
        own = [row[int(m)] for m in movies[users == user] if int(m) in row]
        wins += scores[own].mean() > scores.mean()
    assert wins >= 48
