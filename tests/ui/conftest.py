"""UI fixtures: the bundled sample built once, its chain, and a served model on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from third_party_warnings import ignore_mlflow_warnings

# The embedding model loads from disk only; Gradio must not phone home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pyspark.sql import SparkSession

    from emulators.model_invocations import ModelInvocationsEmulator
    from movie_rag.chain.recommender import RecommenderChain

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    ignore_mlflow_warnings(items, HERE)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, through Playwright (never a downloaded browser)."""
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        message = f"no chromium at {CHROMIUM}: run scripts/test.sh (installs Debian's chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def ui_workdir(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample catalogue and its local index, built once per session."""
    from movie_rag.datasets import sample_catalogue
    from movie_rag.pipeline import build_catalogue
    from movie_rag.settings import MovieRagSettings

    workdir = tmp_path_factory.mktemp("ui") / "workdir"
    sample = sample_catalogue()
    build_catalogue(
        MovieRagSettings(workdir=workdir), sample.movielens_dir, sample.imdb_paths, spark=spark
    )
    return workdir


@pytest.fixture(scope="session")
def chain(ui_workdir: Path) -> RecommenderChain:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.settings import MovieRagSettings

    return RecommenderChain.from_settings(MovieRagSettings(workdir=ui_workdir))


@pytest.fixture
def endpoint(chain: RecommenderChain) -> Iterator[ModelInvocationsEmulator]:
    """The real served model (MovieRagModel.predict) behind Databricks-style invocations."""
    from emulators.model_invocations import ModelInvocationsEmulator

    with ModelInvocationsEmulator(chain) as emulator:
        yield emulator
