"""Warnings raised inside MLflow's (and Gradio's) own code paths, not ours.

The project turns warnings into errors. Suites that run MLflow models (publishing, the UI's
served-model emulator, the evaluation's MLflow run) ignore these, and only these, for their
own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

MLFLOW_WARNINGS = (
    "ignore::sqlalchemy.exc.SADeprecationWarning",
    "ignore:.*is deprecated.*:DeprecationWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::UserWarning:mlflow.*",
)


def ignore_mlflow_warnings(
    items: Iterable[pytest.Item],
    directory: Path,
    *,
    unless: Callable[[Path], bool] = lambda path: False,
) -> None:
    """Mark the tests collected from ``directory`` (except ``unless`` files) to ignore them."""
    for item in items:
        path = Path(str(item.path))
        if path.parent == directory and not unless(path):
            for spec in MLFLOW_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
