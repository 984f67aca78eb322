"""The Spark side of collaborative training: the same code locally and on Databricks.

:func:`item_knn_frame` is the distributed form of :func:`movie_rag.collab.item_knn.fit_item_knn`
(a co-likes self-join, normalised by both like counts, top-N per movie); a test holds the two
equal on real ratings. :func:`train_als` fits Spark MLlib ALS on implicit feedback.
Results come back as Arrow so the query path never needs Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from movie_rag.collab.item_knn import NEIGHBOURS_SCHEMA, ItemNeighbours, _check_params, _params
from movie_rag.spark import spark_to_arrow

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = [
    "FactorTables",
    "fit_item_knn_spark",
    "item_knn_frame",
    "neighbour_score_column",
    "train_als",
]


def item_knn_frame(
    ratings: DataFrame,
    *,
    like_threshold: float = 4.0,
    min_co_likes: int = 1,
    top_n: int = 100,
    alpha: float = 1.0,
    shrinkage: float = 0.0,
) -> DataFrame:
    """Co-like neighbours as a Spark DataFrame ``movie_id, neighbour_id, score``.

    Args:
        ratings: Columns ``user_id``, ``movie_id``, ``rating``.
        like_threshold: A rating at or above this counts as a like.
        min_co_likes: Pairs liked together by fewer users are dropped.
        top_n: Neighbours kept per movie.
        alpha: Asymmetry of the normalisation (0.5 cosine, 1.0 conditional probability).
        shrinkage: Discount of pairs with few co-likes (``co / (co + shrinkage)``).

    Returns:
        One row per kept (movie, neighbour) pair.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    _check_params(like_threshold, min_co_likes, top_n, alpha, shrinkage)
    likes = (
        ratings.where(F.col("rating") >= F.lit(float(like_threshold)))
        .select(F.col("user_id"), F.col("movie_id").cast("int"))
        .distinct()
    )
    counts = likes.groupBy("movie_id").agg(F.count("*").alias("n"))
    a, b = likes.alias("a"), likes.alias("b")
    co = (
        a.join(b, F.col("a.user_id") == F.col("b.user_id"))
        .where(F.col("a.movie_id") != F.col("b.movie_id"))
        .groupBy(F.col("a.movie_id").alias("movie_id"), F.col("b.movie_id").alias("neighbour_id"))
        .agg(F.count("*").alias("co"))
        .where(F.col("co") >= F.lit(min_co_likes))
    )
    n_movie = counts.select(F.col("movie_id"), F.col("n").alias("n_movie"))
    n_neighbour = counts.select(F.col("movie_id").alias("neighbour_id"), F.col("n").alias("n_nb"))
    scored = (
        co.join(n_movie, "movie_id")
        .join(n_neighbour, "neighbour_id")
        .select(
            "movie_id",
            "neighbour_id",
            neighbour_score_column(
                F.col("co"), F.col("n_movie"), F.col("n_nb"), alpha=alpha, shrinkage=shrinkage
            ).alias("score"),
        )
    )
    best_first = Window.partitionBy("movie_id").orderBy(F.desc("score"), F.asc("neighbour_id"))
    return (
        scored.withColumn("rank", F.row_number().over(best_first))
        .where(F.col("rank") <= top_n)
        .select(
            F.col("movie_id").cast("int"),
            F.col("neighbour_id").cast("int"),
            F.col("score").cast("double"),
        )
    )


def neighbour_score_column(
    co: Column, n_movie: Column, n_neighbour: Column, *, alpha: float, shrinkage: float = 0.0
) -> Column:
    """:func:`movie_rag.collab.item_knn.neighbour_score` as a Spark column expression."""
    from pyspark.sql import functions as F

    normalised = co / (F.pow(n_movie, F.lit(alpha)) * F.pow(n_neighbour, F.lit(1.0 - alpha)))
    if shrinkage <= 0:
        return normalised
    return normalised * co / (co + F.lit(float(shrinkage)))


def fit_item_knn_spark(
    ratings: DataFrame,
    *,
    like_threshold: float = 4.0,
    min_co_likes: int = 1,
    top_n: int = 100,
    alpha: float = 1.0,
    shrinkage: float = 0.0,
) -> ItemNeighbours:
    """Run :func:`item_knn_frame` and collect the result as :class:`ItemNeighbours`."""
    from pyspark.sql import functions as F

    frame = item_knn_frame(
        ratings,
        like_threshold=like_threshold,
        min_co_likes=min_co_likes,
        top_n=top_n,
        alpha=alpha,
        shrinkage=shrinkage,
    )
    table = _to_arrow(frame, NEIGHBOURS_SCHEMA)
    counts = (
        ratings.where(F.col("rating") >= F.lit(float(like_threshold)))
        .select("user_id", "movie_id")
        .distinct()
        .groupBy("movie_id")
        .count()
        .collect()
    )
    params = _params(like_threshold, min_co_likes, top_n, alpha, shrinkage)
    return ItemNeighbours(table, params, {int(r["movie_id"]): int(r["count"]) for r in counts})


class FactorTables:
    """ALS factors as plain arrays: ids and one row of floats per id.

    Attributes:
        user_ids: User ids (int64), one per row of ``user_factors``.
        user_factors: ``(users, rank)`` float32.
        item_ids: Movie ids (int64), one per row of ``item_factors``.
        item_factors: ``(movies, rank)`` float32.
    """

    def __init__(
        self,
        user_ids: np.ndarray,
        user_factors: np.ndarray,
        item_ids: np.ndarray,
        item_factors: np.ndarray,
    ) -> None:
        self.user_ids = user_ids
        self.user_factors = user_factors
        self.item_ids = item_ids
        self.item_factors = item_factors


def train_als(
    ratings: DataFrame,
    *,
    rank: int = 32,
    reg: float = 0.1,
    alpha: float = 10.0,
    max_iter: int = 10,
    seed: int = 42,
) -> FactorTables:
    """Fit Spark MLlib ALS with implicit preferences on the ratings.

    Every rating is a sign of interest (the user chose to watch the movie); its value is
    the strength, so ALS's confidence is ``1 + alpha * rating``.

    Args:
        ratings: Columns ``user_id``, ``movie_id``, ``rating``.
        rank: Number of latent factors.
        reg: L2 regularisation.
        alpha: Confidence scaling of implicit feedback.
        max_iter: Alternating iterations.
        seed: Random seed of the initial factors.

    Returns:
        User and item factors, sorted by id.
    """
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    data = ratings.select(
        F.col("user_id").cast("int"),
        F.col("movie_id").cast("int"),
        F.col("rating").cast("float"),
    )
    model = ALS(
        rank=rank,
        maxIter=max_iter,
        regParam=reg,
        alpha=alpha,
        implicitPrefs=True,
        userCol="user_id",
        itemCol="movie_id",
        ratingCol="rating",
        seed=seed,
        coldStartStrategy="drop",
    ).fit(data)
    user_ids, user_factors = _factors(model.userFactors)
    item_ids, item_factors = _factors(model.itemFactors)
    return FactorTables(user_ids, user_factors, item_ids, item_factors)


def _factors(frame: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    table = spark_to_arrow(frame).sort_by("id")
    ids = table.column("id").to_numpy().astype(np.int64)
    features = table.column("features").to_pylist()
    matrix = np.asarray(features, dtype=np.float32)
    return ids, matrix.reshape(len(ids), -1)


def _to_arrow(frame: DataFrame, schema: pa.Schema) -> pa.Table:
    return spark_to_arrow(frame, schema)
