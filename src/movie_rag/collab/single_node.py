"""Collaborative training on one machine: the embedded backend's default, no Spark needed.

Co-like neighbours come from :func:`movie_rag.collab.item_knn.fit_item_knn` (scipy sparse
products, the definition the Spark job reproduces), and implicit ALS from the ``implicit``
library's CPU solver, with the same model as Spark MLlib's ``ALS(implicitPrefs=True)``
(Hu, Koren & Volinsky 2008): every rating is a preference of 1 with confidence
``1 + alpha * rating``. The result is the same :class:`~movie_rag.collab.spark_jobs.FactorTables`
the Spark job returns, so the stored model does not depend on where it was trained.

On ``local[2]`` Spark pays for shuffles and the JVM; a single process does the same work
in a fraction of the time (docs/performance.md). Spark stays the path on a cluster
(``collab_engine="spark"``, the Databricks default).
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa

from movie_rag.collab.spark_jobs import FactorTables
from movie_rag.errors import ConfigurationError

__all__ = ["train_als_single_node"]

logger = logging.getLogger("movie_rag")


def train_als_single_node(
    ratings: pa.Table,
    *,
    rank: int = 32,
    reg: float = 0.1,
    alpha: float = 10.0,
    max_iter: int = 10,
    seed: int = 42,
    threads: int = 0,
) -> FactorTables:
    """Fit implicit ALS on the ratings in this process (the ``implicit`` library, CPU).

    Args:
        ratings: Columns ``user_id``, ``movie_id``, ``rating``.
        rank: Number of latent factors.
        reg: L2 regularisation.
        alpha: Confidence scaling of implicit feedback (confidence ``1 + alpha * rating``).
        max_iter: Alternating iterations.
        seed: Random seed of the initial factors.
        threads: Solver threads (0: all cores).

    Returns:
        User and item factors, sorted by id (as :func:`~movie_rag.collab.spark_jobs.train_als`).

    Raises:
        ConfigurationError: The ``implicit`` package is missing.
        ValueError: A required column is missing.
    """
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError as exc:
        raise ConfigurationError(
            "single-node ALS needs the implicit package; install the local extra "
            '(pip install "movie-rag[local]") or set collab_engine=spark'
        ) from exc
    from scipy import sparse
    from threadpoolctl import threadpool_limits

    missing = {"user_id", "movie_id", "rating"} - set(ratings.column_names)
    if missing:
        raise ValueError(f"ratings table lacks column(s) {sorted(missing)}")
    users = ratings.column("user_id").to_numpy(zero_copy_only=False)
    movies = ratings.column("movie_id").to_numpy(zero_copy_only=False)
    stars = ratings.column("rating").to_numpy(zero_copy_only=False).astype(np.float32)
    if len(users) == 0:
        empty = np.zeros((0, rank), dtype=np.float32)
        return FactorTables(np.zeros(0, np.int64), empty, np.zeros(0, np.int64), empty.copy())
    user_ids, user_index = np.unique(users, return_inverse=True)
    movie_ids, movie_index = np.unique(movies, return_inverse=True)
    # Spark's confidence is 1 + alpha * |r|; implicit's is 1 + alpha * value.
    user_items = sparse.csr_matrix(
        (np.abs(stars), (user_index, movie_index)),
        shape=(len(user_ids), len(movie_ids)),
        dtype=np.float32,
    )
    user_items.sum_duplicates()
    # implicit checks the BLAS thread pool when the model is made: one BLAS thread per
    # solver thread is what it wants.
    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=rank,
            regularization=reg,
            alpha=alpha,
            iterations=max_iter,
            random_state=seed,
            num_threads=threads,
        )
        model.fit(user_items, show_progress=False)
    return FactorTables(
        user_ids.astype(np.int64),
        np.ascontiguousarray(model.user_factors, dtype=np.float32),
        movie_ids.astype(np.int64),
        np.ascontiguousarray(model.item_factors, dtype=np.float32),
    )
