"""Item-to-item neighbours from co-likes: "people who liked X also liked Y".

The one definition of the score (the Spark job in :mod:`movie_rag.collab.spark_jobs` computes
the same numbers on a cluster, and a test holds the two equal)::

    liked(u, i)  = user u rated movie i >= like_threshold   (implicit feedback)
    co(i, j)     = number of users who liked both i and j   (i != j)
    n(i)         = number of users who liked i
    score(i, j)  = co(i, j) / (n(i) ** alpha * n(j) ** (1 - alpha))
                   * co(i, j) / (co(i, j) + shrinkage)

(:func:`neighbour_score`, the one place the formula is written for numpy).

``alpha`` is the asymmetry of the normalisation (Aiolli 2013): 0.5 is the cosine of the
binary like vectors, which favours rarely liked neighbours; 1.0, the default, is the share of
i's fans who also liked j (the conditional probability), which orders i's neighbours by their
co-like count. On held-out MovieLens users, the second matches what people co-like far better
(see docs/collaborative.md; ``scripts/tune_hybrid.py`` chooses it on validation users).
``shrinkage`` (0 by default: no shrinkage) discounts pairs with few co-likes, whose
normalised score is mostly noise: a pair co-liked by one user of a rarely liked movie gets
a high cosine from a single coincidence. Pairs with fewer than ``min_co_likes`` co-likes
are dropped, then each movie keeps its
``top_n`` best neighbours (ties broken by the smaller movie id).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from movie_rag._parquet import read_parquet
from movie_rag.errors import InputFileError

__all__ = ["NEIGHBOURS_SCHEMA", "ItemNeighbours", "fit_item_knn", "neighbour_score"]

NEIGHBOURS_SCHEMA = pa.schema(
    [
        pa.field("movie_id", pa.int32(), nullable=False),
        pa.field("neighbour_id", pa.int32(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ]
)
_NEIGHBOURS_FILE = "item_knn.parquet"
_PARAMS_FILE = "item_knn.json"
# Items whose co-like rows are computed per dense block: bounds memory on large releases.
_BLOCK = 512


@dataclass
class ItemNeighbours:
    """The top neighbours of every liked movie, with their co-like cosine scores.

    Attributes:
        table: Rows ``movie_id, neighbour_id, score`` (:data:`NEIGHBOURS_SCHEMA`).
        params: How the neighbours were computed (threshold, min co-likes, top_n).
        like_counts: Users who liked each movie (``movie_id -> n``).

    Example:
        >>> import pyarrow as pa
        >>> from movie_rag.collab.item_knn import fit_item_knn
        >>> ratings = pa.table({"user_id": [1, 1, 2, 2, 3], "movie_id": [10, 20, 10, 20, 30],
        ...                     "rating": [5.0, 4.5, 4.0, 4.0, 5.0]})
        >>> fit_item_knn(ratings).similar_to([10], k=5)
        [(20, 1.0)]
        >>> [(m, round(s, 6)) for m, s in fit_item_knn(ratings, alpha=0.5).neighbours_of(20)]
        [(10, 1.0)]
    """

    table: pa.Table
    params: dict[str, Any]
    like_counts: dict[int, int] = field(default_factory=dict)
    _offsets: dict[int, tuple[int, int]] = field(init=False, repr=False)
    _neighbours: np.ndarray = field(init=False, repr=False)
    _scores: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        table = self.table.select(NEIGHBOURS_SCHEMA.names).cast(NEIGHBOURS_SCHEMA)
        movie = table.column("movie_id").to_numpy()
        neighbour = table.column("neighbour_id").to_numpy()
        score = table.column("score").to_numpy()
        # Group rows by movie, best first, so a lookup is one slice.
        order = np.lexsort((neighbour, -score, movie))
        movie, self._neighbours, self._scores = movie[order], neighbour[order], score[order]
        self.table = table.take(pa.array(order))
        starts: Any = np.flatnonzero(np.r_[True, movie[1:] != movie[:-1]]) if len(movie) else []
        ends: Any = np.r_[starts[1:], len(movie)].astype(int) if len(movie) else []
        self._offsets = {int(movie[s]): (int(s), int(e)) for s, e in zip(starts, ends, strict=True)}

    def __len__(self) -> int:
        return len(self._offsets)

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self._offsets

    def neighbours_of(self, movie_id: int) -> list[tuple[int, float]]:
        """The stored neighbours of one movie, best first (empty when it has none)."""
        start, end = self._offsets.get(int(movie_id), (0, 0))
        return [
            (int(n), float(s))
            for n, s in zip(self._neighbours[start:end], self._scores[start:end], strict=True)
        ]

    def similar_to(
        self,
        seed_ids: Sequence[int],
        k: int,
        exclude: Collection[int] = (),
        *,
        avoid: Sequence[int] = (),
    ) -> list[tuple[int, float]]:
        """Movies most co-liked with the seeds: each neighbour's scores summed over the seeds.

        Args:
            seed_ids: Movies the user liked (or asked about).
            k: How many movies to return (fewer when the seeds have fewer neighbours).
            exclude: Movies that must not come back; the seeds never do.
            avoid: Movies the user disliked ("... but not C"): their neighbours' scores are
                subtracted, so what C's fans like sinks; they never come back either. Only
                movies co-liked with a seed are returned.

        Returns:
            ``(movie_id, score)`` pairs, best first, ties broken by the smaller id.

        Example:
            >>> import pyarrow as pa
            >>> from movie_rag.collab.item_knn import fit_item_knn
            >>> ratings = pa.table({"user_id": [1, 1, 1, 2, 2, 3, 3],
            ...                     "movie_id": [10, 20, 30, 10, 20, 30, 40],
            ...                     "rating": [5.0] * 7})
            >>> model = fit_item_knn(ratings, alpha=0.5)
            >>> [m for m, _ in model.similar_to([10], k=5)]
            [20, 30]
            >>> [m for m, _ in model.similar_to([10], k=5, avoid=[40])]
            [20, 30]
            >>> round(dict(model.similar_to([10], k=5, avoid=[40]))[30], 3)
            -0.207
        """
        seeds = list(dict.fromkeys(int(i) for i in seed_ids))
        negatives = [m for m in dict.fromkeys(int(i) for i in avoid) if m not in seeds]
        banned = {int(i) for i in exclude} | set(seeds) | set(negatives)
        totals: dict[int, float] = {}
        for seed in seeds:
            for n, s in self._rows(seed):
                if n not in banned:
                    totals[n] = totals.get(n, 0.0) + s
        for negative in negatives:
            for n, s in self._rows(negative):
                if n in totals:
                    totals[n] -= s
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        return ranked[: max(k, 0)]

    def _rows(self, movie_id: int) -> list[tuple[int, float]]:
        start, end = self._offsets.get(movie_id, (0, 0))
        return list(
            zip(self._neighbours[start:end].tolist(), self._scores[start:end].tolist(), strict=True)
        )

    def save(self, directory: str | Path) -> Path:
        """Write the neighbours (parquet) and parameters (JSON) into ``directory``, atomically.

        Returns:
            The directory written.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        payload = {**self.params, "like_counts": {str(k): v for k, v in self.like_counts.items()}}
        _write_atomic(directory / _NEIGHBOURS_FILE, lambda p: pq.write_table(self.table, p))
        _write_atomic(directory / _PARAMS_FILE, lambda p: Path(p).write_text(json.dumps(payload)))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ItemNeighbours:
        """Read neighbours written by :meth:`save`.

        Raises:
            InputFileError: The directory holds no neighbours.
        """
        directory = Path(directory)
        path = directory / _NEIGHBOURS_FILE
        if not path.is_file() or not (directory / _PARAMS_FILE).is_file():
            raise InputFileError(
                path, "no item neighbours here", "run `movie-rag build` with ratings first"
            )
        payload = json.loads((directory / _PARAMS_FILE).read_text())
        counts = {int(k): int(v) for k, v in payload.pop("like_counts", {}).items()}
        return cls(read_parquet(path), payload, counts)


