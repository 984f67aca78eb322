"""The collaborative model a build leaves behind, and how the query path opens it.

Layout of the collaborative directory (``<workdir>/collab`` locally, a Unity Catalog volume
path on Databricks, see :func:`collab_location`)::

    CURRENT            name of the live version (replaced atomically)
    v-<time>-<id>/     manifest.json, item_knn.parquet, item_knn.json, als.npz,
                       histories.parquet
    .lock              held by writers

The directory is a :class:`movie_rag._snapshots.VersionedDirectory`: a build writes (and
fsyncs) every file of a new version under its own fresh name, under the writers' lock, and
only then writes ``CURRENT`` (a small pointer file, last): readers follow the pointer, so
they never see a partial version, and no directory rename is needed (renames are not atomic
on object storage such as a Unity Catalog volume). The previous version is kept for a reader
that resolved ``CURRENT`` just before a swap. ``manifest.json`` records the format version,
the ratings fingerprint and the training parameters, so a build whose ratings and
parameters did not change skips training.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from movie_rag._parquet import read_parquet
from movie_rag._snapshots import POINTER, VersionedDirectory
from movie_rag.collab.item_knn import ItemNeighbours
from movie_rag.errors import InputFileError
from movie_rag.platform import platform_for
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from movie_rag.collab.spark_jobs import FactorTables

__all__ = [
    "FORMAT_VERSION",
    "CollaborativeModel",
    "collab_engine",
    "collab_location",
    "live_version",
    "ratings_fingerprint",
    "train_collaborative",
]

logger = logging.getLogger("movie_rag")

FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ALS = "als.npz"
_HISTORIES = "histories.parquet"
_KEEP_VERSIONS = 2
_HISTORY_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")


def collab_location(settings: MovieRagSettings) -> Path:
    """Where the collaborative artefacts live.

    ``settings.collab_path`` when set; otherwise ``<workdir>/collab`` locally and the Unity
    Catalog volume ``/Volumes/<catalog>/<silver_schema>/collab`` on Databricks (volumes are
    plain files on the driver, so the same code reads and writes both).
    """
    return platform_for(settings).collab_location()


def ratings_fingerprint(ratings: pa.Table) -> str:
    """A digest of the ratings (user, movie, rating, timestamp, in row order)."""
    digest = hashlib.sha256()
    digest.update(str(ratings.num_rows).encode())
    for name in _HISTORY_COLUMNS:
        if name in ratings.column_names:
            column = ratings.column(name).combine_chunks()
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(column.to_numpy(zero_copy_only=False)).tobytes())
    return digest.hexdigest()


def collab_engine(settings: MovieRagSettings) -> str:
    """``single_node`` or ``spark``: ``settings.collab_engine`` with ``auto`` resolved."""
    if settings.collab_engine != "auto":
        return settings.collab_engine
    return "single_node" if platform_for(settings).is_local else "spark"


def spark_ml_unavailable(exc: BaseException) -> bool:
    """Whether a failure of Spark ALS means Spark ML is not available on this session.

    Spark Connect without ML (before Spark 4.0's Connect ML, serverless), and standard
    access mode before DBR 17, refuse ``pyspark.ml`` estimators; that is a property of the
    platform, not of the data, so training falls back to the single-node model.
    """
    if isinstance(exc, ImportError | NotImplementedError):
        return True
    text = f"{type(exc).__name__}: {exc}".upper()
    markers = (
        "CONNECT_ML",
        "ML_",
        "NOT SUPPORTED IN SPARK CONNECT",
        "NOT_SUPPORTED_IN_SPARK_CONNECT",
        "UNSUPPORTED_OPERATION",
        "PY4J_SECURITY",
        "IS NOT WHITELISTED",
        "NOT ALLOWED",
        "JVM_ATTRIBUTE_NOT_SUPPORTED",
    )
    return any(marker in text for marker in markers)


def training_params(settings: MovieRagSettings) -> dict[str, Any]:
    """The parameters that, with the ratings, determine the trained model."""
    return {
        "like_threshold": settings.collab_like_threshold,
        "min_co_likes": settings.collab_min_co_likes,
        "top_n": settings.collab_top_n,
        "alpha": settings.collab_alpha,
        "shrinkage": settings.collab_shrinkage,
        "als_rank": settings.als_rank,
        "als_reg": settings.als_reg,
        "als_alpha": settings.als_alpha,
        "als_max_iter": settings.als_max_iter,
        "seed": 42,
    }


@dataclass
class CollaborativeModel:
    """Co-like neighbours, ALS factors and the users' rating histories, as arrays.

    Attributes:
        neighbours: Item-to-item co-like neighbours.
        user_ids: MovieLens user ids with ALS factors (sorted).
        user_factors: ``(users, rank)`` ALS user factors.
        item_ids: Movie ids with ALS factors (sorted).
        item_factors: ``(movies, rank)`` ALS item factors.
        histories: Ratings ``user_id, movie_id, rating, timestamp`` (what each user has seen).
        manifest: Format version, ratings fingerprint, parameters, counts.
    """

    neighbours: ItemNeighbours
    user_ids: np.ndarray
    user_factors: np.ndarray
    item_ids: np.ndarray
    item_factors: np.ndarray
    histories: pa.Table
    manifest: dict[str, Any]

    @property
    def like_threshold(self) -> float:
        """The rating at or above which a rating is a like."""
        return float(self.manifest["params"]["like_threshold"])

    @cached_property
    def _user_rows(self) -> dict[int, int]:
        return {int(u): i for i, u in enumerate(self.user_ids)}

    @cached_property
    def item_rows(self) -> dict[int, int]:
        """Movie id → row of ``item_factors``."""
        return {int(m): i for i, m in enumerate(self.item_ids)}

    @cached_property
    def _history_index(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        users = self.histories.column("user_id").to_numpy()
        movies = self.histories.column("movie_id").to_numpy()
        stars = self.histories.column("rating").to_numpy()
        order = np.argsort(users, kind="stable")
        users, movies, stars = users[order], movies[order], stars[order]
        bounds = np.flatnonzero(np.r_[True, users[1:] != users[:-1], True])
        return {int(users[a]): (movies[a:b], stars[a:b]) for a, b in itertools.pairwise(bounds)}

    @cached_property
    def _likes(self) -> tuple[Any, Any, np.ndarray, np.ndarray]:
        from scipy import sparse

        liked = self.histories.column("rating").to_numpy() >= self.like_threshold
        users = self.histories.column("user_id").to_numpy()[liked]
        movies = self.histories.column("movie_id").to_numpy()[liked]
        user_ids, user_index = np.unique(users, return_inverse=True)
        movie_ids, movie_index = np.unique(movies, return_inverse=True)
        matrix = sparse.csr_matrix(
            (np.ones(len(users)), (user_index, movie_index)),
            shape=(len(user_ids), len(movie_ids)),
        )
        matrix.data[:] = 1.0  # a user rating a movie twice still likes it once
        return matrix, matrix.T.tocsr(), movie_ids, np.asarray(matrix.sum(axis=0)).ravel()

    def share_of_fans(self, movie_id: int) -> list[tuple[int, float]]:
        """Movies the fans of one movie liked, scored by the share of its fans who did.

        ``co(i, j) / n(i)`` (the conditional probability: :func:`~movie_rag.collab.item_knn.
        fit_item_knn` with ``alpha`` 1 and no shrinkage), computed from the stored histories
        whatever normalisation the stored neighbours use, with the neighbours' ``min_co_likes``
        and ``top_n``. Free text borrows these from its best text matches: there the
        well-liked films of a kind are the answer, not what X's fans like more than everybody.

        Returns:
            ``(movie_id, share)`` pairs, best first, ties broken by the smaller id; empty for
            a movie nobody liked.
        """
        matrix, by_item, movie_ids, counts = self._likes
        row = int(np.searchsorted(movie_ids, movie_id))
        if row >= len(movie_ids) or movie_ids[row] != movie_id:
            return []
        co = np.asarray((by_item[row] @ matrix).todense()).ravel()
        co[row] = 0.0
        params = self.neighbours.params
        co[co < params.get("min_co_likes", 1)] = 0.0
        (cols,) = np.nonzero(co)
        shares = co[cols] / counts[row]
        order = np.lexsort((movie_ids[cols], -shares))[: params.get("top_n", 100)]
        return [(int(movie_ids[cols[i]]), float(shares[i])) for i in order]

    def user_factor(self, user_id: int) -> np.ndarray | None:
        """The ALS factor of a MovieLens user, or None for a user the model never saw."""
        row = self._user_rows.get(int(user_id))
        return None if row is None else self.user_factors[row]

    def history(self, user_id: int) -> dict[int, float]:
        """The movies a MovieLens user rated → rating (empty for an unknown user)."""
        movies, stars = self._history_index.get(int(user_id), (np.array([]), np.array([])))
        return {int(m): float(s) for m, s in zip(movies, stars, strict=True)}

    def fold_in(self, liked: Sequence[int], disliked: Sequence[int] = ()) -> np.ndarray | None:
        """A user factor for a set of liked movies, from the fixed item factors.

        One implicit-ALS user step (Hu, Koren & Volinsky 2008): liked movies have preference
        1 and confidence ``1 + alpha``; a disliked movie gets preference 0 with the same
        confidence, which pushes the factor away from it. This is how thumbs from the UI
        shape a profile without retraining.

        Returns:
            The factor, or None when none of the movies has a factor.
        """
        params = self.manifest["params"]
        alpha, reg = float(params["als_alpha"]), float(params["als_reg"])
        rows = [self.item_rows[m] for m in liked if m in self.item_rows]
        negative = [self.item_rows[m] for m in disliked if m in self.item_rows]
        if not rows:
            return None
        items = self.item_factors.astype(np.float64)
        gram = self._gram
        chosen = items[rows + negative]
        confidence = np.full(len(chosen), alpha)
        preference = np.r_[np.ones(len(rows)), np.zeros(len(negative))]
        lhs = gram + (chosen.T * confidence) @ chosen + reg * np.eye(items.shape[1])
        rhs = chosen.T @ ((1.0 + confidence) * preference)
        return np.linalg.solve(lhs, rhs).astype(np.float32)

    @cached_property
    def _gram(self) -> np.ndarray:
        items = self.item_factors.astype(np.float64)
        return items.T @ items

    def item_scores(self, factor: np.ndarray, movie_ids: list[int]) -> dict[int, float]:
        """ALS preference scores of some movies for a user factor (movies without one: absent)."""
        rows = [(m, self.item_rows[m]) for m in movie_ids if m in self.item_rows]
        if not rows:
            return {}
        values = self.item_factors[[r for _, r in rows]] @ factor
        return {m: float(v) for (m, _), v in zip(rows, values, strict=True)}

    # -- persistence ---------------------------------------------------------------------

    @classmethod
    def load(cls, location: str | Path) -> CollaborativeModel:
        """Open the live version in ``location``.

        Raises:
            InputFileError: No collaborative model there, or one in another format version.
        """
        version = _versions(location).live_path()
        if version is None:
            raise InputFileError(
                Path(location), "no collaborative model here", "run `movie-rag build` with ratings"
            )
        manifest = json.loads((version / _MANIFEST).read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise InputFileError(
                version / _MANIFEST,
                f"format version {manifest.get('format_version')} (expected {FORMAT_VERSION})",
                "rebuild with `movie-rag build`",
            )
        with np.load(version / _ALS) as als:
            arrays = {name: als[name] for name in als.files}
        return cls(
            neighbours=ItemNeighbours.load(version),
            user_ids=arrays["user_ids"],
            user_factors=arrays["user_factors"],
            item_ids=arrays["item_ids"],
            item_factors=arrays["item_factors"],
            histories=read_parquet(version / _HISTORIES),
            manifest=manifest,
        )

    @classmethod
    def open(cls, settings: MovieRagSettings) -> CollaborativeModel | None:
        """The model of ``settings``' build, or None when there is none (content-only)."""
        location = collab_location(settings)
        if not settings.collab_enabled or not (location / POINTER).is_file():
            return None
        return cls.load(location)

    def save(self, location: str | Path) -> Path:
        """Write this model as a new version in ``location`` and make it live.

        Every file is written and fsynced under a name no reader knows yet, under the
        writers' lock; ``CURRENT`` comes last.

        Returns:
            The version directory.
        """
        versions = _versions(location)
        with versions.lock():
            with versions.stage() as staged:
                self.neighbours.save(staged.path)
                np.savez(
                    staged.path / _ALS,
                    user_ids=self.user_ids,
                    user_factors=self.user_factors,
                    item_ids=self.item_ids,
                    item_factors=self.item_factors,
                )
                pq.write_table(self.histories, staged.path / _HISTORIES)
                (staged.path / _MANIFEST).write_text(json.dumps(self.manifest, indent=2) + "\n")
            return versions.publish(staged.name)


def live_version(location: str | Path) -> Path | None:
    """The directory of the live version in ``location``, or None when there is none.

    A published model copies this one directory (and a ``CURRENT`` naming it), so that
    :meth:`CollaborativeModel.load` opens the copy like the original.
    """
    version = _versions(location).live_path()
    return version if version is not None and (version / _MANIFEST).is_file() else None


def current_manifest(location: str | Path) -> dict[str, Any] | None:
    """The manifest of the live version, or None."""
    version = _versions(location).live_path()
    if version is None:
        return None
    try:
        return dict(json.loads((version / _MANIFEST).read_text()))
    except (OSError, ValueError):
        return None


def train_collaborative(
    settings: MovieRagSettings,
    ratings: pa.Table,
    *,
    ratings_frame: DataFrame | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Train the collaborative model and store it, unless nothing changed.

    Where it trains follows :func:`collab_engine`: in-process (scipy neighbours, implicit
    ALS; :mod:`movie_rag.collab.single_node`) or as Spark jobs on ``ratings_frame``. ALS is
    its own step: when Spark ML is unavailable on the session (Spark Connect without ML,
    standard access mode before DBR 17, serverless) the build says so and trains ALS on
    this node instead of failing.

    Args:
        settings: Parameters and location (:func:`collab_location`).
        ratings: The ratings as Arrow (fingerprinted; stored as the users' histories).
        ratings_frame: The same ratings as a Spark DataFrame (what the Spark jobs train
            on); needed only for the ``spark`` engine.
        force: Train even when the ratings and parameters match the live version.

    Returns:
        A summary for the build report: trained or skipped, counts and seconds.
    """
    from movie_rag.collab.item_knn import fit_item_knn
    from movie_rag.collab.single_node import train_als_single_node

    location = collab_location(settings)
    params = training_params(settings)
    fingerprint = ratings_fingerprint(ratings)
    live = current_manifest(location)
    if (
        not force
        and live is not None
        and live.get("format_version") == FORMAT_VERSION
        and live.get("ratings_fingerprint") == fingerprint
        and live.get("params") == params
    ):
        logger.info("collaborative model is up to date (%s)", location)
        return {"trained": False, **live.get("counts", {})}
    engine = collab_engine(settings)
    if engine == "spark" and ratings_frame is None:
        raise ValueError("collab_engine='spark' needs the ratings as a Spark DataFrame")
    started = time.perf_counter()
    knn = {
        "like_threshold": params["like_threshold"],
        "min_co_likes": params["min_co_likes"],
        "top_n": params["top_n"],
        "alpha": params["alpha"],
        "shrinkage": params["shrinkage"],
    }
    als = {
        "rank": params["als_rank"],
        "reg": params["als_reg"],
        "alpha": params["als_alpha"],
        "max_iter": params["als_max_iter"],
        "seed": params["seed"],
    }
    als_engine = engine
    if engine == "spark":
        from movie_rag.collab.spark_jobs import fit_item_knn_spark, train_als

        assert ratings_frame is not None
        neighbours = fit_item_knn_spark(ratings_frame, **knn)
        try:
            factors: FactorTables = train_als(ratings_frame, **als)
        except Exception as exc:
            if not spark_ml_unavailable(exc):
                raise
            logger.warning(
                "Spark ML is not available on this Spark session (%s: %s); training ALS "
                "on this node instead",
                type(exc).__name__,
                str(exc).splitlines()[0][:200] if str(exc) else "",
            )
            als_engine = "single_node"
            factors = train_als_single_node(ratings, **als)
    else:
        neighbours = fit_item_knn(ratings, **knn)
        factors = train_als_single_node(ratings, **als)
    counts = {
        "ratings": ratings.num_rows,
        "movies_with_neighbours": len(neighbours),
        "neighbour_rows": neighbours.table.num_rows,
        "users": len(factors.user_ids),
        "movies_with_factors": len(factors.item_ids),
    }
    model = CollaborativeModel(
        neighbours=neighbours,
        user_ids=factors.user_ids,
        user_factors=factors.user_factors,
        item_ids=factors.item_ids,
        item_factors=factors.item_factors,
        histories=ratings.select([c for c in _HISTORY_COLUMNS if c in ratings.column_names]),
        manifest={
            "format_version": FORMAT_VERSION,
            "ratings_fingerprint": fingerprint,
            "params": params,
            "counts": counts,
            "engine": {"item_knn": engine, "als": als_engine},
            "created_at": datetime.now(UTC).isoformat(),
        },
    )
    if not platform_for(settings).is_local:
        from movie_rag.volumes import ensure_volume

        ensure_volume(settings, location, comment="Collaborative model versions")
    model.save(location)
    seconds = round(time.perf_counter() - started, 3)
    logger.info("trained the collaborative model in %.1f s (%s)", seconds, location)
    return {"trained": True, **counts, "seconds": seconds, "spark_als": als_engine == "spark"}


def _versions(location: str | Path) -> VersionedDirectory:
    # Written in place, not renamed: on a Unity Catalog volume a directory rename is a copy.
    return VersionedDirectory(location, keep=_KEEP_VERSIONS, rename_staging=False)
