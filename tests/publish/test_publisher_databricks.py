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
INDEX = "main.movie_rag.movies_info_index"


@pytest.fixture
def workspace() -> Iterator[ServingEmulator]:
    with ServingEmulator() as ws:
        ws.register_model(MODEL, "1", "2")
        ws.register_table("main.movie_rag.movies_info")
        ws.register_table(INDEX)
        ws.register_table("main.movie_rag.collab", "VOLUME")
        yield ws


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One local tracking store for the module (creating one costs seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('tracking') / 'mlflow.db'}"


@pytest.fixture
def publisher(workspace: ServingEmulator, tmp_path: Path, tracking_uri: str) -> ModelPublisher:
    settings = publisher_settings(
        tmp_path,
        backend="databricks",
        catalog="main",
        silver_schema="movie_rag",
        databricks_host=workspace.url,
        databricks_token=SecretStr(workspace.token),
    )
    # Unity Catalog registration needs a real workspace; the experiment lives in a local store.
    return ModelPublisher(settings, registry="databricks-uc", tracking_uri=tracking_uri)


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
    experiment = publisher.client().get_experiment_by_name(publisher.experiment)
    assert served["environment_vars"] == {
        "MOVIE_RAG_LLM_API_KEY": "{{secrets/movie_rag/MOVIE_RAG_LLM_API_KEY}}",
        # Traces of the served model go to the publishing experiment.
        "ENABLE_MLFLOW_TRACING": "true",
        "MLFLOW_EXPERIMENT_ID": experiment.experiment_id,
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
    # Only the SDK's unauthenticated host-metadata probe went out.
    assert [r.path for r in workspace.requests] == ["/.well-known/databricks-config"]


def test_serving_needs_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    publisher = ModelPublisher(
        publisher_settings(tmp_path, databricks_token=None), registry="databricks-uc"
    )
    with pytest.raises(ConfigurationError, match="MOVIE_RAG_DATABRICKS_HOST"):
        publisher.databricks_serving()


SP = "6f1c2a7e-93b4-4d21-8e0a-3c5b7d9f1a2b"


def test_deploy_grants_the_endpoint_identity_exactly_what_the_model_uses(
    workspace: ServingEmulator, publisher: ModelPublisher
) -> None:
    workspace.add_endpoint("movie-llm")  # a custom (non-foundation) LLM endpoint
    publisher.settings = publisher.settings.model_copy(
        update={"llm_provider": "databricks", "llm_endpoint": "movie-llm"}
    )
    _deploy(publisher, secrets={}, grant_to=SP)

    assert workspace.privileges(SP) == {
        ("CATALOG", "main"): {"USE_CATALOG"},
        ("SCHEMA", "main.movie_rag"): {"USE_SCHEMA"},
        ("TABLE", INDEX): {"SELECT"},
        ("VOLUME", "main.movie_rag.collab"): {"READ_VOLUME"},
    }
    assert workspace.endpoint_permissions("movie-llm") == {SP: {"CAN_QUERY"}}
    # The foundation embedding endpoint takes no grant; nothing reaches movies_info.
    permission_calls = workspace.calls("PATCH", "^/api/2.0/permissions/")
    assert len(permission_calls) == 1
    # A second deploy finds every grant in place and writes none.
    before = len(workspace.writes("permissions"))
    _deploy(publisher, secrets={}, grant_to=SP)
    assert len(workspace.writes("permissions")) == before


def test_the_access_declaration_is_also_the_logged_resources(publisher: ModelPublisher) -> None:
    access = publisher.access()
    assert access is not None
    assert [r.name for r in publisher.resources()] == [access.index, *access.endpoints]
    assert {g.full_name for g in access.grants()} >= {access.index}


def test_a_missing_llm_endpoint_stops_the_publish_before_anything_is_logged(
    workspace: ServingEmulator, tmp_path: Path, tracking_uri: str
) -> None:
    from movie_rag.publish import ServingConfigError

    settings = publisher_settings(
        tmp_path,
        backend="databricks",
        catalog="main",
        silver_schema="movie_rag",
        llm_provider="databricks",
        llm_endpoint="databricks-meta-llama-3-70b-instruct",  # retired
        databricks_host=workspace.url,
        databricks_token=SecretStr(workspace.token),
    )
    publisher = ModelPublisher(settings, tracking_uri=tracking_uri)
    with pytest.raises(ServingConfigError, match="'databricks-meta-llama-3-70b-instruct'"):
        publisher.log(serving=publisher.databricks_serving())
    runs = publisher.client().search_runs(
        [e.experiment_id for e in publisher.client().search_experiments()]
    )
    assert not [r for r in runs if r.data.tags.get("flavour") == "databricks"]
    assert not (tmp_path / "mlflow").exists()


def test_oauth_m2m_service_principal_deploys_with_its_own_identity(
    workspace: ServingEmulator, tmp_path: Path, tracking_uri: str
) -> None:
    """A service principal's client id and secret: the SDK exchanges them for a bearer."""
    workspace.add_service_principal(SP, "sp-oauth-secret-value")
    settings = publisher_settings(
        tmp_path,
        backend="databricks",
        catalog="main",
        silver_schema="movie_rag",
        databricks_token=None,
        databricks_host=workspace.url,
        databricks_client_id=SP,
        databricks_client_secret=SecretStr("sp-oauth-secret-value"),
    )
    publisher = ModelPublisher(settings, registry="databricks-uc", tracking_uri=tracking_uri)
    status = _deploy(publisher, secrets={})
    assert status.ready
    [token_call] = workspace.calls("POST", "^/oidc/v1/token$")
    assert token_call.status == 200 and "client_credentials" in token_call.raw
    authorised = [r for r in workspace.requests if r.principal is not None]
    assert authorised and {(r.principal, r.credential) for r in authorised} == {(SP, "oauth-m2m")}
    # The deploying identity (the service principal) got what the model uses.
    assert ("TABLE", INDEX) in workspace.privileges(SP)


def test_a_wrong_client_secret_is_one_clear_error(
    workspace: ServingEmulator, tmp_path: Path
) -> None:
    workspace.add_service_principal(SP, "right")
    settings = publisher_settings(
        tmp_path,
        backend="databricks",
        databricks_token=None,
        databricks_host=workspace.url,
        databricks_client_id=SP,
        databricks_client_secret=SecretStr("wrong"),
    )
    with pytest.raises(ConfigurationError, match="invalid_client") as caught:
        ModelPublisher(settings, registry="databricks-uc").databricks_serving()
    assert "\n" not in str(caught.value) and "wrong" not in str(caught.value)
