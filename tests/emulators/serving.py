"""Databricks Model Serving, secrets and Unity Catalog grants on loopback, for databricks-sdk.

Databricks is out of reach in tests, so ``WorkspaceClient(host=emulator.url,
token=emulator.token)`` talks to this server instead. Routes, each following its
documentation (REST reference pages under https://docs.databricks.com/api/workspace/, and
databricks-sdk ``service/serving.py``, ``service/workspace.py``, ``service/catalog.py``):

* ``GET /.well-known/databricks-config`` — databricks-sdk's host-metadata discovery probe
  (``Config._resolve_host_metadata``), unauthenticated
* ``GET /api/2.0/preview/scim/v2/Me`` — currentuser/me
* ``POST /api/2.0/serving-endpoints`` — servingendpoints/create
* ``GET /api/2.0/serving-endpoints`` — servingendpoints/list
* ``GET|DELETE /api/2.0/serving-endpoints/{name}`` — servingendpoints/get, …/delete
* ``PUT /api/2.0/serving-endpoints/{name}/config`` — servingendpoints/updateconfig
* ``PUT /api/2.0/serving-endpoints/{name}/ai-gateway`` — servingendpoints/putaigateway
* ``POST /api/2.0/secrets/scopes/create`` — secrets/createscope
* ``GET /api/2.0/secrets/scopes/list`` — secrets/listscopes
* ``POST /api/2.0/secrets/put`` — secrets/putsecret
* ``GET /api/2.0/secrets/list`` — secrets/listsecrets
* ``GET|PATCH /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}`` — grants/get,
  grants/update (the type is matched case-insensitively: the CLI reference writes
  ``catalog``, the SDK's ``SecurableType`` enum ``CATALOG``)
* ``GET|PATCH /api/2.0/permissions/serving-endpoints/{id}`` — servingendpoints/getpermissions,
  …/updatepermissions (levels CAN_MANAGE, CAN_QUERY, CAN_VIEW)
* ``/oidc/...`` — the OAuth M2M token route of every workspace emulator (``_workspace``)

The workspace has the Foundation Model pay-per-token endpoints every workspace has
(:data:`FOUNDATION_ENDPOINTS`: ``databricks-meta-llama-3-3-70b-instruct``,
``databricks-gte-large-en``, ...); the retired ``databricks-meta-llama-3-70b-instruct`` is
not among them, so asking for it is 404 like any unknown endpoint. Other endpoints a model
may call (a custom embedding or LLM endpoint) are added with
:meth:`ServingEmulator.add_endpoint`. ``GET /api/2.0/preview/scim/v2/Me`` answers for the
caller (each token has its own identity, see ``_workspace.Identity``).

What it rejects, with the real error body ``{"error_code": ..., "message": ...}`` and the
HTTP status that goes with each code in the SDK's error tables (``errors/platform.py``):

* a missing bearer token (401 UNAUTHENTICATED) or a wrong one (403 PERMISSION_DENIED);
* serving endpoint names that are empty, longer than 63 characters (REST reference:
  "Constraints: [1 .. 63] characters"), not made of alphanumerics, dashes and underscores
  (servingendpoints/create), or starting with ``databricks-`` ("This prefix is reserved for
  Databricks preconfigured endpoints", create-manage-serving-endpoints) — 400
  INVALID_PARAMETER_VALUE;
* a second endpoint with a taken name (409 RESOURCE_ALREADY_EXISTS) and unknown endpoints
  (404 RESOURCE_DOES_NOT_EXIST);
* a config without served entities or with more than ten ("A serving endpoint can have at
  most ten served entities", ServingEndpointsAPI), served entity names that repeat or use
  other characters than alphanumerics, dashes and underscores, Unity Catalog entity names
  that are not ``catalog.schema.model``, a missing ``entity_version``, a model version not
  registered with :meth:`ServingEmulator.register_model` (404), workload sizes other than
  Small/Medium/Large or the workspace's custom sizes ("Valid workload sizes are Small,
  Medium, Large. Additional custom workload sizes can also be used when available in the
  workspace"), ``workload_size`` together with min/max provisioned concurrency ("Do not use
  if workload_size is specified"), unknown ``workload_type`` values, traffic routes naming
  an entity the config lacks or a percentage outside 0..100 ("an integer between 0 and 100
  inclusive"), ``environment_vars`` that are not a string-to-string object;
* a config update while another is IN_PROGRESS ("An endpoint that already has an update in
  progress can not be updated until the current update completes or fails",
  servingendpoints/updateconfig) — 409 RESOURCE_CONFLICT;
* AI Gateway inference tables enabled without ``catalog_name``/``schema_name`` ("Required
  when enabling inference tables"), or moved to another catalog, schema or prefix while
  enabled ("On update, you have to disable inference table first in order to change the
  catalog name", putaigateway); legacy ``auto_capture_config`` likewise ("On update, you
  cannot change the catalog name if the inference table is already enabled");
* with ``ai_gateway_available=False``, the ai-gateway route and an ``ai_gateway`` create
  field: 404 FEATURE_DISABLED "AI Gateway is not available for this workspace." (the body
  quoted in databricks/unity-gateway#53, status as in databricks/unity-gateway#464);
* with ``legacy_inference_tables=False``, any enabled ``auto_capture_config``: "Starting
  February 20, 2026, legacy inference tables can not be enabled on new or existing model
  serving endpoints" (enable-model-serving-inference-tables) — 400 INVALID_PARAMETER_VALUE;
* secret scope names other than alphanumerics, dashes, underscores, ``@`` and periods up to
  128 characters, compared case-insensitively ("Secret scope names are case insensitive",
  secret-scopes); duplicates (RESOURCE_ALREADY_EXISTS); more than 1000 scopes
  (RESOURCE_LIMIT_EXCEEDED); ``initial_manage_principal`` other than ``users`` ("The only
  supported principal for this option is the group users"); secrets put into a missing scope
  (RESOURCE_DOES_NOT_EXIST), keys outside alphanumerics, dashes, underscores and periods up
  to 128 characters, values over 128 KB, more than 1000 secrets in a scope, and neither or
  both of ``string_value``/``bytes_value`` ("Exactly one must be specified";
  MALFORMED_REQUEST "if request is incorrectly formatted or conflicting") — all from
  SecretsAPI.create_scope / put_secret;
* grants on securables not registered with :meth:`ServingEmulator.register_table` (404
  RESOURCE_DOES_NOT_EXIST, "Catalog 'x' does not exist."), privileges outside the
  ``Privilege`` enum, privileges a securable type does not take (400, message shaped as
  quoted in databricks/terraform-provider-databricks#5398: "Privilege USE CONNECTION is not
  applicable to this entity [...]"; applicability from the Unity Catalog privileges page),
  and, when principals are declared, unknown principals ("Could not find principal with name
  x", PRINCIPAL_DOES_NOT_EXIST).

Plain-text environment variables are **accepted**: Model Serving "supports plain text
environment variables and secrets-based environment variables" (store-env-variable-model-
serving). A secret reference ``{{secrets/scope/key}}`` whose secret does not exist fails the
deployment (UPDATE_FAILED), modelling the requirement that "the endpoint creator must have
READ access to the Databricks secrets being referenced in the configs"; the documentation
does not say the create call itself rejects it.

Behaviour it models: a new endpoint is NOT_READY with its config in ``pending_config`` and
``config_update`` IN_PROGRESS; after ``ready_after_polls`` GETs of the endpoint the config
becomes active and the endpoint READY / NOT_UPDATING. A config update stays IN_PROGRESS for
``update_after_polls`` GETs while the old config keeps serving. A deployment fails
(UPDATE_FAILED, served entity DEPLOYMENT_FAILED with its message) when
:meth:`ServingEmulator.fail_deployment` scripted it or a referenced secret is missing. AI
Gateway changes apply at once.

Faults are injected per test with :meth:`ServingEmulator.inject`: an HTTP error (429, 500,
502, 503, 504 with the matching error code and an optional ``Retry-After``), optionally
after the request took effect (a lost answer), or a delay. Every request is recorded with
its raw body in :attr:`ServingEmulator.requests`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators._workspace import (
    ApiError,
    Fault,
    RecordedRequest,
    WorkspaceEmulator,
    bad,
    missing,
)

__all__ = [
    "DEFAULT_TOKEN",
    "FOUNDATION_ENDPOINTS",
    "ApiError",
    "Fault",
    "RecordedRequest",
    "ServingEmulator",
]

DEFAULT_TOKEN = "dapi-serving-emulator-0123456789abcdef"
#: Foundation Model API endpoints of a current workspace (pay-per-token, all regions).
FOUNDATION_ENDPOINTS = (
    "databricks-meta-llama-3-3-70b-instruct",
    "databricks-gte-large-en",
    "databricks-claude-sonnet-4",
    "databricks-gpt-oss-120b",
)
_ENDPOINT_LEVELS = {"CAN_MANAGE", "CAN_QUERY", "CAN_VIEW"}

_WORKLOAD_SIZES = ("Small", "Medium", "Large")
_WORKLOAD_TYPES = {
    "CPU",
    "CPU_LARGE",
    "CPU_MEDIUM",
    "GPU_LARGE",
    "GPU_MEDIUM",
    "GPU_SMALL",
    "GPU_XLARGE",
    "GPU_XLARGE_8",
    "MULTIGPU_MEDIUM",
}
_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_SERVED_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_UC_MODEL = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
_SECRET_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_SECRET_REFERENCE = re.compile(r"^\{\{secrets/([^/{}]+)/([^/{}]+)\}\}$")
_MAX_SERVED_ENTITIES = 10
_MAX_SCOPES = 1000
_MAX_SECRETS_PER_SCOPE = 1000
_MAX_SECRET_BYTES = 128 * 1024
# Privilege types by securable object (Unity Catalog "privileges and securable objects").
_PRIVILEGES = {
    "CATALOG": {
        "ALL_PRIVILEGES",
        "APPLY_TAG",
        "BROWSE",
        "CREATE_FUNCTION",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_MODEL",
        "CREATE_SCHEMA",
        "CREATE_TABLE",
        "CREATE_VOLUME",
        "EXECUTE",
        "EXTERNAL_USE_SCHEMA",
        "MANAGE",
        "MODIFY",
        "READ_VOLUME",
        "REFRESH",
        "SELECT",
        "USE_CATALOG",
        "USE_SCHEMA",
        "WRITE_VOLUME",
    },
    "SCHEMA": {
        "ALL_PRIVILEGES",
        "APPLY_TAG",
        "CREATE_FUNCTION",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_MODEL",
        "CREATE_TABLE",
        "CREATE_VOLUME",
        "EXECUTE",
        "EXTERNAL_USE_SCHEMA",
        "MANAGE",
        "MODIFY",
        "READ_VOLUME",
        "REFRESH",
        "SELECT",
        "USE_SCHEMA",
        "WRITE_VOLUME",
    },
    "TABLE": {"ALL_PRIVILEGES", "APPLY_TAG", "MANAGE", "MODIFY", "SELECT"},
    "VOLUME": {"ALL_PRIVILEGES", "APPLY_TAG", "MANAGE", "READ_VOLUME", "WRITE_VOLUME"},
}
_ALL_PRIVILEGES = set().union(*_PRIVILEGES.values()) | {
    "ACCESS",
    "CREATE",
    "CREATE_CATALOG",
    "CREATE_CONNECTION",
    "CREATE_EXTERNAL_LOCATION",
    "CREATE_EXTERNAL_TABLE",
    "CREATE_EXTERNAL_VOLUME",
    "CREATE_FOREIGN_CATALOG",
    "CREATE_MANAGED_STORAGE",
    "CREATE_PROVIDER",
    "CREATE_RECIPIENT",
    "CREATE_SHARE",
    "CREATE_STORAGE_CREDENTIAL",
    "CREATE_VIEW",
    "READ_FILES",
    "USAGE",
    "USE_CONNECTION",
    "USE_PROVIDER",
    "USE_RECIPIENT",
    "USE_SHARE",
    "WRITE_FILES",
}


@dataclass
class _Config:
    """One endpoint config: what a create or update asked for, as the API echoes it."""

    served_entities: list[dict[str, Any]]
    traffic_config: dict[str, Any] | None
    auto_capture_config: dict[str, Any] | None
    version: int
    start_ms: int


@dataclass
class _Endpoint:
    name: str
    created_ms: int
    updated_ms: int
    config: _Config | None = None
    pending: _Config | None = None
    polls_left: int = 0
    failure: str | None = None
    config_update: str = "NOT_UPDATING"
    ai_gateway: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class ServingEmulator(WorkspaceEmulator):
    """A workspace's serving endpoints, secrets and grants on an ephemeral loopback port.

    Args:
        token: The personal access token every request must carry.
        ready_after_polls: GETs of a new endpoint before its first config is READY.
        update_after_polls: GETs of an endpoint before a config update lands.
        custom_workload_sizes: Workload sizes the workspace offers besides Small/Medium/Large.
        ai_gateway_available: False answers the AI Gateway route with FEATURE_DISABLED.
        legacy_inference_tables: False rejects enabling a legacy ``auto_capture_config``.
        principals: Principals Unity Catalog knows; None accepts any principal.
        creator: The user the token belongs to (endpoint ``creator``, SCIM ``Me``).

    Example:
        >>> with ServingEmulator() as ws:  # doctest: +SKIP
        ...     ws.register_model("main.movie_rag.movie_rag", "1", "2")
        ...     w = WorkspaceClient(host=ws.url, token=ws.token, auth_type="pat")
    """

    thread_name = "serving-emulator"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        ready_after_polls: int = 2,
        update_after_polls: int = 2,
        custom_workload_sizes: Iterable[str] = (),
        ai_gateway_available: bool = True,
        legacy_inference_tables: bool = True,
        principals: Iterable[str] | None = None,
        creator: str = "deployer@example.com",
    ) -> None:
        super().__init__(token=token, principal=creator)
        self.ready_after_polls = ready_after_polls
        self.update_after_polls = update_after_polls
        self.workload_sizes = (*_WORKLOAD_SIZES, *custom_workload_sizes)
        self.ai_gateway_available = ai_gateway_available
        self.legacy_inference_tables = legacy_inference_tables
        self.principals = None if principals is None else set(principals)
        self.creator = creator
        self.endpoints: dict[str, _Endpoint] = {}
        self.models: dict[str, set[str]] = {}
        self.failing_versions: dict[tuple[str, str], str] = {}
        self.scopes: dict[str, dict[str, tuple[str, int]]] = {}
        self.scope_names: dict[str, str] = {}
        self.securables: dict[tuple[str, str], str] = {}
        self.grants: dict[tuple[str, str], dict[str, set[str]]] = {}
        # Endpoints this emulator does not deploy: name -> (id, foundation?).
        self.other_endpoints: dict[str, tuple[str, bool]] = {
            name: (uuid.uuid4().hex, True) for name in FOUNDATION_ENDPOINTS
        }
        self.endpoint_acl: dict[str, dict[str, set[str]]] = {}

    # -- test controls -----------------------------------------------------------------------

    def register_model(self, name: str, *versions: str) -> None:
        """Register versions of a Unity Catalog model that endpoints may serve."""
        with self._lock:
            self.models.setdefault(name.lower(), set()).update(str(v) for v in versions)

    def register_table(self, full_name: str, securable_type: str = "TABLE") -> None:
        """Register a table, index or volume (and its catalog and schema) as securables."""
        catalog, schema, _table = full_name.split(".")
        with self._lock:
            self.securables[("CATALOG", catalog.lower())] = catalog
            self.securables[("SCHEMA", f"{catalog}.{schema}".lower())] = f"{catalog}.{schema}"
            self.securables[(securable_type, full_name.lower())] = full_name

    def add_endpoint(self, name: str) -> str:
        """A READY endpoint this emulator did not deploy (a custom LLM or embedding one)."""
        with self._lock:
            self.other_endpoints[name] = (uuid.uuid4().hex, False)
            return self.other_endpoints[name][0]

    def endpoint_permissions(self, name: str) -> dict[str, set[str]]:
        """Permission levels on an endpoint, by principal."""
        with self._lock:
            if name in self.endpoints:
                endpoint_id = self.endpoints[name].id
            else:
                endpoint_id = self.other_endpoints[name][0]
            return {
                who: set(levels) for who, levels in self.endpoint_acl.get(endpoint_id, {}).items()
            }

    def fail_deployment(self, model: str, version: str, message: str) -> None:
        """Make every config serving this model version fail with ``message``."""
        with self._lock:
            self.failing_versions[(model.lower(), str(version))] = message

    def writes(self, path_pattern: str = "") -> list[RecordedRequest]:
        """Recorded requests that could change state (anything but GET)."""
        return [r for r in self.calls(None, path_pattern) if r.method != "GET"]

    def active(self, name: str) -> _Config:
        """The config an endpoint serves now (fails the test when it serves none)."""
        with self._lock:
            config = self.endpoints[name].config
        assert config is not None, f"endpoint {name} has no active config"
        return config

    def secret_value(self, scope: str, key: str) -> str:
        """The stored value of a secret (tests only; the real API never returns it)."""
        with self._lock:
            return self.scopes[scope.lower()][key][0]

    def privileges(self, principal: str) -> dict[tuple[str, str], set[str]]:
        """Every privilege ``principal`` holds, by (securable type, full name)."""
        with self._lock:
            return {
                key: set(grants[principal])
                for key, grants in self.grants.items()
                if grants.get(principal)
            }

    # -- dispatch ----------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = path.strip("/").split("/")
        if parts == ["api", "2.0", "preview", "scim", "v2", "Me"] and method == "GET":
            # https://docs.databricks.com/api/workspace/currentuser/me
            who = self.caller.principal if self.caller is not None else self.creator
            return {"id": str(abs(hash(who)) % 10**12), "userName": who, "active": True}
        if parts[:3] == ["api", "2.0", "serving-endpoints"]:
            return self._serving(method, parts[3:], body)
        if parts[:3] == ["api", "2.0", "secrets"]:
            return self._secrets(method, "/".join(parts[3:]), query, body)
        if parts[:4] == ["api", "2.0", "permissions", "serving-endpoints"] and len(parts) == 5:
            return self._endpoint_permissions(method, parts[4], body)
        if parts[:4] == ["api", "2.1", "unity-catalog", "permissions"] and len(parts) == 6:
            return self._permissions(method, parts[4], parts[5], query, body)
        raise ApiError(404, f"No API found for '{method} {path}'", "ENDPOINT_NOT_FOUND")

    # -- serving endpoints ---------------------------------------------------------------------

    def _serving(self, method: str, rest: list[str], body: Any) -> Any:
        if not rest:
            if method == "POST":
                return self._create(_object(body))
            if method == "GET":
                # https://docs.databricks.com/api/workspace/servingendpoints/list
                return {"endpoints": [self._summary(e) for e in self.endpoints.values()]}
        elif len(rest) == 1 and rest[0] in self.other_endpoints and rest[0] not in self.endpoints:
            if method == "GET":
                return self._other_detailed(rest[0])
            raise ApiError(
                403,
                f"Endpoint '{rest[0]}' is not managed through this API.",
                "PERMISSION_DENIED",
            )
        elif len(rest) == 1:
            if method == "GET":
                # https://docs.databricks.com/api/workspace/servingendpoints/get
                endpoint = self._endpoint(rest[0])
                self._tick(endpoint)
                return self._detailed(endpoint)
            if method == "DELETE":
                # https://docs.databricks.com/api/workspace/servingendpoints/delete
                self._endpoint(rest[0])
                del self.endpoints[rest[0]]
                return {}
        elif len(rest) == 2 and method == "PUT" and rest[1] == "config":
            return self._update_config(self._endpoint(rest[0]), _object(body))
        elif len(rest) == 2 and method == "PUT" and rest[1] == "ai-gateway":
            return self._put_ai_gateway(self._endpoint(rest[0]), _object(body))
        raise ApiError(404, f"No API found for '{method} /api/2.0/serving-endpoints/...'")

    def _endpoint(self, name: str) -> _Endpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise missing(f"Endpoint with name '{name}' does not exist.")
        return endpoint

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/servingendpoints/create
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise bad("Missing required field: name")
        if not _ENDPOINT_NAME.match(name):
            raise bad(
                f"Invalid endpoint name '{name}': an endpoint name can consist of at most 63 "
                "alphanumeric characters, dashes, and underscores."
            )
        if name.startswith("databricks-"):
            raise bad(
                f"Invalid endpoint name '{name}': the prefix 'databricks-' is reserved for "
                "Databricks preconfigured endpoints."
            )
        if name in self.endpoints:
            raise ApiError(
                409, f"Endpoint with name '{name}' already exists.", "RESOURCE_ALREADY_EXISTS"
            )
        config = body.get("config")
        if not isinstance(config, dict):
            raise bad("The endpoint config must specify served entities.")
        if body.get("ai_gateway"):
            self._require_gateway()
        gateway = self._gateway_config(body.get("ai_gateway") or {}, {})
        new = self._config(config, None, version=1)
        now = _now_ms()
        endpoint = _Endpoint(name=name, created_ms=now, updated_ms=now, ai_gateway=gateway)
        self._start_update(endpoint, new, self.ready_after_polls)
        self.endpoints[name] = endpoint
        return self._detailed(endpoint)

    def _update_config(self, endpoint: _Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/servingendpoints/updateconfig
        if endpoint.config_update == "IN_PROGRESS":
            raise ApiError(
                409,
                f"Endpoint '{endpoint.name}' already has an update in progress; it can not be "
                "updated until the current update completes or fails.",
                "RESOURCE_CONFLICT",
            )
        base = endpoint.config
        if body.get("served_entities"):
            merged = {k: body.get(k) for k in ("served_entities", "traffic_config")}
        else:
            # An update of the inference table alone keeps what the endpoint serves.
            merged = {
                "served_entities": list(base.served_entities) if base else None,
                "traffic_config": base.traffic_config if base else None,
            }
        merged["auto_capture_config"] = body.get("auto_capture_config")
        version = (base.version if base else 0) + 1
        if endpoint.pending is not None:
            version = max(version, endpoint.pending.version + 1)
        new = self._config(merged, base, version=version)
        self._start_update(endpoint, new, self.update_after_polls)
        return self._detailed(endpoint)

    def _config(self, config: dict[str, Any], base: _Config | None, *, version: int) -> _Config:
        if config.get("served_models"):
            raise ApiError(501, "served_models is not emulated; use served_entities.")
        entities = config.get("served_entities")
        if not isinstance(entities, list) or not entities:
            raise bad("The endpoint config must specify at least one served entity.")
        if len(entities) > _MAX_SERVED_ENTITIES:
            raise bad("A serving endpoint can have at most ten served entities.")
        served = [self._served_entity(_object(entity)) for entity in entities]
        names = [entity["name"] for entity in served]
        if len(set(names)) != len(names):
            raise bad("Served entity names must be unique across an endpoint.")
        traffic = config.get("traffic_config")
        if traffic is None:
            share, rest = divmod(100, len(served))
            routes = [
                {"served_entity_name": n, "traffic_percentage": share + (1 if i < rest else 0)}
                for i, n in enumerate(names)
            ]
            traffic = {"routes": routes}
        self._check_traffic(_object(traffic), names)
        capture = self._auto_capture(config.get("auto_capture_config"), base)
        return _Config(served, traffic, capture, version, _now_ms())

    def _served_entity(self, entity: dict[str, Any]) -> dict[str, Any]:
        if entity.get("external_model"):
            raise bad("External models are not served by this emulator.")
        entity_name = entity.get("entity_name")
        version = entity.get("entity_version")
        if not isinstance(entity_name, str) or not entity_name:
            raise bad("Served entity must specify entity_name.")
        if not _UC_MODEL.match(entity_name):
            raise bad(
                f"Invalid entity_name '{entity_name}': a Unity Catalog model must be given as "
                "catalog_name.schema_name.model_name."
            )
        if not isinstance(version, str) or not version:
            raise bad(f"Served entity '{entity_name}' must specify entity_version.")
        if version not in self.models.get(entity_name.lower(), set()):
            raise missing(f"Model version '{entity_name}' version '{version}' does not exist.")
        default_name = f"{entity_name.split('.')[-1]}-{version}"
        name = entity.get("name", default_name)
        if not isinstance(name, str) or not _SERVED_NAME.match(name):
            raise bad(
                f"Invalid served entity name '{name}': it can consist of alphanumeric "
                "characters, dashes, and underscores."
            )
        concurrency = any(
            entity.get(k) is not None
            for k in ("min_provisioned_concurrency", "max_provisioned_concurrency")
        )
        size = entity.get("workload_size")
        if size is not None and concurrency:
            raise bad(
                "workload_size cannot be combined with min_provisioned_concurrency or "
                "max_provisioned_concurrency."
            )
        if size is None and not concurrency:
            raise bad(f"Served entity '{name}' must specify workload_size.")
        if size is not None and size not in self.workload_sizes:
            raise bad(
                f"Invalid workload_size '{size}'. Valid workload sizes are "
                + ", ".join(self.workload_sizes)
                + "."
            )
        workload_type = entity.get("workload_type", "CPU")
        if workload_type not in _WORKLOAD_TYPES:
            raise bad(f"Invalid workload_type '{workload_type}'.")
        scale = entity.get("scale_to_zero_enabled", False)
        if not isinstance(scale, bool):
            raise bad("scale_to_zero_enabled must be a boolean.")
        env = entity.get("environment_vars")
        if env is not None and (
            not isinstance(env, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        ):
            raise bad("environment_vars must map strings to strings.")
        out = {
            "name": name,
            "entity_name": entity_name,
            "entity_version": version,
            "scale_to_zero_enabled": scale,
            "workload_type": workload_type,
            "creator": self.creator,
            "creation_timestamp": _now_ms(),
        }
        if size is not None:
            out["workload_size"] = size
        for key in ("min_provisioned_concurrency", "max_provisioned_concurrency"):
            if entity.get(key) is not None:
                out[key] = entity[key]
        if env:
            out["environment_vars"] = dict(env)
        return out

    @staticmethod
    def _check_traffic(traffic: dict[str, Any], names: list[str]) -> None:
        for route in traffic.get("routes") or []:
            target = route.get("served_entity_name") or route.get("served_model_name")
            if target not in names:
                raise bad(f"Traffic route refers to unknown served entity '{target}'.")
            share = route.get("traffic_percentage")
            if not isinstance(share, int) or isinstance(share, bool) or not 0 <= share <= 100:
                raise bad("traffic_percentage must be an integer between 0 and 100 inclusive.")

    def _auto_capture(self, raw: Any, base: _Config | None) -> dict[str, Any] | None:
        current = base.auto_capture_config if base else None
        if raw is None:
            return current
        capture = _object(raw)
        enabled = capture.get("enabled", True)
        if not enabled:
            return {**(current or {}), "enabled": False}
        if not self.legacy_inference_tables:
            raise bad(
                "Legacy inference tables can no longer be enabled on model serving endpoints; "
                "use AI Gateway inference tables (ai_gateway.inference_table_config)."
            )
        if not capture.get("catalog_name") or not capture.get("schema_name"):
            raise bad("auto_capture_config requires catalog_name and schema_name.")
        prefix = capture.get("table_name_prefix") or ""
        moved = current is not None and (
            current.get("catalog_name") != capture["catalog_name"]
            or current.get("schema_name") != capture["schema_name"]
            or (current.get("table_name_prefix") or "") != prefix
        )
        if current and current.get("enabled") and moved:
            raise bad(
                "Cannot change the catalog name, schema name or table name prefix of an "
                "inference table that is already enabled; disable it first."
            )
        return {
            "catalog_name": capture["catalog_name"],
            "schema_name": capture["schema_name"],
            "table_name_prefix": prefix,
            "enabled": True,
        }

    def _start_update(self, endpoint: _Endpoint, new: _Config, polls: int) -> None:
        endpoint.pending = new
        endpoint.polls_left = polls
        endpoint.failure = self._deployment_failure(new)
        endpoint.config_update = "IN_PROGRESS"
        endpoint.updated_ms = _now_ms()
        if polls <= 0:
            self._land(endpoint)

    def _deployment_failure(self, config: _Config) -> str | None:
        for entity in config.served_entities:
            scripted = self.failing_versions.get(
                (entity["entity_name"].lower(), entity["entity_version"])
            )
            if scripted is not None:
                return scripted
            for value in (entity.get("environment_vars") or {}).values():
                match = _SECRET_REFERENCE.match(value)
                if match and match.group(2) not in self.scopes.get(match.group(1).lower(), {}):
                    return (
                        f"Failed to deploy {entity['name']}: secret reference {value} could "
                        "not be resolved; the secret does not exist or the endpoint creator "
                        "lacks READ access to it."
                    )
        return None

    def _tick(self, endpoint: _Endpoint) -> None:
        if endpoint.config_update != "IN_PROGRESS":
            return
        endpoint.polls_left -= 1
        if endpoint.polls_left <= 0:
            self._land(endpoint)

    @staticmethod
    def _land(endpoint: _Endpoint) -> None:
        if endpoint.failure is not None:
            endpoint.config_update = "UPDATE_FAILED"
            return
        endpoint.config = endpoint.pending
        endpoint.pending = None
        endpoint.config_update = "NOT_UPDATING"

    def _require_gateway(self) -> None:
        if not self.ai_gateway_available:
            raise ApiError(
                404, "AI Gateway is not available for this workspace.", "FEATURE_DISABLED"
            )

    def _put_ai_gateway(self, endpoint: _Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/servingendpoints/putaigateway
        self._require_gateway()
        endpoint.ai_gateway = self._gateway_config(body, endpoint.ai_gateway)
        endpoint.updated_ms = _now_ms()
        return endpoint.ai_gateway

    @staticmethod
    def _gateway_config(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        table = body.get("inference_table_config")
        if table is not None:
            table = _object(table)
            before = current.get("inference_table_config") or {}
            if table.get("enabled"):
                if not table.get("catalog_name") or not table.get("schema_name"):
                    raise bad(
                        "catalog_name and schema_name are required when enabling inference tables."
                    )
                if before.get("enabled") and any(
                    before.get(k) != table.get(k)
                    for k in ("catalog_name", "schema_name", "table_name_prefix")
                ):
                    raise bad(
                        "You have to disable the inference table first in order to change its "
                        "catalog name, schema name or table name prefix."
                    )
            else:
                table = {**before, **table, "enabled": False}
        # PUT replaces the whole gateway configuration.
        allowed = (
            "fallback_config",
            "guardrails",
            "inference_table_config",
            "rate_limits",
            "usage_tracking_config",
        )
        out = {k: body[k] for k in allowed if body.get(k) is not None}
        if table is not None:
            out["inference_table_config"] = table
        return out

    def _detailed(self, endpoint: _Endpoint) -> dict[str, Any]:
        ready = endpoint.config is not None
        out: dict[str, Any] = {
            "name": endpoint.name,
            "id": endpoint.id,
            "creator": self.creator,
            "creation_timestamp": endpoint.created_ms,
            "last_updated_timestamp": endpoint.updated_ms,
            "state": {
                "ready": "READY" if ready else "NOT_READY",
                "config_update": endpoint.config_update,
            },
            "permission_level": "CAN_MANAGE",
            "route_optimized": False,
            "task": "llm/v1/chat",
        }
        if endpoint.config is not None:
            out["config"] = self._config_json(endpoint.config, "DEPLOYMENT_READY", "")
        if endpoint.pending is not None:
            if endpoint.config_update == "UPDATE_FAILED":
                state, message = "DEPLOYMENT_FAILED", endpoint.failure or ""
            else:
                state, message = "DEPLOYMENT_CREATING", "Creating the served entity container."
            pending = self._config_json(endpoint.pending, state, message)
            pending["start_time"] = endpoint.pending.start_ms
            out["pending_config"] = pending
        if endpoint.ai_gateway:
            out["ai_gateway"] = endpoint.ai_gateway
        return out

    @staticmethod
    def _config_json(config: _Config, deployment: str, message: str) -> dict[str, Any]:
        entities = [
            {**entity, "state": {"deployment": deployment, "deployment_state_message": message}}
            for entity in config.served_entities
        ]
        out: dict[str, Any] = {"served_entities": entities, "config_version": config.version}
        if config.traffic_config:
            out["traffic_config"] = config.traffic_config
        if config.auto_capture_config:
            capture = dict(config.auto_capture_config)
            if capture.get("enabled"):
                prefix = capture.get("table_name_prefix") or ""
                table = f"{capture['catalog_name']}.{capture['schema_name']}.{prefix}_payload"
                capture["state"] = {"payload_table": {"name": table, "status": "ACTIVE"}}
            out["auto_capture_config"] = capture
        return out

    def _summary(self, endpoint: _Endpoint) -> dict[str, Any]:
        detailed = self._detailed(endpoint)
        return {k: detailed[k] for k in ("name", "id", "creator", "state") if k in detailed}

    # -- secrets -------------------------------------------------------------------------------

    def _secrets(self, method: str, route: str, query: dict[str, list[str]], body: Any) -> Any:
        if route == "scopes/create" and method == "POST":
            return self._create_scope(_object(body))
        if route == "scopes/list" and method == "GET":
            # https://docs.databricks.com/api/workspace/secrets/listscopes
            return {
                "scopes": [
                    {"name": name, "backend_type": "DATABRICKS"}
                    for name in self.scope_names.values()
                ]
            }
        if route == "put" and method == "POST":
            return self._put_secret(_object(body))
        if route == "list" and method == "GET":
            # https://docs.databricks.com/api/workspace/secrets/listsecrets
            scope = (query.get("scope") or [""])[0]
            secrets = self.scopes.get(scope.lower())
            if secrets is None:
                raise missing(f"Scope {scope} does not exist!")
            return {
                "secrets": [
                    {"key": key, "last_updated_timestamp": stamp}
                    for key, (_value, stamp) in secrets.items()
                ]
            }
        raise ApiError(404, f"No API found for '{method} /api/2.0/secrets/{route}'")

    def _create_scope(self, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/secrets/createscope
        scope = body.get("scope")
        if not isinstance(scope, str) or not _SCOPE_NAME.match(scope):
            raise bad(
                f"Invalid scope name '{scope}': it must consist of alphanumeric characters, "
                "dashes, underscores, @, and periods, and may not exceed 128 characters."
            )
        backend = body.get("scope_backend_type", "DATABRICKS")
        if backend != "DATABRICKS":
            raise ApiError(400, f"Unsupported scope backend type {backend}.", "BAD_REQUEST")
        principal = body.get("initial_manage_principal")
        if principal is not None and principal != "users":
            raise bad("The only supported initial_manage_principal is 'users'.")
        if scope.lower() in self.scopes:
            raise ApiError(409, f"Scope {scope} already exists!", "RESOURCE_ALREADY_EXISTS")
        if len(self.scopes) >= _MAX_SCOPES:
            raise ApiError(
                400,
                f"Maximum number of scopes ({_MAX_SCOPES}) reached.",
                "RESOURCE_LIMIT_EXCEEDED",
            )
        self.scopes[scope.lower()] = {}
        self.scope_names[scope.lower()] = scope
        return {}

    def _put_secret(self, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/secrets/putsecret
        scope, key = body.get("scope"), body.get("key")
        has_string = body.get("string_value") is not None
        has_bytes = body.get("bytes_value") is not None
        if has_string == has_bytes:
            raise ApiError(
                400,
                "Exactly one of string_value or bytes_value must be specified.",
                "MALFORMED_REQUEST",
            )
        if not isinstance(scope, str) or scope.lower() not in self.scopes:
            raise missing(f"Scope {scope} does not exist!")
        if not isinstance(key, str) or not _SECRET_KEY.match(key):
            raise bad(
                f"Invalid secret key '{key}': it must consist of alphanumeric characters, "
                "dashes, underscores, and periods, and may not exceed 128 characters."
            )
        value = body["string_value"] if has_string else body["bytes_value"]
        if not isinstance(value, str):
            raise bad("The secret value must be a string.")
        if len(value.encode()) > _MAX_SECRET_BYTES:
            raise bad("The secret value exceeds the maximum allowed size of 128 KB.")
        secrets = self.scopes[scope.lower()]
        if key not in secrets and len(secrets) >= _MAX_SECRETS_PER_SCOPE:
            raise ApiError(
                400,
                f"Maximum number of secrets in scope {scope} ({_MAX_SECRETS_PER_SCOPE}) reached.",
                "RESOURCE_LIMIT_EXCEEDED",
            )
        secrets[key] = (value, _now_ms())
        return {}

    def _other_detailed(self, name: str) -> dict[str, Any]:
        endpoint_id, foundation = self.other_endpoints[name]
        entity: dict[str, Any] = {"name": name}
        if foundation:
            entity["foundation_model"] = {"name": name.removeprefix("databricks-")}
        return {
            "name": name,
            "id": endpoint_id,
            "creator": "system" if foundation else self.creator,
            "endpoint_type": "FOUNDATION_MODEL_API" if foundation else "CUSTOM_MODEL",
            "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
            "config": {"served_entities": [entity]},
        }

    # -- endpoint permissions -----------------------------------------------------------------

    def _endpoint_permissions(self, method: str, endpoint_id: str, body: Any) -> Any:
        ids = {e.id for e in self.endpoints.values()}
        ids |= {i for i, foundation in self.other_endpoints.values() if not foundation}
        if endpoint_id not in ids:
            raise missing(f"Serving endpoint with id '{endpoint_id}' does not exist.")
        acl = self.endpoint_acl.setdefault(endpoint_id, {})
        if method == "PATCH":
            entries = _object(body).get("access_control_list")
            if not isinstance(entries, list):
                raise bad("access_control_list must be an array.")
            for entry in entries:
                entry = _object(entry)
                names = [
                    entry[k]
                    for k in ("user_name", "service_principal_name", "group_name")
                    if entry.get(k)
                ]
                if len(names) != 1:
                    raise bad("Each access control entry names exactly one principal.")
                level = entry.get("permission_level")
                if level not in _ENDPOINT_LEVELS:
                    raise bad(f"Invalid permission level '{level}' for a serving endpoint.")
                acl.setdefault(names[0], set()).add(level)
        elif method != "GET":
            raise ApiError(404, f"No API found for '{method} permissions/serving-endpoints'")
        return {
            "object_id": f"/serving-endpoints/{endpoint_id}",
            "object_type": "serving-endpoint",
            "access_control_list": [
                {
                    ("user_name" if "@" in who else "service_principal_name"): who,
                    "all_permissions": [
                        {"permission_level": level, "inherited": False} for level in sorted(levels)
                    ],
                }
                for who, levels in sorted(acl.items())
            ],
        }

    # -- Unity Catalog grants --------------------------------------------------------------------

    def _permissions(
        self,
        method: str,
        raw_type: str,
        full_name: str,
        query: dict[str, list[str]],
        body: Any,
    ) -> Any:
        securable_type = raw_type.upper()
        if securable_type not in _PRIVILEGES:
            raise bad(f"Unsupported securable type '{raw_type}'.")
        key = (securable_type, full_name.lower())
        if key not in self.securables:
            raise missing(f"{securable_type.capitalize()} '{full_name}' does not exist.")
        grants = self.grants.setdefault(key, {})
        if method == "PATCH":
            # https://docs.databricks.com/api/workspace/grants/update
            changes = _object(body).get("changes") or []
            self._check_changes(securable_type, self.securables[key], changes)
            for change in changes:
                held = grants.setdefault(change["principal"], set())
                held.update(change.get("add") or [])
                held.difference_update(change.get("remove") or [])
            if _object(body).get("omit_permissions_in_response"):
                return {}
            return {"privilege_assignments": _assignments(grants, None)}
        if method == "GET":
            # https://docs.databricks.com/api/workspace/grants/get
            principals = query.get("principal")
            sizes = query.get("max_results")
            size = sizes[0] if sizes else None
            if size is not None and (
                not size.lstrip("-").isdigit() or 0 < int(size) < 150 or int(size) < 0
            ):
                # "lesser than 0: invalid parameter error ... lesser than 150 but greater than
                # 0: invalid parameter error"
                raise bad(f"Invalid max_results {size}: use 0 or a value of at least 150.")
            principal = principals[0] if principals else None
            return {"privilege_assignments": _assignments(grants, principal)}
        raise ApiError(404, f"No API found for '{method} permissions'")

    def _check_changes(self, securable_type: str, name: str, changes: Any) -> None:
        if not isinstance(changes, list):
            raise bad("changes must be an array of permissions changes.")
        for change in changes:
            principal = _object(change).get("principal")
            if not isinstance(principal, str) or not principal:
                raise bad("Each permissions change must name a principal.")
            if self.principals is not None and principal not in self.principals:
                raise ApiError(
                    404,
                    f"Could not find principal with name {principal}",
                    "PRINCIPAL_DOES_NOT_EXIST",
                )
            for privilege in [*(change.get("add") or []), *(change.get("remove") or [])]:
                if privilege not in _ALL_PRIVILEGES:
                    raise bad(f"Unknown privilege '{privilege}'.")
                if privilege not in _PRIVILEGES[securable_type]:
                    raise bad(
                        f"Privilege {privilege.replace('_', ' ')} is not applicable to this "
                        f"entity [{name}:{securable_type}]. If this seems unexpected, please "
                        "check the privilege version of the metastore in use [1.0]."
                    )


def _assignments(grants: Mapping[str, set[str]], principal: str | None) -> list[dict[str, Any]]:
    return [
        {"principal": who, "privileges": sorted(privileges)}
        for who, privileges in sorted(grants.items())
        if privileges and (principal is None or who == principal)
    ]


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object.")
    return body


def _now_ms() -> int:
    return int(time.time() * 1000)
