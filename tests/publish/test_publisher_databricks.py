"""ModelPublisher's Databricks paths (endpoint, secrets, grants) against the serving emulator.

Registering in Unity Catalog needs a real workspace (MLflow uploads the model to cloud
storage), so these tests serve versions the emulator knows as registered; everything after
registration goes through the real databricks-sdk to the emulator on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from publish_helpers import LLM_KEY, publisher_settings
from pydantic import SecretStr

pytest.importorskip("databricks.sdk")

from emulators.serving import ServingEmulator
from movie_rag.errors import ConfigurationError
from movie_rag.publish import InferenceTableConfig, ModelPublisher

MODEL = "main.movie_rag.movie_rag"
ENDPOINT = "movie-rag"


@pytest.fixture
def workspace() -> Iterator[ServingEmulator]:
    with ServingEmulator() as ws:
        ws.register_model(MODEL, "1", "2")
        ws.register_table("main.movie_rag.movies_info")
        yield ws


@pytest.fixture
def publisher(workspace: ServingEmulator, tmp_path: Path) -> ModelPublisher:
    settings = publisher_settings(
        tmp_path,
        backend="databricks",
        catalog="main",
        silver_schema="movie_rag",
        databricks_host=workspace.url,
        databricks_token=SecretStr(workspace.token),
    )
    return ModelPublisher(settings, registry="databricks-uc")


def _deploy(publisher: ModelPublisher, version: str = "1", **kwargs: object):
    serving = publisher.databricks_serving(poll_interval=0.01, timeout=20)
    return publisher.deploy_databricks(
        ENDPOINT, name="movie_rag", version=version, serving=serving, **kwargs
    )


def test_deploy_stores_secrets_in_a_scope_and_passes_only_references(
    workspace: ServingEmulator, publisher: ModelPublisher
) -> None:
    inference = InferenceTableConfig(catalog_name="main", schema_name="movie_rag")
    status = _deploy(publisher, inference_table=inference, workload_size="Small")

    assert status.ready
    [entity] = status.served_entities
    assert (entity["entity_name"], entity["entity_version"]) == (MODEL, "1")
    [create] = workspace.calls("POST", "^/api/2.0/serving-endpoints$")
    [served] = create.body["config"]["served_entities"]
    assert served["environment_vars"] == {
        "MOVIE_RAG_LLM_API_KEY": "{{secrets/movie_rag/MOVIE_RAG_LLM_API_KEY}}"
    }
    assert create.body["ai_gateway"]["inference_table_config"]["catalog_name"] == "main"
    assert workspace.secret_value("movie_rag", "MOVIE_RAG_LLM_API_KEY") == LLM_KEY
    # The key travelled once, in the put-secret call, and nowhere else.
    carrying = [r.path for r in workspace.requests if LLM_KEY in r.text]
    assert carrying == ["/api/2.0/secrets/put"]


def test_redeploying_the_same_version_writes_nothing_and_a_new_one_updates(
    workspace: ServingEmulator, publisher: ModelPublisher
) -> None:
    _deploy(publisher, secrets={})
    endpoint_writes = len(workspace.writes("/serving-endpoints"))
    _deploy(publisher, secrets={})
    assert len(workspace.writes("/serving-endpoints")) == endpoint_writes

    status = _deploy(publisher, "2", secrets={})
    assert [e["entity_version"] for e in status.served_entities] == ["2"]
    assert len(workspace.calls("PUT", "/config$")) == 1


def test_grant_read_is_least_privilege_on_movies_info(
    workspace: ServingEmulator, publisher: ModelPublisher
) -> None:
    publisher.grant_read("sp-1234", serving=publisher.databricks_serving(poll_interval=0.01))
    assert workspace.privileges("sp-1234") == {
        ("CATALOG", "main"): {"USE_CATALOG"},
        ("SCHEMA", "main.movie_rag"): {"USE_SCHEMA"},
        ("TABLE", "main.movie_rag.movies_info"): {"SELECT"},
    }


def test_teardown_removes_the_endpoint(
    workspace: ServingEmulator, publisher: ModelPublisher
) -> None:
    _deploy(publisher, secrets={})
    publisher.teardown_databricks(ENDPOINT, serving=publisher.databricks_serving())
    assert ENDPOINT not in workspace.endpoints


def test_unity_catalog_names_are_checked_before_deploying(
    workspace: ServingEmulator, publisher: ModelPublisher
) -> None:
    with pytest.raises(ConfigurationError, match="three parts"):
        publisher.deploy_databricks(
            ENDPOINT, name="movie_rag.v1", version="1", serving=publisher.databricks_serving()
        )
    assert workspace.requests == []


def test_serving_needs_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    publisher = ModelPublisher(
        publisher_settings(tmp_path, databricks_token=None), registry="databricks-uc"
    )
    with pytest.raises(ConfigurationError, match="MOVIE_RAG_DATABRICKS_HOST"):
        publisher.databricks_serving()