def fit_item_knn(
    ratings: pa.Table,
    *,
    like_threshold: float = 4.0,
    min_co_likes: int = 1,
    top_n: int = 100,
    alpha: float = 1.0,
    shrinkage: float = 0.0,
) -> ItemNeighbours:
    """Compute co-like neighbours from a ratings table, in memory (numpy/scipy, no Spark).

    Args:
        ratings: Columns ``user_id``, ``movie_id``, ``rating`` (other columns are ignored).
        like_threshold: A rating at or above this counts as a like.
        min_co_likes: Pairs liked together by fewer users are dropped.
        top_n: Neighbours kept per movie.
        alpha: Asymmetry of the normalisation (0.5 cosine, 1.0 conditional probability).
        shrinkage: Discount of pairs with few co-likes (``co / (co + shrinkage)``).

    Returns:
        The neighbours.

    Raises:
        ValueError: A required column is missing or a parameter is out of range.
    """
    from scipy import sparse

    _check_params(like_threshold, min_co_likes, top_n, alpha, shrinkage)
    missing = {"user_id", "movie_id", "rating"} - set(ratings.column_names)
    if missing:
        raise ValueError(f"ratings table lacks column(s) {sorted(missing)}")
    params = _params(like_threshold, min_co_likes, top_n, alpha, shrinkage)
    users = ratings.column("user_id").to_numpy(zero_copy_only=False)
    movies = ratings.column("movie_id").to_numpy(zero_copy_only=False)
    liked = ratings.column("rating").to_numpy(zero_copy_only=False) >= like_threshold
    users, movies = users[liked], movies[liked]
    if len(users) == 0:
        return ItemNeighbours(NEIGHBOURS_SCHEMA.empty_table(), params, {})
    user_ids, user_index = np.unique(users, return_inverse=True)
    movie_ids, movie_index = np.unique(movies, return_inverse=True)
    likes = sparse.csr_matrix(
        (np.ones(len(users)), (user_index, movie_index)),
        shape=(len(user_ids), len(movie_ids)),
    )
    likes.data[:] = 1.0  # a user rating a movie twice still likes it once
    by_item = likes.T.tocsr()
    counts = np.asarray(likes.sum(axis=0)).ravel()
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(movie_ids), _BLOCK):
        stop = min(start + _BLOCK, len(movie_ids))
        co = (by_item[start:stop] @ likes).toarray()
        rows.append(_top_neighbours(co, counts, start, movie_ids, params))
    movie_col, neighbour_col, score_col = (
        np.concatenate(parts) for parts in zip(*rows, strict=True)
    )
    table = pa.table(
        [
            pa.array(movie_col.astype(np.int32)),
            pa.array(neighbour_col.astype(np.int32)),
            pa.array(score_col.astype(np.float64)),
        ],
        schema=NEIGHBOURS_SCHEMA,
    )
    like_counts = {int(m): int(c) for m, c in zip(movie_ids, counts, strict=True)}
    return ItemNeighbours(table, params, like_counts)


