"""The ``databricks`` extra declares what publishing needs, with MLflow 3 and a safe protobuf."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _extra() -> dict[str, Requirement]:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    lines = data["project"]["optional-dependencies"]["databricks"]
    return {Requirement(line).name: Requirement(line) for line in lines}


def test_mlflow_3_is_pinned_and_never_the_full_server_stack() -> None:
    extra = _extra()
    mlflow = extra["mlflow-skinny"]
    assert mlflow.specifier.contains("3.1.0") and mlflow.specifier.contains("3.17.2")
    assert not mlflow.specifier.contains("2.22.0") and not mlflow.specifier.contains("4.0.0")
    assert "mlflow" not in extra and "pyspark" not in extra and "databricks-connect" not in extra


def test_protobuf_accepts_what_the_runtimes_ship_so_nothing_is_upgraded() -> None:
    protobuf = _extra()["protobuf"].specifier
    # Runtime-shipped protobuf lines (4.25 on 15.4 LTS ML, 5.29 on 16.x, 6.x on newer).
    for shipped in ("4.25.8", "5.29.5", "6.31.1"):
        assert protobuf.contains(Version(shipped)), shipped


def test_the_extra_covers_what_the_served_databricks_model_requires() -> None:
    from movie_rag.publish.model_spec import _DATABRICKS_REQUIREMENTS

    extra = _extra()
    assert set(_DATABRICKS_REQUIREMENTS) <= set(extra)
    assert {"tenacity", "langchain-openai"} <= set(extra)
