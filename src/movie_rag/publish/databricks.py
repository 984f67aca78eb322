"""Databricks Model Serving for the registered chain, with its secrets, grants and tracing.

:class:`DatabricksServing` is the Databricks sibling of
:class:`~movie_rag.publish.local_serving.LocalServing` behind the
:class:`~movie_rag.publish.serving.Serving` interface. It puts a Unity Catalog model version
behind a serving endpoint and keeps it there idempotently: it creates the endpoint when it is
missing, updates its config only when what it serves differs from what was asked, logs
requests to AI Gateway inference tables, and waits until the endpoint is READY with no update
in progress. Around it: a secret scope whose ``{{secrets/<scope>/<key>}}`` references become
the endpoint's environment variables (a secret value never travels in an endpoint config),
and the grants of :class:`~movie_rag.publish.access.ServedModelAccess` (Unity Catalog
privileges and endpoint CAN QUERY) for the endpoint's identity.

Legacy inference tables (``auto_capture_config``) can no longer be enabled on Databricks
(since February 2026); asking for them is a :class:`ServingConfigError`.

Credentials come from the workspace seam (:mod:`movie_rag.workspace`: databricks-sdk unified
auth — notebook, Model Serving, Databricks Apps, OAuth M2M, profiles, PAT — with explicit
settings as overrides). 429 and 503 answers are retried by the SDK as the platform asks
(``Retry-After``); other transient answers (500, 502, 504, dropped connections) are retried
by :func:`movie_rag.workspace.retrying`, all within the instance's ``timeout``.

Instantiate (in a notebook, a job or with ``DATABRICKS_*`` set, nothing is needed):
    .. code-block:: python

        from movie_rag.publish.databricks import DatabricksServing, InferenceTableConfig

        serving = DatabricksServing()

Deploy:
    .. code-block:: python

        status = serving.deploy(
            "movie-rag",
            "main.movie_rag.movie_rag",
            "3",
            environment_vars={"MOVIE_RAG_BACKEND": "databricks"},
            inference_table=InferenceTableConfig(catalog_name="main", schema_name="movie_rag"),
        )
        print(status.message)  # movie-rag: READY; serving main.movie_rag.movie_rag v3 ...

Tear down:
    .. code-block:: python

        serving.teardown("movie-rag")
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr

from movie_rag.publish.databricks_access import WorkspaceAccess
from movie_rag.publish.databricks_checks import (
    InferenceTableConfig,
    ServedEntity,
    check_endpoint_name,
    served_entity,
)
from movie_rag.publish.endpoint_state import (
    FAILED_UPDATES,
    config_update,
    endpoint_status,
    failure_message,
    gateway_table,
    is_ready,
    serves,
    table_matches,
)
from movie_rag.publish.errors import ServingConfigError, ServingError, ServingTimeoutError
from movie_rag.publish.serving import EndpointStatus

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config
    from databricks.sdk.service.serving import ServingEndpointDetailed

    from movie_rag.settings import MovieRagSettings

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

_MAX_ATTEMPTS = 6
_MAX_BACKOFF = 30.0
_MAX_ROUNDS = 4
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
_LEGACY_TABLES = (
    "legacy inference tables (auto_capture_config) can no longer be enabled on Databricks "
    "serving endpoints (since February 2026); pass inference_table=InferenceTableConfig(...) "
    "to log requests through AI Gateway inference tables instead"
)


class DatabricksServing(WorkspaceAccess):
    """Deploy the registered chain to a Databricks serving endpoint, idempotently.

    Args:
        host: Workspace URL override (``https://<workspace>.cloud.databricks.com``; without
            a scheme, https is assumed). None: the unified auth chain's.
        token: A personal access token override (a ``SecretStr``). None: the unified auth
            chain's credential (notebook, Model Serving, App, OAuth M2M, profile, PAT).
        settings: ``databricks_*`` overrides of the chain (see :mod:`movie_rag.workspace`).
        config: An already resolved databricks-sdk ``Config`` (wins over the rest).
        poll_interval: Seconds between status checks while waiting; also the first retry
            delay after a transient error, when shorter than a second.
        timeout: Seconds one public call may take, waits and retries included.

    Raises:
        ServingConfigError: The host, token, poll interval or timeout is unusable.
    """

    def __init__(
        self,
        host: str | None = None,
        token: SecretStr | None = None,
        *,
        settings: MovieRagSettings | None = None,
        config: Config | None = None,
        poll_interval: float = 10.0,
        timeout: float = 1200.0,
    ) -> None:
        if token is not None and not isinstance(token, SecretStr):
            raise ServingConfigError(
                "token must be a pydantic SecretStr (wrap it: SecretStr(token)) so it is never "
                "printed or logged"
            )
        if token is not None and not token.get_secret_value():
            raise ServingConfigError("token is empty; pass the workspace personal access token")
        if isinstance(host, str) and host and "://" not in host:
            # As databricks-sdk does: DATABRICKS_HOST is often set without the scheme.
            host = f"https://{host}"
        if host is not None and (
            not isinstance(host, str) or not re.match(r"^https?://[^\s/]+", host)
        ):
            raise ServingConfigError(
                f"host {host!r} is not a workspace URL; expected https://<workspace-host>"
            )
        if not poll_interval > 0 or not timeout > 0:
            raise ServingConfigError("poll_interval and timeout must be positive seconds")
        self._explicit_host = host.rstrip("/") if host else None
        self._token = token
        self._settings = settings
        self._config = config
        self._poll_interval = float(poll_interval)
        self._timeout = float(timeout)
        self._client: WorkspaceClient | None = None

    def __repr__(self) -> str:
        return (
            f"DatabricksServing(host={self._explicit_host or 'unified auth'!r}, "
            f"poll_interval={self._poll_interval:g}, timeout={self._timeout:g})"
        )

    @property
    def host(self) -> str:
        """The workspace URL."""
        return self._explicit_host or str(self._workspace.config.host).rstrip("/")

    # -- the Serving interface ---------------------------------------------------------------

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
        auto_capture_config: Any = None,
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
            inference_table: Where the AI Gateway logs requests and responses; None leaves
                the endpoint's inference table as it is.
            auto_capture_config: Refused: legacy inference tables cannot be enabled any more.

        Returns:
            The status once the endpoint is READY with no update in progress.

        Raises:
            ServingConfigError: A name is malformed, legacy inference tables were asked
                for, or an environment variable carries what looks like a credential
                instead of a secret reference.
            ServingTimeoutError: The endpoint was not READY within ``timeout``.
            ServingError: Databricks rejected the config or the update failed (UPDATE_FAILED);
                the message names the endpoint and Databricks' reason.
        """
        if auto_capture_config is not None:
            raise ServingConfigError(_LEGACY_TABLES)
        check_endpoint_name(endpoint_name)
        entity = served_entity(
            model_name, model_version, workload_size, scale_to_zero, environment_vars
        )
        deadline = time.monotonic() + self._timeout
        action = f"Deploying {entity.describe()} to serving endpoint {endpoint_name!r}"
        with self._translate(action, endpoint_name):
            current, changed = self._converge(endpoint_name, entity, inference_table, deadline)
            if current is not None and not changed:
                status = endpoint_status(current, self.host)
                if status.ready and self._settled(current, entity, expect_update=False):
                    logger.info("%s (nothing to change)", status.message)
                    return status
            return self._wait_ready(endpoint_name, entity, deadline, expect_update=changed)

    def status(self, endpoint_name: str) -> EndpointStatus:
        """The endpoint's current status.

        Raises:
            ServingError: The endpoint does not exist (deploy it first) or cannot be read.
        """
        check_endpoint_name(endpoint_name)
        deadline = time.monotonic() + self._timeout
        with self._translate(f"Reading serving endpoint {endpoint_name!r}", endpoint_name):
            current = self._get(endpoint_name, deadline)
        if current is None:
            raise ServingError(
                f"Serving endpoint {endpoint_name!r} does not exist in {self.host}; "
                "deploy the model first",
                endpoint=endpoint_name,
                error_code="RESOURCE_DOES_NOT_EXIST",
            )
        return endpoint_status(current, self.host)

    def teardown(self, endpoint_name: str) -> None:
        """Delete the endpoint; an endpoint that does not exist is not an error.

        Raises:
            ServingError: Databricks refused the deletion.
        """
        check_endpoint_name(endpoint_name)
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

    # -- deploy internals --------------------------------------------------------------------

    def _converge(
        self,
        name: str,
        entity: ServedEntity,
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
            if config_update(current) == "IN_PROGRESS":
                current = self._poll(
                    name,
                    deadline,
                    lambda ep: config_update(ep) != "IN_PROGRESS",
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
        self, name: str, entity: ServedEntity, table: InferenceTableConfig | None, deadline: float
    ) -> bool:
        """Create the endpoint; False when it turned out to exist already."""
        from databricks.sdk.service.serving import AiGatewayConfig, EndpointCoreConfigInput

        config = EndpointCoreConfigInput(
            name=name, served_entities=[entity.to_sdk()], traffic_config=entity.traffic()
        )
        gateway = None
        if table is not None and table.enabled:
            gateway = AiGatewayConfig(inference_table_config=gateway_table(table))
        create = self._workspace.serving_endpoints.create
        try:
            self._call(
                f"create serving endpoint {name!r}",
                partial(create, name, config=config, ai_gateway=gateway),
                deadline,
            )
        except Exception as exc:
            if _error_code(exc) == "RESOURCE_ALREADY_EXISTS":
                logger.info("Serving endpoint %r already exists; updating it instead", name)
                return False
            if gateway is not None and _gateway_unavailable(exc):
                raise self._no_gateway(name) from exc
            raise
        logger.info("Created serving endpoint %r for %s", name, entity.describe())
        return True

    def _update(
        self,
        name: str,
        current: ServingEndpointDetailed,
        entity: ServedEntity,
        table: InferenceTableConfig | None,
        deadline: float,
    ) -> bool:
        """Bring an existing endpoint's config and inference table in line; True if changed."""
        changed = False
        if table is not None and not table_matches(current, table):
            changed = self._put_gateway(name, current, table, deadline)
        if not serves(current, entity):
            update = partial(
                self._workspace.serving_endpoints.update_config,
                name,
                served_entities=[entity.to_sdk()],
                traffic_config=entity.traffic(),
            )
            self._call(f"update the config of serving endpoint {name!r}", update, deadline)
            logger.info("Updating serving endpoint %r to %s", name, entity.describe())
            changed = True
        return changed

    def _put_gateway(
        self,
        name: str,
        current: ServingEndpointDetailed,
        table: InferenceTableConfig,
        deadline: float,
    ) -> bool:
        """Set the AI Gateway inference table (disabling it first when it moves)."""
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
            self._call(action, partial(put, inference_table_config=gateway_table(table)), deadline)
        except Exception as exc:
            if _gateway_unavailable(exc):
                raise self._no_gateway(name) from exc
            raise
        logger.info(
            "Inference table of serving endpoint %r: %s",
            name,
            f"{table.catalog_name}.{table.schema_name}.{table.table_name_prefix}_*"
            if table.enabled
            else "disabled",
        )
        return True

    def _no_gateway(self, name: str) -> ServingError:
        return ServingError(
            f"AI Gateway is not available for serving endpoint {name!r} in {self.host}, and "
            f"{_LEGACY_TABLES.split(';')[0]}: deploy without inference_table, or enable the "
            "AI Gateway for the workspace",
            endpoint=name,
            error_code="FEATURE_DISABLED",
        )

    def _wait_ready(
        self, name: str, entity: ServedEntity, deadline: float, *, expect_update: bool
    ) -> EndpointStatus:
        current = self._poll(
            name,
            deadline,
            lambda ep: (
                config_update(ep) != "IN_PROGRESS"
                and (is_ready(ep) or config_update(ep) in FAILED_UPDATES)
            ),
            "become READY",
        )
        status = endpoint_status(current, self.host)
        if not self._settled(current, entity, expect_update=expect_update):
            if status.config_update in FAILED_UPDATES:
                raise ServingError(
                    f"Serving endpoint {name!r}: the config update to {entity.describe()} "
                    f"ended {status.config_update}: {failure_message(current)}. Read the "
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
        self, ep: ServingEndpointDetailed, entity: ServedEntity, *, expect_update: bool
    ) -> bool:
        """Whether the endpoint serves ``entity`` and no update of ours is open or failed."""
        update = config_update(ep)
        if not is_ready(ep) or not serves(ep, entity) or update == "IN_PROGRESS":
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
            message = endpoint_status(current, self.host).message
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

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def _workspace(self) -> WorkspaceClient:
        if self._client is None:
            from databricks.sdk import WorkspaceClient

            from movie_rag.settings import MovieRagSettings
            from movie_rag.workspace import check_credentials, workspace_config

            config = self._config
            if config is None:
                overrides: dict[str, Any] = {}
                if self._explicit_host:
                    overrides["databricks_host"] = self._explicit_host
                if self._token is not None:
                    overrides["databricks_token"] = self._token
                settings = self._settings
                if overrides:
                    base = settings if settings is not None else MovieRagSettings()
                    settings = base.model_copy(update=overrides)
                # The SDK's own 429/503 retries must end within our timeout too.
                budget = max(1, min(_SDK_RETRY_BUDGET, math.ceil(self._timeout)))
                config = workspace_config(settings, retry_timeout_seconds=budget)
            self._client = WorkspaceClient(config=check_credentials(config))
        return self._client

    def _call(self, action: str, call: Callable[[], T], deadline: float) -> T:
        """Run one SDK call, retrying transient failures with exponential backoff."""
        from movie_rag.workspace import retrying

        policy = retrying(
            attempts=_MAX_ATTEMPTS,
            backoff=min(1.0, self._poll_interval),
            max_backoff=_MAX_BACKOFF,
            deadline=deadline,
            what=f"Could not {action}",
            retry_if=_is_transient,
        )
        return policy(call)

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
                f"{action}: cannot reach {self.host} ({type(exc).__name__}); check the host "
                "and the network.",
                endpoint=endpoint,
            ) from exc


# -- validation ------------------------------------------------------------------------------


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
