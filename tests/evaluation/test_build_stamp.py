"""The evaluation build is reused only while everything that shaped it is unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from movie_rag.evaluation.build import EvaluationBuild, EvaluationInputs
from movie_rag.evaluation.protocols import ProtocolParams
from movie_rag.evaluation.synthetic import generate_movielens
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir


@pytest.fixture
def prepare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``prepare(settings)`` → whether the evaluation build was (re)built; no Spark build."""
    movielens = tmp_path / "ml"
    generate_movielens(movielens, movies=100, ratings=3_000, users=100, seed=9)

    def fake_build(self: EvaluationBuild, files: Any, ratings: Any, tags: Any) -> None:
        Workdir(self.directory).table("movies_info").mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(EvaluationBuild, "_build", fake_build)
    monkeypatch.setattr(
        "movie_rag.tables.read_local_table", lambda path: pa.table({"movie_id": [1]})
    )

    def run(settings: MovieRagSettings) -> bool:
        build = EvaluationBuild(settings, EvaluationInputs(movielens), ProtocolParams.reduced())
        build.prepare()
        return build.rebuilt

    return run


@pytest.mark.parametrize(
    "change",
    [
        {"collab_alpha": 0.5},
        {"collab_like_threshold": 3.5},
        {"collab_min_co_likes": 5},
        {"collab_top_n": 20},
        {"als_rank": 8},
        {"als_max_iter": 3},
        {"collab_enabled": False},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_changed_collaborative_setting_rebuilds(
    prepare: Any, tmp_path: Path, change: dict[str, Any]
) -> None:
    settings = MovieRagSettings(workdir=tmp_path / "wd")
    assert prepare(settings) is True  # first run builds
    assert prepare(settings) is False  # same inputs and settings: reused
    # An older build trained with other collaborative settings must not be reused: it
    # would keep stale neighbours and ALS factors.
    assert prepare(settings.model_copy(update=change)) is True
    assert prepare(settings.model_copy(update=change)) is False
    assert prepare(settings) is True


def test_settings_that_do_not_shape_the_build_keep_it(prepare: Any, tmp_path: Path) -> None:
    settings = MovieRagSettings(workdir=tmp_path / "wd")
    assert prepare(settings) is True
    # Ranking weights are applied at query time, not trained into the build.
    assert prepare(settings.model_copy(update={"weight_collab": 0.05})) is False