def _top_neighbours(
    co: np.ndarray,
    counts: np.ndarray,
    start: int,
    movie_ids: np.ndarray,
    params: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    alpha, top_n = params["alpha"], params["top_n"]
    block = np.arange(co.shape[0])
    co[block, start + block] = 0.0  # a movie is not its own neighbour
    if params["min_co_likes"] > 1:  # co-like counts are whole: below 1 is already 0
        co[co < params["min_co_likes"]] = 0.0
    mine = counts[start : start + co.shape[0]]
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = neighbour_score(
            co, mine[:, None], counts[None, :], alpha=alpha, shrinkage=params["shrinkage"]
        )
    scores = np.nan_to_num(scores, nan=0.0, copy=False)
    item_rows, cols = np.nonzero(_top_mask(scores, top_n))
    values = scores[item_rows, cols]
    # Best first per movie, ties to the smaller neighbour id (ids sort like their indices).
    order = np.lexsort((cols, -values, item_rows))
    item_rows, cols, values = item_rows[order], cols[order], values[order]
    first = np.searchsorted(item_rows, item_rows, side="left")
    keep = (np.arange(len(item_rows)) - first) < top_n
    return (
        movie_ids[start + item_rows[keep]],
        movie_ids[cols[keep]],
        values[keep],
    )


def _top_mask(scores: np.ndarray, top_n: int) -> np.ndarray:
    """Per row, the ``top_n`` best positive scores, ties to the smaller column.

    Only these entries are sorted afterwards: sorting every co-liked pair was most of the
    training time at millions of ratings.
    """
    positive = scores > 0
    if scores.shape[1] <= top_n:
        return positive
    # The top_n-th largest value of each row: above it everything is kept, at it the
    # first columns fill the remaining places.
    threshold = -np.partition(-scores, top_n - 1, axis=1)[:, top_n - 1 : top_n]
    above = scores > threshold
    at = scores == threshold
    room = top_n - above.sum(axis=1, keepdims=True)
    return positive & (above | (at & (np.cumsum(at, axis=1) <= room)))


def neighbour_score(
    co: Any, n_movie: Any, n_neighbour: Any, *, alpha: float, shrinkage: float = 0.0
) -> Any:
    """The co-like score of a neighbour: co-likes over both like counts, shrunk when few.

    ``co / (n_movie ** alpha * n_neighbour ** (1 - alpha)) * co / (co + shrinkage)``, on
    numbers or numpy arrays (broadcast). The Spark job writes the same expression in
    :func:`movie_rag.collab.spark_jobs.neighbour_score_column`.

    Args:
        co: Users who liked both movies.
        n_movie: Users who liked the movie.
        n_neighbour: Users who liked the neighbour.
        alpha: Asymmetry of the normalisation (0.5 cosine, 1.0 conditional probability).
        shrinkage: Co-likes at which the score is halved (0: no shrinkage).

    Example:
        >>> round(neighbour_score(3, 9, 4, alpha=0.5), 4)
        0.5
        >>> round(neighbour_score(3, 9, 4, alpha=0.5, shrinkage=3), 4)
        0.25
    """
    normalised = co / (n_movie**alpha * n_neighbour ** (1.0 - alpha))
    if shrinkage <= 0:
        return normalised
    return normalised * co / (co + shrinkage)


def _params(
    like_threshold: float, min_co_likes: int, top_n: int, alpha: float, shrinkage: float = 0.0
) -> dict[str, Any]:
    return {
        "like_threshold": like_threshold,
        "min_co_likes": min_co_likes,
        "top_n": top_n,
        "alpha": alpha,
        "shrinkage": shrinkage,
    }


def _check_params(
    like_threshold: float, min_co_likes: int, top_n: int, alpha: float, shrinkage: float = 0.0
) -> None:
    if not (np.isfinite(shrinkage) and shrinkage >= 0):
        raise ValueError(f"shrinkage must be a finite number >= 0, got {shrinkage!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not np.isfinite(like_threshold):
        raise ValueError(f"like_threshold must be a finite rating, got {like_threshold!r}")
    if min_co_likes < 1:
        raise ValueError(f"min_co_likes must be at least 1, got {min_co_likes}")
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")


def _write_atomic(path: Path, write: Any) -> None:
    # Readers (a serving process) must never see a half-written file.
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
