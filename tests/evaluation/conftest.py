"""Evaluation fixtures: one reduced-protocol evaluation on the session's real build."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from third_party_warnings import ignore_mlflow_warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from movie_rag.evaluation.runner import EvaluationReport
    from movie_rag.evaluation.systems import EvalContext

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    ignore_mlflow_warnings(items, HERE)


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
