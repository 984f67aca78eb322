"""Publishing fixtures: the bundled sample built once, published once, served once.

The publisher's settings carry secrets (an LLM key, a workspace token) that the chain never
needs here: they exist so that the tests can prove no artifact, config or tracking record
ever contains them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from publish_helpers import publisher_settings

from third_party_warnings import ignore_mlflow_warnings

# The embedding model must load from disk only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from movie_rag.publish import LocalServer, ModelPublisher, RegisteredVersion

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The Databricks serving tests run no MLflow model.
    ignore_mlflow_warnings(items, HERE, unless=lambda path: path.name.startswith("test_databricks"))


@pytest.fixture(scope="session")
def sample_workdir(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample catalogue and its local index, built once per session."""
    from movie_rag.datasets import sample_catalogue
    from movie_rag.pipeline import build_catalogue
    from movie_rag.settings import MovieRagSettings

    workdir = tmp_path_factory.mktemp("publish") / "workdir"
    sample = sample_catalogue()
    build_catalogue(
        MovieRagSettings(workdir=workdir), sample.movielens_dir, sample.imdb_paths, spark=spark
    )
    return workdir


@pytest.fixture(scope="session")
def publisher(sample_workdir: Path) -> ModelPublisher:
    from movie_rag.publish import ModelPublisher

    return ModelPublisher(publisher_settings(sample_workdir))


@pytest.fixture(scope="session")
def champion(publisher: ModelPublisher) -> RegisteredVersion:
    """The sample published: logged, registered as movie_rag, aliased champion."""
    return publisher.publish()


@pytest.fixture(scope="session")
def server(publisher: ModelPublisher, champion: RegisteredVersion) -> Iterator[LocalServer]:
    """``mlflow models serve`` of models:/movie_rag@champion on a free loopback port."""
    with publisher.serve_local(port=0) as running:
        yield running
