"""Evaluation fixtures: one reduced-protocol evaluation on the session's real build."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from movie_rag.evaluation.runner import EvaluationReport
    from movie_rag.evaluation.systems import EvalContext

HERE = Path(__file__).resolve().parent

# Third-party deprecations raised inside MLflow's own code paths, not ours.
_THIRD_PARTY_WARNINGS = (
    "ignore::sqlalchemy.exc.SADeprecationWarning",
    "ignore:.*is deprecated.*:DeprecationWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::UserWarning:mlflow.*",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).parent == HERE:
            for spec in _THIRD_PARTY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def evaluation(
    real_build, shared_data: Path, spark: SparkSession
) -> tuple[EvaluationReport, EvalContext]:
    """The reduced (CI) protocol run once on the session's real build, chain and baselines.

    The inputs come from the build report, as ``movie-rag evaluate`` finds them.
    """
    from movie_rag.evaluation.protocols import ProtocolParams
    from movie_rag.evaluation.runner import run_evaluation

    settings, _ = real_build
    return run_evaluation(
        settings,
        None,
        ProtocolParams.reduced(),
        protocols=["tags", "similar"],
        systems=["random", "popularity", "bm25", "item-knn", "chain"],
        spark=spark,
    )
