"""Spark aggregations of the MovieLens bronze tables into movies_info columns.

Per-movie rating statistics, the genome tags over a relevance threshold and the tags users
typed; :class:`~movie_rag.ingest.movie_info.MovieInfoBuilder` joins them to the catalogue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["genome_tag_lists", "rating_stats", "user_tag_lists"]


def rating_stats(ratings: DataFrame, prior_count: float) -> DataFrame:
    """Per-movie rating count, mean and Bayesian mean.

    The Bayesian mean shrinks a movie's mean towards the global mean ``C`` with ``m`` pseudo
    ratings: ``(C*m + sum) / (m + n)``, so one 5-star rating does not top the charts.

    Args:
        ratings: user_id, movie_id, rating.
        prior_count: ``m``.

    Returns:
        movie_id, ml_rating_count, ml_rating_mean, ml_rating_bayes (rounded to 4 places).
    """
    from pyspark.sql import functions as F

    global_mean = ratings.agg(F.avg("rating")).collect()[0][0]
    if global_mean is None:
        return ratings.sparkSession.createDataFrame(
            [], "movie_id int, ml_rating_count int, ml_rating_mean double, ml_rating_bayes double"
        )
    m = float(prior_count)
    return ratings.groupBy("movie_id").agg(
        F.count("*").cast("int").alias("ml_rating_count"),
        F.round(F.avg("rating").cast("double"), 4).alias("ml_rating_mean"),
        F.round(
            (F.lit(float(global_mean) * m) + F.sum("rating").cast("double"))
            / (F.lit(m) + F.count("*")),
            4,
        ).alias("ml_rating_bayes"),
    )


def genome_tag_lists(scores: DataFrame, tags: DataFrame, threshold: float, cap: int) -> DataFrame:
    """Per-movie genome tags at or above ``threshold``, most relevant first, at most ``cap``.

    Returns:
        movie_id, genome_tags (array of {tag, relevance}).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ranked = (
        scores.where(F.col("relevance") >= F.lit(threshold))
        .join(tags, on="tag_id", how="inner")
        .withColumn("relevance", F.round(F.col("relevance").cast("double"), 4))
        .withColumn(
            "rank",
            F.row_number().over(
                Window.partitionBy("movie_id").orderBy(F.desc("relevance"), F.asc("tag"))
            ),
        )
        .where(F.col("rank") <= cap)
    )
    return ranked.groupBy("movie_id").agg(
        F.transform(
            F.array_sort(F.collect_list(F.struct("rank", "tag", "relevance"))),
            lambda s: F.struct(s["tag"].alias("tag"), s["relevance"].alias("relevance")),
        ).alias("genome_tags")
    )


def user_tag_lists(tags: DataFrame) -> DataFrame:
    """Per-movie distinct user tags (already normalised), most used first, then alphabetical.

    Returns:
        movie_id, user_tags (array of strings).
    """
    from pyspark.sql import functions as F

    counted = tags.groupBy("movie_id", "tag").agg(F.count("*").alias("uses"))
    return counted.groupBy("movie_id").agg(
        F.transform(
            F.array_sort(F.collect_list(F.struct((-F.col("uses")).alias("neg"), "tag"))),
            lambda s: s["tag"],
        ).alias("user_tags")
    )
