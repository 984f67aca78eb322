"""The stored collaborative model: Spark training, skip when unchanged, profiles, fold-in."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from movie_rag.collab.item_knn import fit_item_knn
from movie_rag.collab.model import (
    CollaborativeModel,
    collab_engine,
    collab_location,
    ratings_fingerprint,
    spark_ml_unavailable,
    train_collaborative,
)
from movie_rag.collab.profile import build_profile
from movie_rag.errors import InputFileError
from movie_rag.feedback.events import FeedbackEvent
from movie_rag.feedback.local import LocalFeedbackStore
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def small_ratings(shared_data: Path) -> pa.Table:
    from movie_rag.ingest.movielens import MovieLensLoader

    ratings = MovieLensLoader().load(shared_data / "ml-latest-small").ratings
    return ratings.filter(pc.less_equal(ratings.column("user_id"), 120))


@pytest.fixture(scope="module")
def trained(
    spark: SparkSession, small_ratings: pa.Table, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MovieRagSettings, dict]:
    from movie_rag.spark import arrow_to_spark

    settings = MovieRagSettings(
        workdir=tmp_path_factory.mktemp("collab"),
        als_rank=8,
        als_max_iter=4,
        collab_engine="spark",
    )
    frame = arrow_to_spark(spark, small_ratings)
    return settings, train_collaborative(settings, small_ratings, ratings_frame=frame)


@pytest.mark.spark
@pytest.mark.slow
def test_build_trains_stores_and_skips_unchanged_ratings(
    spark: SparkSession, small_ratings: pa.Table, trained, tmp_path: Path
) -> None:
    from movie_rag.spark import arrow_to_spark

    settings, summary = trained
    # Retrain in a copy: the module's Spark model must stay the one trained on small_ratings,
    # which the engine comparison below holds the single-node model to.
    copy = tmp_path / "collab"
    shutil.copytree(collab_location(settings), copy, symlinks=True)
    settings = settings.model_copy(update={"collab_path": str(copy)})
    assert summary["trained"] is True
    model = CollaborativeModel.load(collab_location(settings))
    assert model.manifest["ratings_fingerprint"] == ratings_fingerprint(small_ratings)
    assert model.manifest["params"]["als_rank"] == 8
    # The stored neighbours are the shared definition's, with the build's normalisation.
    expected = fit_item_knn(
        small_ratings, alpha=settings.collab_alpha, shrinkage=settings.collab_shrinkage
    )
    got, want = model.neighbours.similar_to([1, 260], 20), expected.similar_to([1, 260], 20)
    assert [m for m, _ in got] == [m for m, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-12)
    assert model.user_factors.shape == (120, 8)
    assert model.histories.num_rows == small_ratings.num_rows

    frame = arrow_to_spark(spark, small_ratings)
    again = train_collaborative(settings, small_ratings, ratings_frame=frame)
    assert again["trained"] is False
    fewer = small_ratings.slice(0, small_ratings.num_rows - 10)
    changed = train_collaborative(settings, fewer, ratings_frame=arrow_to_spark(spark, fewer))
    assert changed["trained"] is True
    assert CollaborativeModel.load(collab_location(settings)).histories.num_rows == (fewer.num_rows)
    versions = [p for p in collab_location(settings).iterdir() if p.name.startswith("v-")]
    assert len(versions) == 2  # the live one and the previous, for readers mid-swap


def test_fingerprint_follows_the_ratings(small_ratings: pa.Table) -> None:
    assert ratings_fingerprint(small_ratings) == ratings_fingerprint(small_ratings)
    changed = small_ratings.set_column(
        2, "rating", pc.add(small_ratings.column("rating"), pa.scalar(0.5, pa.float32()))
    )
    assert ratings_fingerprint(changed) != ratings_fingerprint(small_ratings)


def test_missing_model_is_a_clear_error_and_open_returns_none(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="movie-rag build"):
        CollaborativeModel.load(tmp_path)
    assert CollaborativeModel.open(MovieRagSettings(workdir=tmp_path)) is None


def test_databricks_location_is_a_volume_unless_set() -> None:
    settings = MovieRagSettings(backend="databricks", catalog="main", silver_schema="movies")
    assert collab_location(settings).as_posix() == "/Volumes/main/movies/collab"
    assert collab_location(settings.model_copy(update={"collab_path": "/dbfs/x"})) == Path(
        "/dbfs/x"
    )


def _vote(store: LocalFeedbackStore, user: str, movie_id: int, vote: int) -> None:
    store.record(
        FeedbackEvent(user_id=user, query="q", vote=vote, target="movie", movie_id=movie_id)
    )


@pytest.mark.spark
@pytest.mark.slow
def test_profiles_join_movielens_history_and_ui_votes(trained, tmp_path: Path) -> None:
    settings, _ = trained
    model = CollaborativeModel.load(collab_location(settings))
    store = LocalFeedbackStore(tmp_path)
    history = model.history(7)
    assert history
    profile = build_profile("7", model, store)
    assert profile.seen == frozenset(history)
    assert set(profile.liked) == {m for m, r in history.items() if r >= 4.0}
    np.testing.assert_array_equal(profile.factor, model.user_factor(7))

    liked = next(m for m, r in history.items() if r >= 4.0)
    _vote(store, "7", liked, -1)  # changed their mind
    _vote(store, "7", 3114, 1)
    updated = build_profile("7", model, store)
    assert liked in updated.disliked and liked not in updated.liked
    assert 3114 in updated.liked and 3114 in updated.excluded
    assert updated.factor is not None
    assert not np.allclose(updated.factor, profile.factor)

    # A UI-only user: no MovieLens history, a factor folded in from one thumbs-up.
    assert build_profile("alice", model, store).has_taste is False
    _vote(store, "alice", 1, 1)
    alice = build_profile("alice", model, store)
    assert alice.liked == (1,) and alice.seen == {1}
    scores = model.item_factors @ alice.factor
    # Her folded-in factor ranks Toy Story's co-liked sequel in the top tenth.
    rank = int((scores > scores[model.item_rows[3114]]).sum())
    assert rank < len(scores) / 10


# -- single-node training (the embedded default) ----------------------------------------


def _top_similar(factors: np.ndarray, row: int, k: int) -> set[int]:
    unit = factors / np.linalg.norm(factors, axis=1, keepdims=True).clip(1e-12)
    scores = unit @ unit[row]
    scores[row] = -np.inf
    return set(np.argsort(-scores)[:k].tolist())


@pytest.mark.spark
@pytest.mark.slow
def test_single_node_training_stores_the_same_artefacts_as_spark(
    small_ratings: pa.Table, trained, tmp_path: Path
) -> None:
    spark_settings, _ = trained
    spark_model = CollaborativeModel.load(collab_location(spark_settings))
    # Both engines must have seen the same ratings, or the comparison means nothing.
    assert spark_model.manifest["ratings_fingerprint"] == ratings_fingerprint(small_ratings)
    settings = MovieRagSettings(workdir=tmp_path, als_rank=8, als_max_iter=4)
    assert collab_engine(settings) == "single_node"
    summary = train_collaborative(settings, small_ratings)  # no Spark DataFrame needed
    assert summary["trained"] is True and summary["spark_als"] is False
    model = CollaborativeModel.load(collab_location(settings))
    assert model.manifest["engine"] == {"item_knn": "single_node", "als": "single_node"}
    assert model.manifest["params"] == spark_model.manifest["params"]
    # Neighbours: the same rows and scores.
    assert model.neighbours.table.num_rows == spark_model.neighbours.table.num_rows
    got, want = (
        model.neighbours.similar_to([1, 260], 30),
        spark_model.neighbours.similar_to([1, 260], 30),
    )
    assert [m for m, _ in got] == [m for m, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-9)
    # ALS: the same users and movies, the same shapes; factors differ by their random
    # start, so compare what they are used for: the movies most similar to popular ones.
    np.testing.assert_array_equal(model.user_ids, spark_model.user_ids)
    np.testing.assert_array_equal(model.item_ids, spark_model.item_ids)
    assert model.user_factors.shape == spark_model.user_factors.shape
    assert model.item_factors.dtype == np.float32
    popular = np.argsort(
        -np.bincount(np.searchsorted(model.item_ids, small_ratings.column("movie_id").to_numpy()))
    )[:20]
    overlap = np.mean(
        [
            len(
                _top_similar(model.item_factors, r, 20)
                & _top_similar(spark_model.item_factors, r, 20)
            )
            / 20
            for r in popular
        ]
    )
    assert overlap >= 0.3, overlap
    # The user step (fold-in) of a fan of both stores ranks what the fans liked alike.
    liked = [1, 260, 1196]
    mine, theirs = model.fold_in(liked), spark_model.fold_in(liked)
    assert mine is not None and theirs is not None
    ids = [int(m) for m in model.item_ids[popular]]
    a, b = model.item_scores(mine, ids), spark_model.item_scores(theirs, ids)
    rho = np.corrcoef([a[m] for m in ids], [b[m] for m in ids])[0, 1]
    assert rho >= 0.5, rho


def test_engine_choice_and_spark_ml_unavailable() -> None:
    assert collab_engine(MovieRagSettings()) == "single_node"
    assert collab_engine(MovieRagSettings(backend="databricks")) == "spark"
    assert collab_engine(MovieRagSettings(collab_engine="spark")) == "spark"
    assert spark_ml_unavailable(ImportError("No module named 'pyspark.ml'"))
    assert spark_ml_unavailable(
        RuntimeError("[CONNECT_ML.UNSUPPORTED_MESSAGE] ML is not supported on this cluster")
    )
    assert spark_ml_unavailable(
        RuntimeError("py4j.security.Py4JSecurityException: ... is not whitelisted")
    )
    assert not spark_ml_unavailable(ValueError("rating column has nulls"))


def test_single_node_needs_no_spark_and_spark_needs_a_frame(
    small_ratings: pa.Table, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="Spark DataFrame"):
        train_collaborative(
            MovieRagSettings(workdir=tmp_path, collab_engine="spark"), small_ratings
        )
    settings = MovieRagSettings(workdir=tmp_path, als_rank=4, als_max_iter=2)
    assert train_collaborative(settings, small_ratings)["trained"] is True
    root = collab_location(settings)
    live = (root / "CURRENT").read_text().strip()
    # No staging or temp files; only the writers' lock.
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == [".lock"]
    assert (root / live / "manifest.json").is_file()


def test_free_text_share_of_fans_is_the_conditional_probability(small_ratings: pa.Table) -> None:
    # The stored neighbours are lift-scored; free text still borrows co(i, j) / n(i).
    lift = fit_item_knn(small_ratings, alpha=0.4, shrinkage=2.0)
    conditional = fit_item_knn(small_ratings, alpha=1.0)
    model = CollaborativeModel(
        neighbours=lift,
        user_ids=np.array([], dtype=np.int64),
        user_factors=np.zeros((0, 1)),
        item_ids=np.array([], dtype=np.int64),
        item_factors=np.zeros((0, 1)),
        histories=small_ratings,
        manifest={"params": {"like_threshold": 4.0}},
    )
    for movie_id in (1, 260, 296, 2571, 4993):
        expected = conditional.neighbours_of(movie_id)
        got = model.share_of_fans(movie_id)
        assert [m for m, _ in got] == [m for m, _ in expected]
        assert np.allclose([s for _, s in got], [s for _, s in expected])
    assert [m for m, _ in model.share_of_fans(1)] != [m for m, _ in lift.neighbours_of(1)]
    assert model.share_of_fans(-5) == []
