"""Databricks Model Serving for the registered chain, with its secrets and grants.

:class:`DatabricksServing` puts a Unity Catalog model version behind a serving endpoint and
keeps it there idempotently: it creates the endpoint when it is missing, updates its config
only when what it serves differs from what was asked, enables inference tables through the
AI Gateway (falling back to the legacy ``auto_capture_config`` on workspaces without the
gateway), and waits until the endpoint is READY with no update in progress. Around it: a
secret scope for the service principal's credentials, whose ``{{secrets/<scope>/<key>}}``
references become the endpoint's environment variables (a secret value never travels in an
endpoint config), and least-privilege Unity Catalog grants (USE CATALOG, USE SCHEMA, SELECT)
so the endpoint's identity can read the tables the chain needs.

Every call goes through databricks-sdk, imported on first use. 429 and 503 answers are
retried by the SDK as the platform asks (``Retry-After``); other transient answers (500,
502, 504, dropped connections) are retried here with exponential backoff, all within the
instance's ``timeout``.

Instantiate:
    .. code-block:: python

        from pydantic import SecretStr
        from movie_rag.publish.databricks import DatabricksServing, InferenceTableConfig

        serving = DatabricksServing(
            "https://adb-1234567890.12.azuredatabricks.net", SecretStr(token)
        )

Secrets and grants:
    .. code-block:: python

        env = serving.ensure_secret_scope("movie_rag", {"DATABRICKS_TOKEN": SecretStr(sp_token)})
        serving.grant_read(sp_application_id, "main", "movie_rag", ["movies_info"])

Deploy:
    .. code-block:: python

        status = serving.deploy(
            "movie-rag",
            "main.movie_rag.movie_rag",
            "3",
            environment_vars={**env, "MOVIE_RAG_BACKEND": "databricks"},
            inference_table=InferenceTableConfig(catalog_name="main", schema_name="movie_rag"),
        )
        print(status.message)  # movie-rag: READY; serving main.movie_rag.movie_rag v3 ...

Tear down:
    .. code-block:: python

        serving.teardown("movie-rag")
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from movie_rag.errors import ConfigurationError, MovieRagError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.serving import (
        AutoCaptureConfigInput,
        ServedEntityInput,
        ServedEntityOutput,
        ServingEndpointDetailed,
        TrafficConfig,
    )

__all__ = [
    "DatabricksServing",
    "EndpointStatus",
    "InferenceTableConfig",
    "ServingConfigError",
    "ServingError",
    "ServingTimeoutError",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Serving endpoint names: 1..63 alphanumerics, dashes and underscores; "databricks-" is
# reserved for the workspace's preconfigured endpoints.
_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_RESERVED_PREFIX = "databricks-"
# One part of a Unity Catalog name, restricted to what needs no quoting in a REST path.
_UC_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$")
_VERSION = re.compile(r"^[1-9][0-9]*$")
_WORKLOAD_SIZE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Secret scope names allow '@' and '.', keys do not allow '@'; both at most 128 characters.
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
# Secret keys double as environment variable names, so they follow the stricter rule.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SECRET_REFERENCE = re.compile(r"^\{\{secrets/[A-Za-z0-9_.@-]{1,128}/[A-Za-z0-9_.-]{1,128}\}\}$")
_MAX_SECRET_BYTES = 128 * 1024

_TOKEN_PATTERNS = (
    re.compile(r"dapi[0-9a-f]{32}"),  # Databricks personal access token
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style API key
    re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub token
    re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}"),  # Hugging Face token
    re.compile(r"(?<![A-Za-z0-9])xox[abpr]-[A-Za-z0-9-]{10,}"),  # Slack token
    re.compile(r"(?<![A-Za-z0-9])AKIA[0-9A-Z]{16}(?![A-Za-z0-9])"),  # AWS access key id
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."),  # JSON web token
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
_SECRET_NAME_PARTS = frozenset(
    {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "CREDENTIAL", "CREDENTIALS", "APIKEY", "PAT"}
)
_SECRET_NAME_PAIRS = frozenset(
    {("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("SECRET", "KEY"), ("AUTH", "KEY")}
)
# Long runs of token alphabet; '/' and '.' are left out so paths and model URIs never match.
_RANDOM_RUN = re.compile(r"[A-Za-z0-9+=_-]{32,}")

_MAX_ATTEMPTS = 6
_MAX_BACKOFF = 30.0
_MAX_ROUNDS = 4
_FAILED_UPDATES = frozenset({"UPDATE_FAILED", "UPDATE_CANCELED"})
_TRANSIENT_CODES = frozenset(
    {
        "BAD_GATEWAY",
        "DEADLINE_EXCEEDED",
        "INTERNAL_ERROR",
        "REQUEST_LIMIT_EXCEEDED",
        "TEMPORARILY_UNAVAILABLE",
    }
)
_SDK_RETRY_BUDGET = 300


# -- errors ----------------------------------------------------------------------------------


class ServingError(MovieRagError):
    """Databricks refused or failed a serving, secrets or grants request.

    Attributes:
        endpoint: The serving endpoint concerned, when there is one.
        error_code: The Databricks ``error_code`` behind the failure, when there was one.
    """

    def __init__(
        self, message: str, *, endpoint: str | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.error_code = error_code


class ServingTimeoutError(ServingError):
    """The endpoint did not become READY (or Databricks kept failing) within the timeout."""


class ServingConfigError(ServingError, ConfigurationError):
    """An argument cannot make a valid endpoint config, secret or grant."""


# -- values ----------------------------------------------------------------------------------


class InferenceTableConfig(BaseModel):
    """Where an endpoint logs its requests and responses (Unity Catalog Delta tables).

    Attributes:
        catalog_name: Catalog of the inference tables.
        schema_name: Schema of the inference tables.
        table_name_prefix: Prefix of the table names (``<prefix>_payload``, ...).
        enabled: False switches logging off; Databricks requires that before the tables
            may move to another catalog, schema or prefix.
    """

    model_config = ConfigDict(frozen=True)

    catalog_name: str
    schema_name: str
    table_name_prefix: str = "movie_rag"
    enabled: bool = True

    @field_validator("catalog_name", "schema_name", "table_name_prefix")
    @classmethod
    def _unity_catalog_part(cls, value: str) -> str:
        if not _UC_PART.match(value):
            raise ValueError(
                f"{value!r} is not a Unity Catalog name (letters, digits, '_' and '-')"
            )
        return value

    def same_place(self, catalog: str | None, schema: str | None, prefix: str | None) -> bool:
        """Whether the tables live at this catalog, schema and prefix."""
        return (catalog, schema, prefix or "") == (
            self.catalog_name,
            self.schema_name,
            self.table_name_prefix,
        )


class EndpointStatus(BaseModel):
    """What a serving endpoint is doing, as Databricks reports it.

    Attributes:
        name: The endpoint.
        ready: Whether it answers queries (state READY).
        state: READY or NOT_READY.
        config_update: NOT_UPDATING, IN_PROGRESS, UPDATE_FAILED or UPDATE_CANCELED.
        served_entities: One dict per served entity, active ones first, then those of an
            update in progress (``pending`` True): ``name``, ``entity_name``,
            ``entity_version``, ``workload_size``, ``scale_to_zero_enabled``,
            ``deployment``, ``deployment_message``, ``environment_vars`` (names only).
        url: The invocation URL once the endpoint is READY.
        message: One readable line: state, what is served, and any update.
    """

    name: str
    ready: bool
    state: str
    config_update: str | None
    served_entities: list[dict[str, Any]]
    url: str | None
    message: str


@dataclass(frozen=True)
class _Entity:
    """The served entity a deploy asks for, in the form the API echoes it back."""

    name: str
    entity_name: str
    entity_version: str
    workload_size: str
    scale_to_zero: bool
    environment_vars: tuple[tuple[str, str], ...]

    def to_sdk(self) -> ServedEntityInput:
        from databricks.sdk.service.serving import ServedEntityInput

        return ServedEntityInput(
            name=self.name,
            entity_name=self.entity_name,
            entity_version=self.entity_version,
            workload_size=self.workload_size,
            scale_to_zero_enabled=self.scale_to_zero,
            environment_vars=dict(self.environment_vars) or None,
        )

    def traffic(self) -> TrafficConfig:
        from databricks.sdk.service.serving import Route, TrafficConfig

        return TrafficConfig(routes=[Route(served_entity_name=self.name, traffic_percentage=100)])

    def matches(self, served: ServedEntityOutput) -> bool:
        return (
            served.name == self.name
            and (served.entity_name or "").lower() == self.entity_name.lower()
            and served.entity_version == self.entity_version
            and served.workload_size == self.workload_size
            and bool(served.scale_to_zero_enabled) == self.scale_to_zero
            and dict(served.environment_vars or {}) == dict(self.environment_vars)
        )

    def describe(self) -> str:
        return f"{self.entity_name} v{self.entity_version}"


# -- the client ------------------------------------------------------------------------------


class DatabricksServing:
    """Deploy the registered chain to a Databricks serving endpoint, idempotently.

    Args:
        host: Workspace URL (``https://<workspace>.cloud.databricks.com``; without a scheme,
            https is assumed).
        token: A personal access token (of the service principal that should own the
            endpoint: its identity reads Unity Catalog and secrets on the endpoint's behalf).
        poll_interval: Seconds between status checks while waiting; also the first retry
            delay after a transient error, when shorter than a second.
        timeout: Seconds one public call may take, waits and retries included.

    Raises:
        ServingConfigError: The host, token, poll interval or timeout is unusable.
    """

    def __init__(
        self,
        host: str,
        token: SecretStr,
        *,
        poll_interval: float = 10.0,
        timeout: float = 1200.0,
    ) -> None:
        if not isinstance(token, SecretStr):
            raise ServingConfigError(
                "token must be a pydantic SecretStr (wrap it: SecretStr(token)) so it is never "
                "printed or logged"
            )
        if not token.get_secret_value():
            raise ServingConfigError("token is empty; pass the workspace personal access token")
        if isinstance(host, str) and host and "://" not in host:
            # As databricks-sdk does: DATABRICKS_HOST is often set without the scheme.
            host = f"https://{host}"
        if not isinstance(host, str) or not re.match(r"^https?://[^\s/]+", host):
            raise ServingConfigError(
                f"host {host!r} is not a workspace URL; expected https://<workspace-host>"
            )
        if not poll_interval > 0 or not timeout > 0:
            raise ServingConfigError("poll_interval and timeout must be positive seconds")
        self._host = host.rstrip("/")
        self._token = token
        self._poll_interval = float(poll_interval)
        self._timeout = float(timeout)
        self._client: WorkspaceClient | None = None
        self._gateway_available: bool | None = None

    def __repr__(self) -> str:
        return (
            f"DatabricksServing(host={self._host!r}, poll_interval={self._poll_interval:g}, "
            f"timeout={self._timeout:g})"
        )

    @property
    def host(self) -> str:
        """The workspace URL."""
        return self._host

    # -- public API --------------------------------------------------------------------------

    def deploy(
        self,
        endpoint_name: str,
        model_name: str,
        model_version: str,
        *,
        workload_size: str = "Small",
        scale_to_zero: bool = True,
        environment_vars: dict[str, str] | None = None,
        inference_table: InferenceTableConfig | None = None,
    ) -> EndpointStatus:
        """Serve ``model_name`` version ``model_version`` on ``endpoint_name`` and wait.

        Creates the endpoint when it is missing; otherwise updates its config only when the
        served entity (model, version, workload size, scale-to-zero, environment) or the
        inference table differs, so deploying the same thing twice changes nothing. The
        endpoint serves exactly this one entity with all the traffic.

        Args:
            endpoint_name: Serving endpoint name (1-63 letters, digits, '-', '_').
            model_name: Unity Catalog model, ``catalog.schema.model``.
            model_version: The registered version (``"3"``).
            workload_size: ``Small``, ``Medium``, ``Large`` or a custom size of the workspace.
            scale_to_zero: Let the endpoint scale down to zero when idle.
            environment_vars: Variables for the model's environment: secret references
                (``{{secrets/<scope>/<key>}}``, see :meth:`ensure_secret_scope`) or plain
                values that are not secrets.
            inference_table: Where to log requests and responses; None leaves the
                endpoint's inference table as it is.

        Returns:
            The status once the endpoint is READY with no update in progress.

        Raises:
            ServingConfigError: A name is malformed, or an environment variable carries what
                looks like a credential instead of a secret reference.
            ServingTimeoutError: The endpoint was not READY within ``timeout``.
            ServingError: Databricks rejected the config or the update failed (UPDATE_FAILED);
                the message names the endpoint and Databricks' reason.
        """
        _check_endpoint_name(endpoint_name)
        entity = _served_entity(
            model_name, model_version, workload_size, scale_to_zero, environment_vars
        )
        deadline = time.monotonic() + self._timeout
        action = f"Deploying {entity.describe()} to serving endpoint {endpoint_name!r}"
        with self._translate(action, endpoint_name):
            current, changed = self._converge(endpoint_name, entity, inference_table, deadline)
            if current is not None and not changed:
                status = self._status(current)
                if status.ready and self._settled(current, entity, expect_update=False):
                    logger.info("%s (nothing to change)", status.message)
                    return status
            return self._wait_ready(endpoint_name, entity, deadline, expect_update=changed)

    def status(self, endpoint_name: str) -> EndpointStatus:
        """The endpoint's current status.

        Raises:
            ServingError: The endpoint does not exist (deploy it first) or cannot be read.
        """
        _check_endpoint_name(endpoint_name)
        deadline = time.monotonic() + self._timeout
        with self._translate(f"Reading serving endpoint {endpoint_name!r}", endpoint_name):
            current = self._get(endpoint_name, deadline)
        if current is None:
            raise ServingError(
                f"Serving endpoint {endpoint_name!r} does not exist in {self._host}; "
                "deploy the model first",
                endpoint=endpoint_name,
                error_code="RESOURCE_DOES_NOT_EXIST",
            )
        return self._status(current)

    def teardown(self, endpoint_name: str) -> None:
        """Delete the endpoint; an endpoint that does not exist is not an error.

        Raises:
            ServingError: Databricks refused the deletion.
        """
        _check_endpoint_name(endpoint_name)
        deadline = time.monotonic() + self._timeout
        with self._translate(f"Deleting serving endpoint {endpoint_name!r}", endpoint_name):
            try:
                self._call(
                    f"delete serving endpoint {endpoint_name!r}",
                    partial(self._workspace.serving_endpoints.delete, endpoint_name),
                    deadline,
                )
            except Exception as exc:
                if not _is_missing(exc):
                    raise
                logger.info("Serving endpoint %r does not exist; nothing to delete", endpoint_name)
                return
        logger.info("Deleted serving endpoint %r", endpoint_name)

    def ensure_secret_scope(self, scope: str, secrets: dict[str, SecretStr]) -> dict[str, str]:
        """Create the secret scope if needed and store (overwrite) each secret in it.

        Secret values cannot be read back, so every secret is written on every call.

        Args:
            scope: Secret scope name (letters, digits, '-', '_', '.', '@'; at most 128).
            secrets: Environment variable name (also the secret key) to its value.

        Returns:
            ``{KEY: "{{secrets/<scope>/<KEY>}}"}``, ready to pass as ``environment_vars``.

        Raises:
            ServingConfigError: A name is invalid or a value is not a non-empty SecretStr.
            ServingError: Databricks refused to create the scope or store a secret.
        """
        _check_scope(scope)
        for key, value in secrets.items():
            _check_secret(key, value)
        deadline = time.monotonic() + self._timeout
        secrets_api = self._workspace.secrets
        with self._translate(f"Storing secrets in scope {scope!r}"):
            scopes = self._call(
                "list secret scopes", lambda: list(secrets_api.list_scopes()), deadline
            )
            if scope.lower() not in {(s.name or "").lower() for s in scopes}:
                try:
                    self._call(
                        f"create secret scope {scope!r}",
                        partial(secrets_api.create_scope, scope),
                        deadline,
                    )
                    logger.info("Created secret scope %r", scope)
                except Exception as exc:
                    if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                        raise
            for key, value in secrets.items():
                self._call(
                    f"store secret {key!r} in scope {scope!r}",
                    partial(
                        secrets_api.put_secret,
                        scope,
                        key,
                        string_value=value.get_secret_value(),
                    ),
                    deadline,
                )
                logger.info("Stored secret %r in scope %r", key, scope)
        return {key: f"{{{{secrets/{scope}/{key}}}}}" for key in secrets}

    def grant_read(self, principal: str, catalog: str, schema: str, tables: list[str]) -> None:
        """Let ``principal`` read ``tables``: USE CATALOG, USE SCHEMA and SELECT, nothing more.

        Only missing privileges are added; privileges the principal already holds beyond
        these are left alone and logged as a warning.

        Args:
            principal: Service principal application id, user e-mail or group name.
            catalog: The catalog.
            schema: The schema within it.
            tables: Table names in that schema (bare, or ``catalog.schema.table``).

        Raises:
            ServingConfigError: A name is invalid or no table is given.
            ServingError: Databricks refused a grant (unknown principal or securable, ...).
        """
        if not isinstance(principal, str) or not principal.strip():
            raise ServingConfigError("principal is empty; pass the service principal's id")
        _check_part("catalog", catalog)
        _check_part("schema", schema)
        if isinstance(tables, str) or not tables:
            raise ServingConfigError("tables must be a non-empty list of table names")
        plan = [
            ("CATALOG", catalog, "USE_CATALOG"),
            ("SCHEMA", f"{catalog}.{schema}", "USE_SCHEMA"),
            *(("TABLE", _table_name(catalog, schema, t), "SELECT") for t in tables),
        ]
        deadline = time.monotonic() + self._timeout
        with self._translate(f"Granting read access on {catalog}.{schema} to {principal!r}"):
            for securable_type, full_name, privilege in plan:
                self._grant(principal, securable_type, full_name, privilege, deadline)

    # -- deploy internals --------------------------------------------------------------------

    def _converge(
        self,
        name: str,
        entity: _Entity,
        table: InferenceTableConfig | None,
        deadline: float,
    ) -> tuple[ServingEndpointDetailed | None, bool]:
        """Create or update until the endpoint asks for what ``entity`` and ``table`` say.

        Returns the endpoint as last read (None after a create) and whether anything was
        written. A create or an update that loses a race (the endpoint appeared, another
        update started) is retried from a fresh read.
        """
        from databricks.sdk.errors import ResourceConflict

        changed = False
        for _ in range(_MAX_ROUNDS):
            current = self._get(name, deadline)
            if current is None:
                if self._create(name, entity, table, deadline):
                    return None, True
                continue
            if _config_update(current) == "IN_PROGRESS":
                current = self._poll(
                    name,
                    deadline,
                    lambda ep: _config_update(ep) != "IN_PROGRESS",
                    "finish the update already in progress",
                )
            try:
                changed = self._update(name, current, entity, table, deadline) or changed
            except ResourceConflict:
                changed = True
                continue
            return current, changed
        raise ServingError(
            f"Serving endpoint {name!r} kept changing under this deploy ({_MAX_ROUNDS} "
            "attempts); another client is updating it. Wait for it to finish and deploy again.",
            endpoint=name,
        )

    def _create(
        self, name: str, entity: _Entity, table: InferenceTableConfig | None, deadline: float
    ) -> bool:
        """Create the endpoint; False when it turned out to exist already."""
        from databricks.sdk.service.serving import AiGatewayConfig, EndpointCoreConfigInput

        config = EndpointCoreConfigInput(
            name=name, served_entities=[entity.to_sdk()], traffic_config=entity.traffic()
        )
        gateway = None
        if table is not None and table.enabled and self._gateway_available is not False:
            gateway = AiGatewayConfig(inference_table_config=_gateway_table(table))
        elif table is not None and table.enabled:
            config.auto_capture_config = _legacy_capture(table)
        create = self._workspace.serving_endpoints.create
        action = f"create serving endpoint {name!r}"
        try:
            try:
                self._call(
                    action, partial(create, name, config=config, ai_gateway=gateway), deadline
                )
            except Exception as exc:
                if gateway is None or not _gateway_unavailable(exc) or table is None:
                    raise
                self._note_gateway_unavailable(name)
                config.auto_capture_config = _legacy_capture(table)
                self._call(action, partial(create, name, config=config), deadline)
        except Exception as exc:
            if _error_code(exc) == "RESOURCE_ALREADY_EXISTS":
                logger.info("Serving endpoint %r already exists; updating it instead", name)
                return False
            raise
        logger.info("Created serving endpoint %r for %s", name, entity.describe())
        return True

    def _update(
        self,
        name: str,
        current: ServingEndpointDetailed,
        entity: _Entity,
        table: InferenceTableConfig | None,
        deadline: float,
    ) -> bool:
        """Bring an existing endpoint's config and inference table in line; True if changed."""
        entity_differs = not _serves(current, entity)
        capture = None
        changed = False
        if table is not None and not _table_matches(current, table):
            gateway_on, legacy_on = _tables_on(current)
            if table.enabled or gateway_on:
                if self._gateway_available is not False:
                    changed = self._put_gateway(name, current, table, deadline)
                if table.enabled and not changed:
                    capture = _legacy_capture_update(name, current, table)
            if legacy_on and (changed or not table.enabled):
                # The gateway table replaces the legacy one (or both are switched off).
                capture = _legacy_capture(table.model_copy(update={"enabled": False}))
        if entity_differs or capture is not None:
            update = partial(
                self._workspace.serving_endpoints.update_config,
                name,
                served_entities=[entity.to_sdk()] if entity_differs else None,
                traffic_config=entity.traffic() if entity_differs else None,
                auto_capture_config=capture,
            )
            self._call(f"update the config of serving endpoint {name!r}", update, deadline)
            logger.info(
                "Updating serving endpoint %r to %s%s",
                name,
                entity.describe(),
                " with legacy inference tables" if capture is not None else "",
            )
            changed = True
        return changed

    def _put_gateway(
        self,
        name: str,
        current: ServingEndpointDetailed,
        table: InferenceTableConfig,
        deadline: float,
    ) -> bool:
        """Set the AI Gateway inference table; False when the workspace has no AI Gateway."""
        from databricks.sdk.service.serving import AiGatewayConfig, AiGatewayInferenceTableConfig

        gateway = current.ai_gateway or AiGatewayConfig()
        before = gateway.inference_table_config
        # PUT replaces the whole gateway config: keep the parts this class does not manage.
        put = partial(
            self._workspace.serving_endpoints.put_ai_gateway,
            name,
            fallback_config=gateway.fallback_config,
            guardrails=gateway.guardrails,
            rate_limits=gateway.rate_limits,
            usage_tracking_config=gateway.usage_tracking_config,
        )
        action = f"set the inference table of serving endpoint {name!r}"
        try:
            if table.enabled and before is not None and before.enabled:
                # Databricks moves an enabled inference table only after it was disabled.
                disabled = AiGatewayInferenceTableConfig(
                    catalog_name=before.catalog_name,
                    schema_name=before.schema_name,
                    table_name_prefix=before.table_name_prefix,
                    enabled=False,
                )
                self._call(action, partial(put, inference_table_config=disabled), deadline)
            self._call(action, partial(put, inference_table_config=_gateway_table(table)), deadline)
        except Exception as exc:
            if not _gateway_unavailable(exc):
                raise
            self._note_gateway_unavailable(name)
            return False
        logger.info(
            "Inference table of serving endpoint %r: %s",
            name,
            f"{table.catalog_name}.{table.schema_name}.{table.table_name_prefix}_*"
            if table.enabled
            else "disabled",
        )
        return True

    def _note_gateway_unavailable(self, name: str) -> None:
        self._gateway_available = False
        logger.warning(
            "AI Gateway is not available for serving endpoint %r; using the legacy inference "
            "table (auto_capture_config), which Databricks is retiring",
            name,
        )

    def _wait_ready(
        self, name: str, entity: _Entity, deadline: float, *, expect_update: bool
    ) -> EndpointStatus:
        current = self._poll(
            name,
            deadline,
            lambda ep: (
                _config_update(ep) != "IN_PROGRESS"
                and (_is_ready(ep) or _config_update(ep) in _FAILED_UPDATES)
            ),
            "become READY",
        )
        status = self._status(current)
        if not self._settled(current, entity, expect_update=expect_update):
            if status.config_update in _FAILED_UPDATES:
                raise ServingError(
                    f"Serving endpoint {name!r}: the config update to {entity.describe()} "
                    f"ended {status.config_update}: {_failure_message(current)}. Read the "
                    f"served entity's build logs (Serving UI, or `databricks serving-endpoints "
                    f"build-logs {name} {entity.name}`), fix the model or its environment, "
                    "and deploy again.",
                    endpoint=name,
                    error_code=status.config_update,
                )
            raise ServingError(
                f"Serving endpoint {name!r} is READY but serves something else than "
                f"{entity.describe()} ({status.message}); another deployment may have raced "
                "this one. Deploy again.",
                endpoint=name,
            )
        logger.info("%s", status.message)
        return status

    def _settled(
        self, ep: ServingEndpointDetailed, entity: _Entity, *, expect_update: bool
    ) -> bool:
        """Whether the endpoint serves ``entity`` and no update of ours is open or failed."""
        update = _config_update(ep)
        if not _is_ready(ep) or not _serves(ep, entity) or update == "IN_PROGRESS":
            return False
        # A failure left over from an earlier deploy does not matter when the active config
        # is already what was asked for; one this deploy caused does.
        return update == "NOT_UPDATING" or not expect_update

    def _poll(
        self,
        name: str,
        deadline: float,
        done: Callable[[ServingEndpointDetailed], bool],
        what: str,
    ) -> ServingEndpointDetailed:
        last_message = ""
        while True:
            current = self._get(name, deadline)
            if current is None:
                raise ServingError(
                    f"Serving endpoint {name!r} disappeared while waiting for it to {what}; "
                    "was it deleted by someone else?",
                    endpoint=name,
                )
            if done(current):
                return current
            message = self._status(current).message
            if message != last_message:
                logger.info("%s", message)
                last_message = message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServingTimeoutError(
                    f"Serving endpoint {name!r} did not {what} within {self._timeout:g}s; last "
                    f"status: {message}. Check it in the Serving UI, or call status() later.",
                    endpoint=name,
                )
            time.sleep(min(self._poll_interval, remaining))

    def _get(self, name: str, deadline: float) -> ServingEndpointDetailed | None:
        try:
            return self._call(
                f"read serving endpoint {name!r}",
                partial(self._workspace.serving_endpoints.get, name),
                deadline,
            )
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise

    def _status(self, ep: ServingEndpointDetailed) -> EndpointStatus:
        name = ep.name or ""
        ready = _is_ready(ep)
        state = ep.state.ready.value if ep.state and ep.state.ready else "UNKNOWN"
        update = _config_update(ep)
        active = [_entity_info(e, pending=False) for e in _active_entities(ep)]
        pending = [
            _entity_info(e, pending=True)
            for e in (ep.pending_config.served_entities if ep.pending_config else None) or []
        ]
        url = None
        if ready:
            url = ep.endpoint_url or f"{self._host}/serving-endpoints/{name}/invocations"
        return EndpointStatus(
            name=name,
            ready=ready,
            state=state,
            config_update=update,
            served_entities=active + pending,
            url=url,
            message=_describe(name, state, update, active, pending, ep),
        )

    # -- grants internals --------------------------------------------------------------------

    def _grant(
        self, principal: str, securable_type: str, full_name: str, privilege: str, deadline: float
    ) -> None:
        from databricks.sdk.service.catalog import PermissionsChange, Privilege

        grants = self._workspace.grants
        held = self._privileges(principal, securable_type, full_name, deadline)
        beyond = sorted(held - {privilege})
        if beyond:
            logger.warning(
                "%r already holds %s on %s %s beyond the read access grant_read gives; "
                "they are left as they are",
                principal,
                ", ".join(beyond),
                securable_type.lower(),
                full_name,
            )
        if privilege in held:
            return
        change = PermissionsChange(principal=principal, add=[Privilege(privilege)])
        self._call(
            f"grant {privilege} on {securable_type.lower()} {full_name}",
            partial(grants.update, securable_type, full_name, changes=[change]),
            deadline,
        )
        logger.info(
            "Granted %s on %s %s to %r", privilege, securable_type.lower(), full_name, principal
        )

    def _privileges(
        self, principal: str, securable_type: str, full_name: str, deadline: float
    ) -> set[str]:
        held: set[str] = set()
        token: str | None = None
        while True:
            page = self._call(
                f"read the grants on {securable_type.lower()} {full_name}",
                partial(
                    self._workspace.grants.get,
                    securable_type,
                    full_name,
                    principal=principal,
                    max_results=0,
                    page_token=token,
                ),
                deadline,
            )
            for assignment in page.privilege_assignments or []:
                if assignment.principal == principal:
                    held.update(p.value for p in assignment.privileges or [])
            token = page.next_page_token
            if not token:
                return held

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def _workspace(self) -> WorkspaceClient:
        if self._client is None:
            from databricks.sdk import WorkspaceClient
            from databricks.sdk.config import Config

            from movie_rag._version import __version__

            try:
                config = Config(
                    host=self._host,
                    token=self._token.get_secret_value(),
                    auth_type="pat",
                    # The SDK's own 429/503 retries must end within our timeout too.
                    retry_timeout_seconds=max(1, min(_SDK_RETRY_BUDGET, math.ceil(self._timeout))),
                    product="movie-rag",
                    product_version=__version__,
                )
                self._client = WorkspaceClient(config=config)
            except ValueError as exc:
                raise ServingConfigError(
                    f"Cannot configure the Databricks client for {self._host}: {exc}"
                ) from exc
        return self._client

    def _call(self, action: str, call: Callable[[], T], deadline: float) -> T:
        """Run one SDK call, retrying transient failures with exponential backoff."""
        delay = min(1.0, self._poll_interval)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return call()
            except Exception as exc:
                if (
                    attempt == _MAX_ATTEMPTS
                    or not _is_transient(exc)
                    or time.monotonic() + delay > deadline
                ):
                    raise
                logger.warning(
                    "Could not %s (%s); retrying in %.2gs (attempt %d of %d)",
                    action,
                    _error_label(exc),
                    delay,
                    attempt + 1,
                    _MAX_ATTEMPTS,
                )
                time.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.contextmanager
    def _translate(self, action: str, endpoint: str | None = None) -> Iterator[None]:
        """Turn SDK and network errors into :class:`ServingError` that say what happened."""
        import requests
        from databricks.sdk.errors import DatabricksError

        try:
            yield
        except ServingError:
            raise
        except DatabricksError as exc:
            code = exc.error_code
            if _is_transient(exc):
                raise ServingTimeoutError(
                    f"{action}: Databricks kept failing ({_error_label(exc)}) through every "
                    f"retry within {self._timeout:g}s; try again later.",
                    endpoint=endpoint,
                    error_code=code,
                ) from exc
            raise ServingError(
                f"{action} failed: Databricks answered {code or type(exc).__name__}: {exc}",
                endpoint=endpoint,
                error_code=code,
            ) from exc
        except TimeoutError as exc:
            # databricks-sdk gives up on 429/503 answers and lost connections this way.
            cause = _error_label(exc.__cause__) if exc.__cause__ else "no answer"
            raise ServingTimeoutError(
                f"{action}: Databricks kept failing ({cause}) until the timeout "
                f"({self._timeout:g}s); try again later.",
                endpoint=endpoint,
            ) from exc
        except requests.RequestException as exc:
            raise ServingError(
                f"{action}: cannot reach {self._host} ({type(exc).__name__}); check the host "
                "and the network.",
                endpoint=endpoint,
            ) from exc


# -- validation ------------------------------------------------------------------------------


def _check_endpoint_name(name: str) -> None:
    if not isinstance(name, str) or not _ENDPOINT_NAME.match(name):
        raise ServingConfigError(
            f"Serving endpoint name {name!r} is invalid: use 1 to 63 letters, digits, '-' and '_'"
        )
    if name.startswith(_RESERVED_PREFIX):
        raise ServingConfigError(
            f"Serving endpoint name {name!r} is invalid: the prefix {_RESERVED_PREFIX!r} is "
            "reserved for Databricks' own endpoints"
        )


def _check_part(what: str, value: str) -> None:
    if not isinstance(value, str) or not _UC_PART.match(value):
        raise ServingConfigError(
            f"{what} {value!r} is not a Unity Catalog name (letters, digits, '_' and '-')"
        )


def _table_name(catalog: str, schema: str, table: str) -> str:
    parts = table.split(".") if isinstance(table, str) else []
    if len(parts) == 3 and [p.lower() for p in parts[:2]] == [catalog.lower(), schema.lower()]:
        parts = parts[2:]
    if len(parts) != 1:
        raise ServingConfigError(
            f"table {table!r} is not a table of {catalog}.{schema}; pass its bare name or "
            f"{catalog}.{schema}.<table>"
        )
    _check_part("table", parts[0])
    return f"{catalog}.{schema}.{parts[0]}"


def _served_entity(
    model_name: str,
    model_version: str,
    workload_size: str,
    scale_to_zero: bool,
    environment_vars: Mapping[str, str] | None,
) -> _Entity:
    parts = model_name.split(".") if isinstance(model_name, str) else []
    if len(parts) != 3 or not all(_UC_PART.match(p) for p in parts):
        raise ServingConfigError(
            f"model_name {model_name!r} is not a three-level Unity Catalog name "
            "(catalog.schema.model); register the model in Unity Catalog and pass its full name"
        )
    version = str(model_version).strip()
    if not _VERSION.match(version):
        raise ServingConfigError(
            f"model_version {model_version!r} is not a registered model version number ('3')"
        )
    if not isinstance(workload_size, str) or not _WORKLOAD_SIZE.match(workload_size):
        raise ServingConfigError(
            f"workload_size {workload_size!r} is invalid; use Small, Medium, Large or a custom "
            "size of the workspace"
        )
    env = dict(environment_vars or {})
    for key, value in env.items():
        _check_environment_variable(key, value)
    return _Entity(
        name=f"{parts[2]}-{version}",
        entity_name=model_name,
        entity_version=version,
        workload_size=workload_size,
        scale_to_zero=bool(scale_to_zero),
        environment_vars=tuple(sorted(env.items())),
    )


def _check_environment_variable(key: str, value: str) -> None:
    if not isinstance(key, str) or not _ENV_NAME.match(key):
        raise ServingConfigError(
            f"environment variable name {key!r} is invalid: use letters, digits and '_', not "
            "starting with a digit"
        )
    if not isinstance(value, str):
        raise ServingConfigError(
            f"environment variable {key} must be a string (a secret reference or a plain value)"
        )
    if _SECRET_REFERENCE.match(value):
        return
    if value.startswith("{{secrets/"):
        raise ServingConfigError(
            f"environment variable {key} is not a well-formed secret reference; write "
            "{{secrets/<scope>/<key>}}"
        )
    if _names_a_secret(key) or _looks_like_credential(value):
        # The value itself is never echoed: it may be the very credential being protected.
        raise ServingConfigError(
            f"environment variable {key} carries a plain value that looks like a credential; "
            "store it with ensure_secret_scope() and pass the {{secrets/<scope>/<key>}} "
            "reference it returns instead"
        )


def _names_a_secret(key: str) -> bool:
    parts = key.upper().split("_")
    return bool(_SECRET_NAME_PARTS.intersection(parts)) or any(
        pair in _SECRET_NAME_PAIRS for pair in itertools.pairwise(parts)
    )


def _looks_like_credential(value: str) -> bool:
    if any(pattern.search(value) for pattern in _TOKEN_PATTERNS):
        return True
    for run in _RANDOM_RUN.findall(value):
        mixed = (
            any(c.islower() for c in run)
            and any(c.isupper() for c in run)
            and any(c.isdigit() for c in run)
        )
        if mixed and _entropy(run) >= 4.0:
            return True
    return False


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _check_scope(scope: str) -> None:
    if not isinstance(scope, str) or not _SCOPE_NAME.match(scope):
        raise ServingConfigError(
            f"secret scope {scope!r} is invalid: use 1 to 128 letters, digits, '-', '_', '.' "
            "and '@'"
        )


def _check_secret(key: str, value: SecretStr) -> None:
    if not isinstance(key, str) or not _ENV_NAME.match(key):
        raise ServingConfigError(
            f"secret key {key!r} is invalid: it doubles as an environment variable name, so "
            "use letters, digits and '_', not starting with a digit"
        )
    if not isinstance(value, SecretStr):
        raise ServingConfigError(
            f"secret {key} must be a pydantic SecretStr (wrap it: SecretStr(value)) so it is "
            "never printed or logged"
        )
    raw = value.get_secret_value()
    if not raw:
        raise ServingConfigError(f"secret {key} is empty")
    if len(raw.encode()) > _MAX_SECRET_BYTES:
        raise ServingConfigError(f"secret {key} is larger than the 128 KB Databricks allows")


# -- reading endpoints -----------------------------------------------------------------------


def _config_update(ep: ServingEndpointDetailed) -> str | None:
    if ep.state is None or ep.state.config_update is None:
        return None
    return ep.state.config_update.value


def _is_ready(ep: ServingEndpointDetailed) -> bool:
    return ep.state is not None and ep.state.ready is not None and ep.state.ready.value == "READY"


def _active_entities(ep: ServingEndpointDetailed) -> Sequence[ServedEntityOutput]:
    return (ep.config.served_entities if ep.config else None) or []


def _serves(ep: ServingEndpointDetailed, entity: _Entity) -> bool:
    """Whether the active config serves ``entity`` alone with all the traffic."""
    served = _active_entities(ep)
    if len(served) != 1 or not entity.matches(served[0]):
        return False
    traffic = ep.config.traffic_config if ep.config else None
    routes = (traffic.routes if traffic else None) or []
    if not routes:
        return True
    return (
        len(routes) == 1
        and routes[0].traffic_percentage == 100
        and entity.name
        in (
            routes[0].served_entity_name,
            routes[0].served_model_name,
        )
    )


def _tables_on(ep: ServingEndpointDetailed) -> tuple[bool, bool]:
    """Whether the AI Gateway inference table and the legacy one are enabled."""
    gateway = ep.ai_gateway.inference_table_config if ep.ai_gateway else None
    legacy = ep.config.auto_capture_config if ep.config else None
    return bool(gateway and gateway.enabled), bool(legacy and legacy.enabled)


def _table_matches(ep: ServingEndpointDetailed, table: InferenceTableConfig) -> bool:
    gateway = ep.ai_gateway.inference_table_config if ep.ai_gateway else None
    legacy = ep.config.auto_capture_config if ep.config else None
    on = [
        (c.catalog_name, c.schema_name, c.table_name_prefix)
        for c in (gateway, legacy)
        if c is not None and c.enabled
    ]
    if not table.enabled:
        return not on
    # One table at the asked place, and not a second one logging elsewhere.
    return len(on) == 1 and table.same_place(*on[0])


def _entity_info(entity: ServedEntityOutput, *, pending: bool) -> dict[str, Any]:
    state = entity.state
    return {
        "name": entity.name,
        "entity_name": entity.entity_name,
        "entity_version": entity.entity_version,
        "workload_size": entity.workload_size,
        "scale_to_zero_enabled": bool(entity.scale_to_zero_enabled),
        "deployment": state.deployment.value if state and state.deployment else None,
        "deployment_message": (state.deployment_state_message if state else None) or "",
        "environment_vars": sorted(entity.environment_vars or {}),
        "pending": pending,
    }


def _failure_message(ep: ServingEndpointDetailed) -> str:
    for entity in (ep.pending_config.served_entities if ep.pending_config else None) or []:
        state = entity.state
        if state and state.deployment and state.deployment.value == "DEPLOYMENT_FAILED":
            return state.deployment_state_message or f"{entity.name} failed to deploy"
    return "Databricks reported no reason"


def _describe(
    name: str,
    state: str,
    update: str | None,
    active: list[dict[str, Any]],
    pending: list[dict[str, Any]],
    ep: ServingEndpointDetailed,
) -> str:
    parts = [f"{name}: {state}"]
    if active:
        parts.append("serving " + ", ".join(_entity_text(e) for e in active))
    target = ", ".join(f"{e['entity_name']} v{e['entity_version']}" for e in pending)
    if update == "IN_PROGRESS":
        progress = "; ".join(
            f"{e['deployment'] or 'PENDING'}"
            + (f" ({e['deployment_message']})" if e["deployment_message"] else "")
            for e in pending
        )
        parts.append(f"update IN_PROGRESS to {target or 'a new config'}: {progress or 'pending'}")
    elif update in _FAILED_UPDATES:
        parts.append(f"last update {update} ({target or 'config'}): {_failure_message(ep)}")
    elif update == "NOT_UPDATING":
        parts.append("no update in progress")
    return "; ".join(parts)


def _entity_text(entity: dict[str, Any]) -> str:
    scale = ", scale to zero" if entity["scale_to_zero_enabled"] else ""
    return (
        f"{entity['entity_name']} v{entity['entity_version']} "
        f"({entity['workload_size'] or 'custom concurrency'}{scale})"
    )


# -- inference tables ------------------------------------------------------------------------


def _gateway_table(table: InferenceTableConfig) -> Any:
    from databricks.sdk.service.serving import AiGatewayInferenceTableConfig

    if not table.enabled:
        return AiGatewayInferenceTableConfig(enabled=False)
    return AiGatewayInferenceTableConfig(
        catalog_name=table.catalog_name,
        schema_name=table.schema_name,
        table_name_prefix=table.table_name_prefix,
        enabled=True,
    )


def _legacy_capture(table: InferenceTableConfig) -> AutoCaptureConfigInput:
    from databricks.sdk.service.serving import AutoCaptureConfigInput

    if not table.enabled:
        return AutoCaptureConfigInput(enabled=False)
    return AutoCaptureConfigInput(
        catalog_name=table.catalog_name,
        schema_name=table.schema_name,
        table_name_prefix=table.table_name_prefix,
        enabled=True,
    )


def _legacy_capture_update(
    name: str, current: ServingEndpointDetailed, table: InferenceTableConfig
) -> AutoCaptureConfigInput:
    legacy = current.config.auto_capture_config if current.config else None
    if table.enabled and legacy is not None and legacy.enabled:
        raise ServingError(
            f"Serving endpoint {name!r} logs to the legacy inference table "
            f"{legacy.catalog_name}.{legacy.schema_name}.{legacy.table_name_prefix}_*, and "
            "Databricks does not move an enabled inference table: deploy once with "
            "InferenceTableConfig(..., enabled=False), then with the new location.",
            endpoint=name,
        )
    return _legacy_capture(table)


# -- errors from the SDK ---------------------------------------------------------------------


def _error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None


def _error_label(exc: BaseException) -> str:
    return _error_code(exc) or type(exc).__name__


def _is_missing(exc: BaseException) -> bool:
    from databricks.sdk.errors import NotFound

    return isinstance(exc, NotFound) and _error_code(exc) in (
        None,
        "RESOURCE_DOES_NOT_EXIST",
        "NOT_FOUND",
    )


def _is_transient(exc: BaseException) -> bool:
    import requests
    from databricks.sdk.errors import DatabricksError, platform

    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, platform.DataLoss):
        return False
    if isinstance(
        exc,
        platform.TooManyRequests
        | platform.InternalError
        | platform.TemporarilyUnavailable
        | platform.DeadlineExceeded,
    ):
        return True
    return isinstance(exc, DatabricksError) and _error_code(exc) in _TRANSIENT_CODES


def _gateway_unavailable(exc: BaseException) -> bool:
    """Whether an error says the workspace (or endpoint) cannot use the AI Gateway."""
    from databricks.sdk.errors import BadRequest, NotImplemented

    if _error_code(exc) == "FEATURE_DISABLED" or isinstance(exc, NotImplemented):
        return True
    text = str(exc).lower()
    return (
        isinstance(exc, BadRequest)
        and "gateway" in text
        and ("not supported" in text or "not available" in text)
    )
