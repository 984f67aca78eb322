"""DatabricksServing against the serving/secrets/grants emulator, through the real databricks-sdk.

Every test drives ``WorkspaceClient(host="http://127.0.0.1:PORT", token=...)`` as built by
DatabricksServing itself; the emulator validates each request as the REST API documents and
records it, so the assertions are about what went over the wire and what the workspace ended
up with.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

pytest.importorskip("databricks.sdk")

from emulators.serving import ServingEmulator
from movie_rag.errors import ConfigurationError, MovieRagError
from movie_rag.publish.databricks import (
    DatabricksServing,
    EndpointStatus,
    InferenceTableConfig,
    ServingConfigError,
    ServingError,
    ServingTimeoutError,
)

if TYPE_CHECKING:
    from databricks.sdk.service.serving import AiGatewayInferenceTableConfig, ServedEntityInput

MODEL = "main.movie_rag.movie_rag"
ENDPOINT = "movie-rag"
TABLE = "main.movie_rag.movies_info"
INFERENCE = InferenceTableConfig(catalog_name="main", schema_name="movie_rag")
# A service principal's token: what must only ever travel in the put-secret call.
SP_TOKEN = "dapi" + "5e" * 16


@pytest.fixture
def workspace() -> Iterator[ServingEmulator]:
    with ServingEmulator() as ws:
        ws.register_model(MODEL, "1", "2", "3")
        ws.register_table(TABLE)
        yield ws


def serving_for(ws: ServingEmulator, *, timeout: float = 20.0) -> DatabricksServing:
    return DatabricksServing(ws.url, SecretStr(ws.token), poll_interval=0.01, timeout=timeout)


@pytest.fixture
def serving(workspace: ServingEmulator) -> DatabricksServing:
    return serving_for(workspace)


def deployed(
    ws: ServingEmulator, serving: DatabricksServing, version: str = "1", **kwargs: Any
) -> tuple[EndpointStatus, int]:
    status = serving.deploy(ENDPOINT, MODEL, version, **kwargs)
    return status, len(ws.requests)


# -- create, wait, idempotency, updates --------------------------------------------------------


def test_deploy_creates_the_endpoint_and_waits_until_ready(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    status = serving.deploy(ENDPOINT, MODEL, "1")

    assert isinstance(status, EndpointStatus)
    assert (status.name, status.ready, status.state) == (ENDPOINT, True, "READY")
    assert status.config_update == "NOT_UPDATING"
    assert status.url == f"{workspace.url}/serving-endpoints/{ENDPOINT}/invocations"
    [entity] = status.served_entities
    assert entity["entity_name"] == MODEL
    assert entity["entity_version"] == "1"
    assert entity["workload_size"] == "Small"
    assert entity["scale_to_zero_enabled"] is True
    assert entity["deployment"] == "DEPLOYMENT_READY"
    assert "READY" in status.message and f"{MODEL} v1" in status.message
    assert "\n" not in status.message

    [create] = workspace.calls("POST", "^/api/2.0/serving-endpoints$")
    config = create.body["config"]
    [served] = config["served_entities"]
    assert served["entity_name"] == MODEL
    assert served["entity_version"] == "1"
    assert served["scale_to_zero_enabled"] is True
    assert config["traffic_config"] == {
        "routes": [{"served_entity_name": served["name"], "traffic_percentage": 100}]
    }
    # The endpoint went NOT_READY -> READY over several polls, and deploy waited for it.
    gets = workspace.calls("GET", f"/serving-endpoints/{ENDPOINT}$")
    assert len([g for g in gets if g.status == 200]) >= workspace.ready_after_polls


def test_an_identical_second_deploy_writes_nothing(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    _, before = deployed(workspace, serving, inference_table=INFERENCE)

    status = serving.deploy(ENDPOINT, MODEL, "1", inference_table=INFERENCE)

    new = workspace.requests[before:]
    assert [(r.method, r.path) for r in new] == [("GET", f"/api/2.0/serving-endpoints/{ENDPOINT}")]
    assert status.ready and status.config_update == "NOT_UPDATING"


def test_a_new_version_updates_the_config_once(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    _, before = deployed(workspace, serving)

    status = serving.deploy(ENDPOINT, MODEL, "2")

    writes = [r for r in workspace.requests[before:] if r.method != "GET"]
    assert [(r.method, r.path) for r in writes] == [
        ("PUT", f"/api/2.0/serving-endpoints/{ENDPOINT}/config")
    ]
    [served] = writes[0].body["served_entities"]
    assert (served["entity_name"], served["entity_version"]) == (MODEL, "2")
    assert writes[0].body["traffic_config"]["routes"] == [
        {"served_entity_name": served["name"], "traffic_percentage": 100}
    ]
    assert [e["entity_version"] for e in status.served_entities] == ["2"]
    assert workspace.active(ENDPOINT).version == 2


@pytest.mark.parametrize(
    "change",
    [
        {"workload_size": "Medium"},
        {"scale_to_zero": False},
        {"environment_vars": {"MOVIE_RAG_BACKEND": "databricks"}},
    ],
    ids=["workload-size", "scale-to-zero", "environment"],
)
def test_any_served_entity_change_is_an_update(
    workspace: ServingEmulator, serving: DatabricksServing, change: dict
) -> None:
    _, before = deployed(workspace, serving)

    serving.deploy(ENDPOINT, MODEL, "1", **change)
    again = len(workspace.requests)
    serving.deploy(ENDPOINT, MODEL, "1", **change)

    assert len(workspace.writes()[1:]) == 1
    assert workspace.calls("PUT", "/config$")[0] in workspace.requests[before:again]
    assert all(r.method == "GET" for r in workspace.requests[again:])


def test_an_update_already_in_progress_is_waited_for_not_fought(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    deployed(workspace, serving)
    workspace.update_after_polls = 3
    # Someone else starts an update to v2 just before this deploy of v3.
    serving._workspace.serving_endpoints.update_config(
        ENDPOINT,
        served_entities=[_sdk_entity("2")],
    )

    status = serving.deploy(ENDPOINT, MODEL, "3")

    assert [r.status for r in workspace.calls("PUT", "/config$")] == [200, 200]
    assert [e["entity_version"] for e in status.served_entities] == ["3"]


# -- inference tables ----------------------------------------------------------------------------


def test_inference_table_is_created_through_the_ai_gateway(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    serving.deploy(ENDPOINT, MODEL, "1", inference_table=INFERENCE)

    [create] = workspace.calls("POST", "^/api/2.0/serving-endpoints$")
    assert create.body["ai_gateway"] == {
        "inference_table_config": {
            "catalog_name": "main",
            "schema_name": "movie_rag",
            "table_name_prefix": "movie_rag",
            "enabled": True,
        }
    }
    assert "auto_capture_config" not in create.body["config"]
    table = workspace.endpoints[ENDPOINT].ai_gateway["inference_table_config"]
    assert table["enabled"] is True


def test_inference_table_added_later_is_a_gateway_put_not_a_redeploy(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    _, before = deployed(workspace, serving)

    serving.deploy(ENDPOINT, MODEL, "1", inference_table=INFERENCE)

    writes = [r for r in workspace.requests[before:] if r.method != "GET"]
    assert [(r.method, r.path) for r in writes] == [
        ("PUT", f"/api/2.0/serving-endpoints/{ENDPOINT}/ai-gateway")
    ]
    assert writes[0].body["inference_table_config"]["enabled"] is True
    assert workspace.active(ENDPOINT).version == 1


def test_moving_the_inference_table_disables_it_first_and_keeps_other_gateway_settings(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    deployed(workspace, serving, inference_table=INFERENCE)
    workspace.endpoints[ENDPOINT].ai_gateway["usage_tracking_config"] = {"enabled": True}
    moved = INFERENCE.model_copy(update={"table_name_prefix": "movie_rag_v2"})

    serving.deploy(ENDPOINT, MODEL, "1", inference_table=moved)

    puts = workspace.calls("PUT", "/ai-gateway$")
    assert [p.body["inference_table_config"]["enabled"] for p in puts] == [False, True]
    assert puts[0].body["inference_table_config"]["table_name_prefix"] == "movie_rag"
    assert puts[1].body["inference_table_config"]["table_name_prefix"] == "movie_rag_v2"
    assert all(p.body["usage_tracking_config"] == {"enabled": True} for p in puts)
    assert all(p.status == 200 for p in puts)


def test_inference_table_can_be_switched_off(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    deployed(workspace, serving, inference_table=INFERENCE)
    off = INFERENCE.model_copy(update={"enabled": False})

    serving.deploy(ENDPOINT, MODEL, "1", inference_table=off)

    table = workspace.endpoints[ENDPOINT].ai_gateway["inference_table_config"]
    assert table["enabled"] is False


def test_without_ai_gateway_an_inference_table_is_a_clear_error_and_never_legacy() -> None:
    with ServingEmulator(ai_gateway_available=False) as ws:
        ws.register_model(MODEL, "1")
        serving = serving_for(ws)
        with pytest.raises(ServingError, match="AI Gateway is not available") as caught:
            serving.deploy(ENDPOINT, MODEL, "1", inference_table=INFERENCE)
        assert caught.value.error_code == "FEATURE_DISABLED"
        assert "legacy inference tables" in str(caught.value)
        # An existing endpoint: the gateway PUT fails the same way, no config update follows.
        serving.deploy(ENDPOINT, MODEL, "1")
        with pytest.raises(ServingError, match="AI Gateway is not available"):
            serving.deploy(ENDPOINT, MODEL, "1", inference_table=INFERENCE)
        assert not [r for r in ws.requests if "auto_capture_config" in r.raw]


def test_asking_for_legacy_inference_tables_is_refused_before_any_request(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    with pytest.raises(ServingConfigError, match=r"legacy inference tables.*AI Gateway"):
        serving.deploy(ENDPOINT, MODEL, "1", auto_capture_config={"catalog_name": "main"})
    assert workspace.requests == []


# -- secrets and environment variables ---------------------------------------------------------


def test_secret_scope_references_keep_the_token_out_of_everything_but_put_secret(
    workspace: ServingEmulator, serving: DatabricksServing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_key = "sk-" + "x1Y2" * 8

    env = serving.ensure_secret_scope(
        "movie_rag", {"DATABRICKS_TOKEN": SecretStr(SP_TOKEN), "LLM_API_KEY": SecretStr(llm_key)}
    )
    status = serving.deploy(
        ENDPOINT, MODEL, "1", environment_vars={**env, "MOVIE_RAG_BACKEND": "databricks"}
    )

    assert env == {
        "DATABRICKS_TOKEN": "{{secrets/movie_rag/DATABRICKS_TOKEN}}",
        "LLM_API_KEY": "{{secrets/movie_rag/LLM_API_KEY}}",
    }
    assert workspace.secret_value("movie_rag", "DATABRICKS_TOKEN") == SP_TOKEN
    assert workspace.secret_value("movie_rag", "LLM_API_KEY") == llm_key
    served = workspace.active(ENDPOINT).served_entities[0]
    assert served["environment_vars"] == {**env, "MOVIE_RAG_BACKEND": "databricks"}
    for secret in (SP_TOKEN, llm_key):
        carriers = [r for r in workspace.requests if secret in r.text]
        assert [(r.method, r.path) for r in carriers] == [("POST", "/api/2.0/secrets/put")]
        assert secret not in caplog.text
        assert secret not in repr(status) and secret not in repr(serving)
    assert status.served_entities[0]["environment_vars"] == sorted(
        ["DATABRICKS_TOKEN", "LLM_API_KEY", "MOVIE_RAG_BACKEND"]
    )


def test_ensure_secret_scope_creates_the_scope_once(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    serving.ensure_secret_scope("movie_rag", {"DATABRICKS_TOKEN": SecretStr(SP_TOKEN)})
    serving.ensure_secret_scope("Movie_RAG", {"DATABRICKS_TOKEN": SecretStr(SP_TOKEN + "0")})

    # Scope names are case-insensitive: the second call found the scope and only wrote.
    assert len(workspace.calls("POST", "/scopes/create$")) == 1
    assert [r.status for r in workspace.calls("POST", "/secrets/put$")] == [200, 200]
    assert workspace.secret_value("movie_rag", "DATABRICKS_TOKEN") == SP_TOKEN + "0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SOME_SETTING", SP_TOKEN),
        ("OPENAI_BASE", "sk-proj-" + "Ab3" * 10),
        ("DATABRICKS_TOKEN", "not-even-random"),
        ("LLM_API_KEY", "hunter2"),
        ("AWS_ID", "AKIA" + "ABCDEFGHIJKLMNOP"),
        ("BLOB", "q8Zr2LmX9vTq4WnB7yKp3JhD6sFa1GcE5uRt"),
        ("DB_PASSWORD", "{{secrets/movie_rag}}"),
    ],
)
def test_credentials_in_plain_environment_variables_are_refused(
    workspace: ServingEmulator, serving: DatabricksServing, name: str, value: str
) -> None:
    with pytest.raises(ServingConfigError) as caught:
        serving.deploy(ENDPOINT, MODEL, "1", environment_vars={name: value})

    assert isinstance(caught.value, ConfigurationError)
    assert name in str(caught.value)
    assert value not in str(caught.value)
    assert workspace.calls(None, "serving-endpoints") == []


def test_plain_non_secret_environment_variables_are_served(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    env = {
        "MOVIE_RAG_BACKEND": "databricks",
        "MAX_TOKENS": "512",
        "HF_HUB_OFFLINE": "1",
        "MODEL_URI": "models:/main.movie_rag.movie_rag@champion",
        "INDEX_PATH": "/Volumes/main/movie_rag/index/v2024_06_01/vectors",
    }

    serving.deploy(ENDPOINT, MODEL, "1", environment_vars=env)

    assert workspace.active(ENDPOINT).served_entities[0]["environment_vars"] == env


def test_a_reference_to_a_missing_secret_fails_the_deployment(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    with pytest.raises(ServingError) as caught:
        serving.deploy(
            ENDPOINT, MODEL, "1", environment_vars={"LLM_TOKEN": "{{secrets/nowhere/LLM_TOKEN}}"}
        )

    assert "UPDATE_FAILED" in str(caught.value)
    assert "{{secrets/nowhere/LLM_TOKEN}}" in str(caught.value)


def test_secrets_must_be_secretstr_and_keys_env_names(serving: DatabricksServing) -> None:
    with pytest.raises(ServingConfigError, match="SecretStr"):
        serving.ensure_secret_scope("movie_rag", {"TOKEN": SP_TOKEN})  # type: ignore[dict-item]
    with pytest.raises(ServingConfigError, match="secret key"):
        serving.ensure_secret_scope("movie_rag", {"my-token": SecretStr(SP_TOKEN)})
    with pytest.raises(ServingConfigError, match="secret scope"):
        serving.ensure_secret_scope("movie rag", {"TOKEN": SecretStr(SP_TOKEN)})


# -- grants ----------------------------------------------------------------------------------------


def test_grant_read_grants_exactly_use_catalog_use_schema_select(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    principal = "6f1c2a34-sp-movie-rag"
    workspace.register_table("main.movie_rag.ratings")

    serving.grant_read(principal, "main", "movie_rag", ["movies_info", "main.movie_rag.ratings"])

    assert workspace.privileges(principal) == {
        ("CATALOG", "main"): {"USE_CATALOG"},
        ("SCHEMA", "main.movie_rag"): {"USE_SCHEMA"},
        ("TABLE", "main.movie_rag.movies_info"): {"SELECT"},
        ("TABLE", "main.movie_rag.ratings"): {"SELECT"},
    }
    patches = workspace.calls("PATCH")
    assert all(
        p.body["changes"] == [{"principal": principal, "add": [p.body["changes"][0]["add"][0]]}]
        for p in patches
    )
    before = len(workspace.requests)
    serving.grant_read(principal, "main", "movie_rag", ["movies_info"])
    assert all(r.method == "GET" for r in workspace.requests[before:])


def test_grant_read_leaves_broader_privileges_alone_and_warns(
    workspace: ServingEmulator, serving: DatabricksServing, caplog: pytest.LogCaptureFixture
) -> None:
    workspace.grants[("SCHEMA", "main.movie_rag")] = {"sp": {"USE_SCHEMA", "MODIFY"}}

    with caplog.at_level(logging.WARNING, logger="movie_rag"):
        serving.grant_read("sp", "main", "movie_rag", ["movies_info"])

    assert workspace.privileges("sp")[("SCHEMA", "main.movie_rag")] == {"USE_SCHEMA", "MODIFY"}
    assert "MODIFY" in caplog.text
    assert not any(p.body["changes"][0].get("remove") for p in workspace.calls("PATCH"))


def test_grant_read_errors_name_the_problem(workspace: ServingEmulator) -> None:
    with ServingEmulator(principals={"sp"}) as ws:
        ws.register_table(TABLE)
        strict = serving_for(ws)
        with pytest.raises(ServingError, match="Could not find principal with name ghost"):
            strict.grant_read("ghost", "main", "movie_rag", ["movies_info"])
        with pytest.raises(ServingError, match="does not exist"):
            strict.grant_read("sp", "main", "movie_rag", ["no_such_table"])
        with pytest.raises(ServingConfigError, match=r"not a table of main\.movie_rag"):
            strict.grant_read("sp", "main", "movie_rag", ["other.schema.movies_info"])
        with pytest.raises(ServingConfigError):
            strict.grant_read("sp", "main", "movie_rag", [])


# -- failures, timeouts, retries ------------------------------------------------------------------


def test_update_failed_is_a_serving_error_naming_endpoint_and_reason(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    deployed(workspace, serving)
    reason = "Container build failed: could not resolve mlflow==99.0"
    workspace.fail_deployment(MODEL, "2", reason)

    with pytest.raises(ServingError) as caught:
        serving.deploy(ENDPOINT, MODEL, "2")

    error = caught.value
    assert isinstance(error, MovieRagError) and not isinstance(error, ServingTimeoutError)
    assert (error.endpoint, error.error_code) == (ENDPOINT, "UPDATE_FAILED")
    assert ENDPOINT in str(error) and reason in str(error) and "build-logs" in str(error)
    # The old version keeps serving, and status() says what went wrong.
    status = serving.status(ENDPOINT)
    assert status.ready and status.config_update == "UPDATE_FAILED"
    assert reason in status.message and f"{MODEL} v1" in status.message


def test_after_a_failed_update_redeploying_what_is_served_is_a_no_op(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    deployed(workspace, serving)
    workspace.fail_deployment(MODEL, "2", "boom")
    with pytest.raises(ServingError):
        serving.deploy(ENDPOINT, MODEL, "2")
    before = len(workspace.requests)

    status = serving.deploy(ENDPOINT, MODEL, "1")

    assert all(r.method == "GET" for r in workspace.requests[before:])
    assert status.ready and status.config_update == "UPDATE_FAILED"
    assert [(e["entity_version"], e["pending"]) for e in status.served_entities] == [
        ("1", False),
        ("2", True),
    ]


def test_a_failed_first_deployment_leaves_a_not_ready_endpoint(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    workspace.fail_deployment(MODEL, "1", "Model signature could not be loaded")

    with pytest.raises(ServingError, match="Model signature could not be loaded"):
        serving.deploy(ENDPOINT, MODEL, "1")

    status = serving.status(ENDPOINT)
    assert (status.ready, status.state, status.url) == (False, "NOT_READY", None)


def test_timeout_is_a_clear_error_with_the_last_status() -> None:
    with ServingEmulator(ready_after_polls=10**6) as ws:
        ws.register_model(MODEL, "1")
        serving = serving_for(ws, timeout=0.5)
        started = time.monotonic()

        with pytest.raises(ServingTimeoutError) as caught:
            serving.deploy(ENDPOINT, MODEL, "1")

    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert ENDPOINT in message and "0.5s" in message
    assert "NOT_READY" in message and "IN_PROGRESS" in message


def test_429_answers_are_retried(workspace: ServingEmulator, serving: DatabricksServing) -> None:
    workspace.inject(
        "^/api/2.0/serving-endpoints$", status=429, method="POST", times=2, retry_after="0"
    )

    status = serving.deploy(ENDPOINT, MODEL, "1")

    assert status.ready
    assert [r.status for r in workspace.calls("POST")] == [429, 429, 200]
    assert list(workspace.endpoints) == [ENDPOINT]


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_5xx_answers_are_retried_with_backoff(
    workspace: ServingEmulator, serving: DatabricksServing, code: int
) -> None:
    deployed(workspace, serving)
    workspace.inject("/config$", status=code, method="PUT", times=2, retry_after="0")
    workspace.inject(f"/{ENDPOINT}$", status=code, method="GET", times=1, retry_after="0")

    status = serving.deploy(ENDPOINT, MODEL, "2")

    assert [r.status for r in workspace.calls("PUT", "/config$")] == [code, code, 200]
    assert status.served_entities[0]["entity_version"] == "2"


def test_a_lost_create_answer_does_not_create_twice(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    workspace.inject("^/api/2.0/serving-endpoints$", status=500, method="POST", after=True)

    status = serving.deploy(ENDPOINT, MODEL, "1")

    assert [r.status for r in workspace.calls("POST")] == [500, 409]
    assert list(workspace.endpoints) == [ENDPOINT] and status.ready


@pytest.mark.parametrize("code", [500, 503])
def test_errors_that_never_clear_end_in_a_timeout_error(
    workspace: ServingEmulator, code: int
) -> None:
    # 500s are retried here, 503s inside databricks-sdk: both give up within the timeout.
    workspace.inject(f"/{ENDPOINT}$", status=code, method="GET", times=1000, retry_after="0")

    with pytest.raises(ServingTimeoutError, match="kept failing"):
        serving_for(workspace, timeout=2).deploy(ENDPOINT, MODEL, "1")

    assert workspace.calls("POST") == []


def test_rejected_configs_are_serving_errors_with_databricks_reason(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    with pytest.raises(ServingError) as caught:
        serving.deploy(ENDPOINT, MODEL, "1", workload_size="Huge")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert ENDPOINT in str(caught.value) and "Huge" in str(caught.value)

    with pytest.raises(ServingError, match="does not exist"):
        serving.deploy(ENDPOINT, MODEL, "9")


# -- status, teardown, validation ------------------------------------------------------------------


def test_teardown_deletes_and_a_missing_endpoint_is_fine(
    workspace: ServingEmulator, serving: DatabricksServing, caplog: pytest.LogCaptureFixture
) -> None:
    deployed(workspace, serving)

    serving.teardown(ENDPOINT)
    with caplog.at_level(logging.INFO, logger="movie_rag"):
        serving.teardown(ENDPOINT)

    assert workspace.endpoints == {}
    assert [r.status for r in workspace.calls("DELETE")] == [200, 404]
    assert "does not exist" in caplog.text
    with pytest.raises(ServingError, match="does not exist"):
        serving.status(ENDPOINT)


def test_status_while_updating_says_what_is_happening(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    deployed(workspace, serving)
    workspace.update_after_polls = 10
    serving._workspace.serving_endpoints.update_config(ENDPOINT, served_entities=[_sdk_entity("2")])

    status = serving.status(ENDPOINT)

    assert status.ready and status.config_update == "IN_PROGRESS"
    assert [(e["entity_version"], e["pending"]) for e in status.served_entities] == [
        ("1", False),
        ("2", True),
    ]
    assert "IN_PROGRESS" in status.message and f"{MODEL} v2" in status.message


@pytest.mark.parametrize(
    ("endpoint", "model", "version"),
    [
        ("databricks-movie-rag", MODEL, "1"),
        ("x" * 64, MODEL, "1"),
        ("movie rag", MODEL, "1"),
        (ENDPOINT, "movie_rag", "1"),
        (ENDPOINT, "main.movie_rag", "1"),
        (ENDPOINT, "main.movie_rag.movie_rag.extra", "1"),
        (ENDPOINT, MODEL, "latest"),
        (ENDPOINT, MODEL, "0"),
    ],
)
def test_invalid_names_are_refused_before_any_request(
    workspace: ServingEmulator, serving: DatabricksServing, endpoint: str, model: str, version: str
) -> None:
    with pytest.raises(ServingConfigError):
        serving.deploy(endpoint, model, version)

    assert workspace.calls(None, "serving-endpoints") == []


def test_the_token_must_be_a_secretstr_and_never_shows(workspace: ServingEmulator) -> None:
    with pytest.raises(ServingConfigError, match="SecretStr"):
        DatabricksServing(workspace.url, workspace.token)  # type: ignore[arg-type]
    with pytest.raises(ServingConfigError, match="host"):
        DatabricksServing("ftp://adb-123.azuredatabricks.net", SecretStr(workspace.token))
    bare = DatabricksServing("adb-123.azuredatabricks.net/", SecretStr(workspace.token))
    assert bare.host == "https://adb-123.azuredatabricks.net"

    serving = serving_for(workspace)
    assert workspace.token not in repr(serving)


def test_inference_table_config_validates_names() -> None:
    with pytest.raises(ValueError, match="Unity Catalog name"):
        InferenceTableConfig(catalog_name="main", schema_name="movie rag")
    assert INFERENCE.table_name_prefix == "movie_rag" and INFERENCE.enabled


# -- the emulator rejects what the real API rejects -------------------------------------------


def test_emulator_rejects_what_the_serving_api_rejects(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    from databricks.sdk.errors import (
        InvalidParameterValue,
        ResourceAlreadyExists,
        ResourceConflict,
        ResourceDoesNotExist,
    )
    from databricks.sdk.service.serving import (
        AiGatewayInferenceTableConfig,
        EndpointCoreConfigInput,
    )

    api = serving._workspace.serving_endpoints
    config = EndpointCoreConfigInput(name=ENDPOINT, served_entities=[_sdk_entity("1")])
    api.create(ENDPOINT, config=config)
    with pytest.raises(ResourceAlreadyExists):
        api.create(ENDPOINT, config=config)
    with pytest.raises(ResourceConflict):
        api.update_config(ENDPOINT, served_entities=[_sdk_entity("2")])
    with pytest.raises(InvalidParameterValue, match="at least one served entity"):
        api.create("other", config=EndpointCoreConfigInput(name="other"))
    with pytest.raises(InvalidParameterValue, match="workload_size"):
        api.create(
            "other",
            config=EndpointCoreConfigInput(name="other", served_entities=[_sdk_entity("1", "XL")]),
        )
    with pytest.raises(InvalidParameterValue, match="reserved"):
        api.create("databricks-x", config=config)
    with pytest.raises(ResourceDoesNotExist):
        api.get("nope")
    api.put_ai_gateway(ENDPOINT, inference_table_config=_gateway_table("a"))
    with pytest.raises(InvalidParameterValue, match="disable"):
        api.put_ai_gateway(ENDPOINT, inference_table_config=_gateway_table("b"))
    with pytest.raises(InvalidParameterValue, match="required"):
        api.put_ai_gateway(
            ENDPOINT, inference_table_config=AiGatewayInferenceTableConfig(enabled=True)
        )


def test_emulator_rejects_what_the_secrets_and_grants_apis_reject(
    workspace: ServingEmulator, serving: DatabricksServing
) -> None:
    from databricks.sdk.errors import (
        BadRequest,
        InvalidParameterValue,
        ResourceAlreadyExists,
        ResourceDoesNotExist,
    )
    from databricks.sdk.service.catalog import PermissionsChange, Privilege

    w = serving._workspace
    w.secrets.create_scope("movie_rag")
    with pytest.raises(ResourceAlreadyExists):
        w.secrets.create_scope("MOVIE_RAG")
    with pytest.raises(InvalidParameterValue):
        w.secrets.create_scope("movie rag")
    with pytest.raises(ResourceDoesNotExist):
        w.secrets.put_secret("nope", "K", string_value="v")
    with pytest.raises(BadRequest):
        w.secrets.put_secret("movie_rag", "K", string_value="v", bytes_value="dg==")
    with pytest.raises(InvalidParameterValue, match="not applicable"):
        w.grants.update(
            "TABLE",
            TABLE,
            changes=[PermissionsChange(principal="sp", add=[Privilege.USE_CATALOG])],
        )
    with pytest.raises(ResourceDoesNotExist, match="Catalog 'hive' does not exist"):
        w.grants.get("catalog", "hive")


# -- a real workspace --------------------------------------------------------------------------


@pytest.mark.databricks_live
@pytest.mark.skipif(
    not os.environ.get("DATABRICKS_HOST") or not os.environ.get("DATABRICKS_TOKEN"),
    reason="needs DATABRICKS_HOST and DATABRICKS_TOKEN of a real workspace",
)
def test_live_workspace() -> None:
    serving = DatabricksServing(
        os.environ["DATABRICKS_HOST"],
        SecretStr(os.environ["DATABRICKS_TOKEN"]),
        poll_interval=15,
        timeout=1800,
    )
    missing = f"movie-rag-absent-{uuid.uuid4().hex[:8]}"
    serving.teardown(missing)
    with pytest.raises(ServingError, match="does not exist"):
        serving.status(missing)

    # Deploying costs serving compute: only with a model named for the purpose.
    model = os.environ.get("MOVIE_RAG_LIVE_MODEL")
    version = os.environ.get("MOVIE_RAG_LIVE_MODEL_VERSION")
    if not model or not version:
        return
    endpoint = f"movie-rag-test-{uuid.uuid4().hex[:8]}"
    try:
        status = serving.deploy(endpoint, model, version, scale_to_zero=True)
        assert status.ready and status.url
        before = serving.status(endpoint)
        assert serving.deploy(endpoint, model, version).served_entities == before.served_entities
    finally:
        serving.teardown(endpoint)


# -- helpers ---------------------------------------------------------------------------------------


def _sdk_entity(version: str, size: str = "Small") -> ServedEntityInput:
    from databricks.sdk.service.serving import ServedEntityInput

    return ServedEntityInput(
        name=f"movie_rag-{version}",
        entity_name=MODEL,
        entity_version=version,
        workload_size=size,
        scale_to_zero_enabled=True,
    )


def _gateway_table(prefix: str) -> AiGatewayInferenceTableConfig:
    from databricks.sdk.service.serving import AiGatewayInferenceTableConfig

    return AiGatewayInferenceTableConfig(
        catalog_name="main", schema_name="movie_rag", table_name_prefix=prefix, enabled=True
    )
