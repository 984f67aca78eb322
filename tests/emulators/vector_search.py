"""A Databricks Vector Search workspace on loopback, for the real databricks-ai-search client.

Databricks is out of reach in tests, so ``AISearchClient(workspace_url=emulator.url,
personal_access_token=emulator.token)`` (and ``databricks-sdk``'s ``WorkspaceClient``) talk to
this server instead. Routes, each following its documentation (REST reference pages under
https://docs.databricks.com/api/workspace/):

* ``POST /api/2.0/vector-search/endpoints`` — vectorsearchendpoints/createendpoint
* ``GET /api/2.0/vector-search/endpoints`` — vectorsearchendpoints/listendpoints
* ``GET|DELETE /api/2.0/vector-search/endpoints/{name}`` — …/getendpoint, …/deleteendpoint
* ``POST|GET /api/2.0/vector-search/endpoints/{endpoint}/indexes`` — vectorsearchindexes/
  createindex, …/listindexes (the client creates indexes under the endpoint's path)
* ``GET|DELETE /api/2.0/vector-search[/endpoints/{endpoint}]/indexes/{index}`` —
  vectorsearchindexes/getindex, …/deleteindex
* ``POST …/indexes/{index}/sync`` — vectorsearchindexes/syncindex
* ``GET|POST …/indexes/{index}/query`` — vectorsearchindexes/queryindex; the Python client
  sends **GET with a JSON body**, the REST reference and databricks-sdk send POST
* ``GET|POST …/indexes/{index}/query-next-page`` — vectorsearchindexes/querynextpage
* ``GET|POST …/indexes/{index}/scan`` — vectorsearchindexes/scanindex (client: GET + body)
* ``POST …/indexes/{index}/upsert-data`` — vectorsearchindexes/upsertdatavectorindex
* ``DELETE …/indexes/{index}/delete-data`` — vectorsearchindexes/deletedatavectorindex; the
  client sends **DELETE with a JSON body** ``{"primary_keys": [...]}``
* ``GET /api/2.0/serving-endpoints/{name}`` — servingendpoints/get (the client looks up the
  embedding endpoint of a managed-embedding index; we check it exists before creating one)
* ``GET /.well-known/databricks-config`` — databricks-sdk's host-metadata discovery probe

What it rejects, with the real error shape ``{"error_code": ..., "message": ...}``:

* a missing bearer token (401 UNAUTHENTICATED) or a wrong one (403 PERMISSION_DENIED);
* index names that are not ``catalog.schema.name`` — the exact message of the real API
  (400 INVALID_PARAMETER_VALUE, quoted in databricks/cli#5123);
* a new endpoint beyond the workspace's endpoint quota, or an index beyond the per-endpoint
  index quota (400 QUOTA_EXCEEDED, shape quoted in databricks-demos/dbdemos#156);
* duplicates (409 RESOURCE_ALREADY_EXISTS), unknown endpoints/indexes/tables
  (404 RESOURCE_DOES_NOT_EXIST), a missing embedding serving endpoint (400, message from
  dbdemos#124), a source table without change data feed, unknown columns in
  ``columns_to_sync``/``columns``/filters, Direct Access schema types outside the documented
  list (integer, long, float, double, boolean, string, date, timestamp; vectors
  array<float>/array<double>), upserts into Delta Sync indexes and syncs of Direct Access or
  CONTINUOUS indexes (ai-dev-kit troubleshooting guide), ``num_results`` outside 1..10,000
  (the documented maximum), query vectors of the wrong dimension, ``query_text`` together
  with ``query_vector`` in an ANN query, self-managed indexes queried without a vector,
  malformed ``filters_json`` and filter operators the standard-endpoint syntax lacks
  (vector-search-filtering-guide), filters on ARRAY<STRUCT> columns ("not supported").

Behaviour it models: endpoints go PROVISIONING → ONLINE and indexes PROVISIONING_* →
ONLINE_NO_PENDING_UPDATE / ONLINE_DIRECT_ACCESS after configurable delays (instant by
default); a triggered sync shows ONLINE_TRIGGERED_UPDATE until it lands, after
``sync_delay`` seconds or ``sync_polls`` reads of the index (a real sync takes minutes, so a
client that does not poll sees the old rows).

Callers and Unity Catalog privileges: the emulator's ``token`` belongs to the workspace
user who owns everything (``owner``); further tokens (``principals``: token → principal)
are other identities — the served model's service principal, an app's — that hold only what
:meth:`VectorSearchEmulator.grant` gives them. Reading an index (get, query, next page,
scan) needs USE CATALOG on its catalog, USE SCHEMA on its schema and SELECT on the index
(the privileges the Databricks Apps and query pages list); writing to it (sync, upsert,
delete) needs MODIFY on the index, creating one CREATE TABLE on the schema. A missing
privilege is 403 PERMISSION_DENIED "User does not have <PRIVILEGE> on <Type> '<name>'.",
the shape of Unity Catalog's permission errors. ANN search is exact
over the L2 distance with score ``1 / (1 + distance²)`` (Vector Search ranks by L2; the
normalised score is what LangChain's Databricks store documents); hybrid search fuses the ANN
ranking with BM25 over every string column by reciprocal rank and returns at most 200 rows,
as documented. A Delta Sync index reads the parquet table registered for its source table
name and embeds the source column with :func:`stand_in_embedding`, a deterministic hashed
bag of words of the endpoint's dimension (1024 for databricks-gte-large-en); a sync
re-embeds only rows whose synced values changed, like the change-data-feed pipeline.

Faults are injected per test with :meth:`VectorSearchEmulator.inject`: an HTTP error
(429, 500, 503, 504 with the matching error code), a dropped connection, or a delay.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emulators import _workspace
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
    "EMBEDDING_ENDPOINTS",
    "ApiError",
    "Fault",
    "RecordedRequest",
    "VectorSearchEmulator",
    "stand_in_embedding",
]

DEFAULT_TOKEN = "dapi-emulator-0123456789abcdef"

#: Foundation-model embedding endpoints every workspace has, with their output dimension.
EMBEDDING_ENDPOINTS: dict[str, int] = {
    "databricks-bge-large-en": 1024,
    "databricks-gte-large-en": 1024,
}

_INDEX_NAME = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
_DIRECT_ACCESS_TYPES = {
    "integer",
    "long",
    "float",
    "double",
    "boolean",
    "string",
    "date",
    "timestamp",
}
_VECTOR_TYPES = {"array<float>", "array<double>"}
_FILTER_OPERATORS = ("NOT", "<", "<=", ">", ">=", "LIKE")
_MAX_RESULTS = 10_000
_HYBRID_MAX_RESULTS = 200
_PAGE_SIZE = 1000
_RRF_K = 60
_TOKEN = re.compile(r"[a-z0-9]+")


def stand_in_embedding(text: str, dimension: int) -> list[float]:
    """A deterministic unit vector for ``text``: hashed, signed bag of words and bigrams.

    Stands in for a served embedding model: same text, same vector; texts sharing words
    are close. Bigrams keep word order from being entirely lost.
    """
    tokens = _TOKEN.findall(text.lower())
    features = tokens + [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]
    vector = np.zeros(dimension, dtype=np.float64)
    for feature in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % dimension] += 1.0 if (value >> 63) & 1 else -1.0
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        vector[0], norm = 1.0, 1.0
    return (vector / norm).tolist()


@dataclass
class _Endpoint:
    name: str
    endpoint_type: str
    created: float
    ready_at: float
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def state(self, now: float) -> str:
        return "ONLINE" if now >= self.ready_at else "PROVISIONING"


@dataclass
class _Index:
    name: str
    endpoint: str
    index_type: str
    primary_key: str
    spec: dict[str, Any]
    schema: dict[str, str]
    vector_column: str | None
    source_column: str | None
    model_endpoint: str | None
    dimension: int
    ready_at: float
    pipeline_type: str | None = None
    source_table: str | None = None
    synced_columns: list[str] = field(default_factory=list)
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)
    vectors: dict[Any, np.ndarray] = field(default_factory=dict)
    sync_due: float | None = None
    sync_polls_left: int = 0
    initial_snapshot_done: bool = False
    embedded: list[Any] = field(default_factory=list)
    failure: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def managed(self) -> bool:
        return self.source_column is not None

    def detailed_state(self, now: float) -> str:
        if self.failure is not None:
            return "OFFLINE_FAILED"
        if now < self.ready_at:
            if self.index_type == "DIRECT_ACCESS":
                return "PROVISIONING_INDEX"
            return "PROVISIONING_INITIAL_SNAPSHOT"
        if self.index_type == "DIRECT_ACCESS":
            return "ONLINE_DIRECT_ACCESS"
        if self.sync_due is not None:
            return "ONLINE_TRIGGERED_UPDATE"
        return "ONLINE_NO_PENDING_UPDATE"


@dataclass
class _Table:
    path: Path
    change_data_feed: bool


class VectorSearchEmulator(WorkspaceEmulator):
    """A Vector Search workspace on an ephemeral loopback port, started by ``with``.

    Args:
        token: The personal access token every request must carry.
        max_endpoints: Vector Search endpoints the workspace may have (its quota).
        max_indexes_per_endpoint: Indexes one endpoint may host.
        endpoint_delay: Seconds an endpoint stays PROVISIONING.
        index_delay: Seconds a new index stays PROVISIONING.
        sync_delay: Seconds a triggered sync takes to land.
        sync_polls: Reads of the index (GET) a triggered sync takes to land; when set, it
            replaces ``sync_delay``.
        principals: Tokens of other identities than the owner, mapped to their principal
            name; they hold only the privileges :meth:`grant` gives them.
        owner: The principal the ``token`` belongs to (owns every securable).
        embedding_endpoints: Serving endpoints that exist, with their output dimension.
        return_vectors: Whether a query may request a Direct Access index's vector column;
            False answers such queries 400, for clients that must not rely on getting
            stored vectors back.

    Example:
        >>> with VectorSearchEmulator() as ws:  # doctest: +SKIP
        ...     ws.register_table("main.silver.movies_info", "/tmp/movies_info")
        ...     client = AISearchClient(workspace_url=ws.url, personal_access_token=ws.token)
    """

    thread_name = "vector-search-emulator"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        max_endpoints: int = 5,
        max_indexes_per_endpoint: int = 50,
        endpoint_delay: float = 0.0,
        index_delay: float = 0.0,
        sync_delay: float = 0.0,
        sync_polls: int = 0,
        principals: Mapping[str, str] | None = None,
        owner: str = "emulator@example.com",
        embedding_endpoints: Mapping[str, int] | None = None,
        return_vectors: bool = True,
    ) -> None:
        super().__init__(token=token)
        self.return_vectors = return_vectors
        self.max_endpoints = max_endpoints
        self.max_indexes_per_endpoint = max_indexes_per_endpoint
        self.endpoint_delay = endpoint_delay
        self.index_delay = index_delay
        self.sync_delay = sync_delay
        self.sync_polls = sync_polls
        self.principals = dict(principals or {})
        self.owner = owner
        self.grants: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.embedding_endpoints = dict(
            EMBEDDING_ENDPOINTS if embedding_endpoints is None else embedding_endpoints
        )
        self.endpoints: dict[str, _Endpoint] = {}
        self.indexes: dict[str, _Index] = {}
        self.tables: dict[str, _Table] = {}
        self._pages: dict[str, tuple[list[str], list[list[Any]]]] = {}

    # -- test controls -----------------------------------------------------------------------

    def grant(self, principal: str, securable_type: str, full_name: str, *privileges: str) -> None:
        """Grant privileges (``USE CATALOG``, ``USE SCHEMA``, ``SELECT``, ``MODIFY``, ...)."""
        key = (securable_type.upper(), full_name.lower())
        with self._lock:
            held = self.grants.setdefault(key, {}).setdefault(principal, set())
            held.update(p.upper().replace("_", " ") for p in privileges)

    def start(self) -> None:
        """Serve on loopback, telling callers apart by their bearer token."""
        self._server = _workspace._Server(("127.0.0.1", 0), _CallerHandler)
        self._server.emulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()

    @property
    def caller(self) -> str:
        """The principal of the request being handled (the owner outside requests)."""
        return getattr(_caller, "name", self.owner)

    def _require(self, privilege: str, securable_type: str, full_name: str) -> None:
        principal = self.caller
        if principal == self.owner:
            return
        held = self.grants.get((securable_type.upper(), full_name.lower()), {}).get(
            principal, set()
        )
        if privilege not in held and "ALL PRIVILEGES" not in held:
            raise ApiError(
                403,
                f"User does not have {privilege} on {securable_type.title()} '{full_name}'.",
                "PERMISSION_DENIED",
            )

    def _require_index(self, name: str, privilege: str, securable_type: str = "Index") -> None:
        catalog, schema, _ = name.split(".")
        self._require("USE CATALOG", "Catalog", catalog)
        self._require("USE SCHEMA", "Schema", f"{catalog}.{schema}")
        if securable_type == "Schema":
            self._require(privilege, "Schema", f"{catalog}.{schema}")
        else:
            self._require(privilege, "Index", name)

    def register_table(self, name: str, path: str | Path, *, change_data_feed: bool = True) -> None:
        """Map a Unity Catalog table name onto a local parquet table (file or directory)."""
        with self._lock:
            self.tables[name] = _Table(Path(path), change_data_feed)

    def index_rows(self, name: str) -> dict[Any, dict[str, Any]]:
        """The rows an index serves now (a copy), by primary key."""
        with self._lock:
            self._advance(time.monotonic())
            return {key: dict(row) for key, row in self.indexes[name].rows.items()}

    def embedded(self, name: str) -> list[Any]:
        """Primary keys of every row a Delta Sync index embedded, in order (all syncs)."""
        with self._lock:
            self._advance(time.monotonic())
            return list(self.indexes[name].embedded)

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        """Answer one authorised request (raises :class:`ApiError` for error answers)."""
        with self._lock:
            self._advance(time.monotonic())
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:3] == ["api", "2.0", "serving-endpoints"] and len(parts) == 4 and method == "GET":
            return self._serving_endpoint(parts[3])
        if parts[:3] != ["api", "2.0", "vector-search"]:
            raise ApiError(404, f"No API found for '{method} {path}'", "ENDPOINT_NOT_FOUND")
        rest = parts[3:]
        if rest[:1] == ["endpoints"]:
            if len(rest) == 1:
                return self._endpoints_collection(method, body)
            if len(rest) == 2:
                return self._endpoint_item(method, rest[1])
            if rest[2] == "indexes":
                if len(rest) == 3:
                    return self._indexes_collection(method, rest[1], body)
                return self._index_route(method, rest[3], rest[4:], query, body, rest[1])
        if rest[:1] == ["indexes"] and len(rest) >= 2:
            return self._index_route(method, rest[1], rest[2:], query, body, None)
        raise ApiError(404, f"No API found for '{method} {path}'", "ENDPOINT_NOT_FOUND")

    # -- time --------------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Land whatever became due: initial snapshots and triggered syncs."""
        for index in self.indexes.values():
            if index.index_type != "DELTA_SYNC" or index.failure is not None:
                continue
            if not index.initial_snapshot_done and now >= index.ready_at:
                index.initial_snapshot_done = True
                self._sync_from_table(index)
            if index.sync_due is not None and now >= index.sync_due:
                index.sync_due = None
                self._sync_from_table(index)

    # -- serving endpoints ---------------------------------------------------------------------

    def _serving_endpoint(self, name: str) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/servingendpoints/get
        if name not in self.embedding_endpoints:
            raise missing(f"Endpoint with name '{name}' does not exist.")
        return {
            "name": name,
            "id": hashlib.md5(name.encode()).hexdigest(),
            "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
            "task": "llm/v1/embeddings",
            "route_optimized": False,
        }

    # -- endpoints ---------------------------------------------------------------------------

    def _endpoints_collection(self, method: str, body: Any) -> Any:
        if method == "GET":
            # https://docs.databricks.com/api/workspace/vectorsearchendpoints/listendpoints
            now = time.monotonic()
            return {"endpoints": [self._endpoint_info(e, now) for e in self.endpoints.values()]}
        if method != "POST":
            raise ApiError(405, f"{method} is not allowed here", "BAD_REQUEST")
        # https://docs.databricks.com/api/workspace/vectorsearchendpoints/createendpoint
        body = _object(body)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("Missing required field: name")
        endpoint_type = body.get("endpoint_type", "STANDARD")
        if endpoint_type not in ("STANDARD", "STORAGE_OPTIMIZED"):
            raise bad(
                f"Invalid endpoint_type '{endpoint_type}'. "
                "Supported values: STANDARD, STORAGE_OPTIMIZED."
            )
        if name in self.endpoints:
            raise ApiError(
                409,
                f"Vector search endpoint with name {name} already exists",
                "RESOURCE_ALREADY_EXISTS",
            )
        if len(self.endpoints) >= self.max_endpoints:
            count = len(self.endpoints)
            raise ApiError(
                400,
                "Maximum number of vector search endpoints exceeded for this workspace. "
                f"Current number of endpoints {count} must be less than {self.max_endpoints}.",
                "QUOTA_EXCEEDED",
            )
        now = time.monotonic()
        endpoint = _Endpoint(name, endpoint_type, created=now, ready_at=now + self.endpoint_delay)
        self.endpoints[name] = endpoint
        return {"endpoint": self._endpoint_info(endpoint, now)}

    def _endpoint_item(self, method: str, name: str) -> Any:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise missing(f"Vector search endpoint {name} not found")
        if method == "GET":
            # https://docs.databricks.com/api/workspace/vectorsearchendpoints/getendpoint
            return self._endpoint_info(endpoint, time.monotonic())
        if method == "DELETE":
            # https://docs.databricks.com/api/workspace/vectorsearchendpoints/deleteendpoint
            del self.endpoints[name]
            for index_name in [n for n, i in self.indexes.items() if i.endpoint == name]:
                del self.indexes[index_name]
            return {}
        raise ApiError(405, f"{method} is not allowed here", "BAD_REQUEST")

    def _endpoint_info(self, endpoint: _Endpoint, now: float) -> dict[str, Any]:
        state = endpoint.state(now)
        created_ms = int((time.time() - (now - endpoint.created)) * 1000)
        return {
            "name": endpoint.name,
            "id": endpoint.id,
            "endpoint_type": endpoint.endpoint_type,
            "endpoint_status": {
                "state": state,
                "message": "Endpoint is ready"
                if state == "ONLINE"
                else "Endpoint is being provisioned",
            },
            "creator": "emulator@example.com",
            "creation_timestamp": created_ms,
            "last_updated_timestamp": created_ms,
            "num_indexes": sum(1 for i in self.indexes.values() if i.endpoint == endpoint.name),
        }

    # -- index collection ----------------------------------------------------------------------

    def _indexes_collection(self, method: str, endpoint_name: str, body: Any) -> Any:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is None:
            raise missing(f"Vector search endpoint {endpoint_name} not found")
        if method == "GET":
            # https://docs.databricks.com/api/workspace/vectorsearchindexes/listindexes
            return {
                "vector_indexes": [
                    {
                        "name": i.name,
                        "endpoint_name": i.endpoint,
                        "primary_key": i.primary_key,
                        "index_type": i.index_type,
                        "creator": "emulator@example.com",
                    }
                    for i in self.indexes.values()
                    if i.endpoint == endpoint_name
                ]
            }
        if method != "POST":
            raise ApiError(405, f"{method} is not allowed here", "BAD_REQUEST")
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/createindex
        return self._create_index(endpoint, _object(body))

    def _create_index(self, endpoint: _Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not _INDEX_NAME.match(name):
            raise bad(
                "Invalid index name. Must specify the full index name "
                "<catalog>.<schema>.<table>. Only alphanumerics and underscores are allowed."
            )
        self._require_index(name, "CREATE TABLE", "Schema")
        now = time.monotonic()
        if endpoint.state(now) != "ONLINE":
            raise ApiError(
                400,
                f"Vector search endpoint {endpoint.name} is not ready to host indexes "
                f"(state {endpoint.state(now)}).",
                "INVALID_STATE",
            )
        if name in self.indexes:
            raise ApiError(409, f"Index {name} already exists", "RESOURCE_ALREADY_EXISTS")
        hosted = sum(1 for i in self.indexes.values() if i.endpoint == endpoint.name)
        if hosted >= self.max_indexes_per_endpoint:
            raise ApiError(
                400,
                "Maximum number of indexes per endpoint exceeded for vector search endpoint "
                f"{endpoint.name}. Current number of indexes {hosted} must be less than "
                f"{self.max_indexes_per_endpoint}.",
                "QUOTA_EXCEEDED",
            )
        primary_key = body.get("primary_key")
        if not isinstance(primary_key, str) or not primary_key:
            raise bad("Missing required field: primary_key")
        index_type = body.get("index_type")
        if index_type == "DELTA_SYNC":
            index = self._delta_sync_index(name, endpoint, primary_key, body, now)
        elif index_type == "DIRECT_ACCESS":
            index = self._direct_access_index(name, endpoint, primary_key, body, now)
        else:
            raise bad(
                f"Invalid index_type '{index_type}'. Supported values: DELTA_SYNC, DIRECT_ACCESS."
            )
        self.indexes[name] = index
        self._advance(now)
        return self._index_info(index, now)

    def _delta_sync_index(
        self, name: str, endpoint: _Endpoint, primary_key: str, body: dict[str, Any], now: float
    ) -> _Index:
        spec = body.get("delta_sync_index_spec")
        if not isinstance(spec, dict):
            raise bad("delta_sync_index_spec is required for a DELTA_SYNC index")
        source = spec.get("source_table")
        if not isinstance(source, str) or not source:
            raise bad("Missing required field: delta_sync_index_spec.source_table")
        table = self.tables.get(source)
        if table is None or not table.path.exists():
            raise missing(f"Table '{source}' does not exist.")
        if not table.change_data_feed:
            raise bad(
                f"Change data feed is not enabled on source table {source}. Enable it with "
                f"ALTER TABLE {source} SET TBLPROPERTIES (delta.enableChangeDataFeed = true)."
            )
        pipeline_type = spec.get("pipeline_type")
        if pipeline_type not in ("TRIGGERED", "CONTINUOUS"):
            raise bad(
                f"Invalid pipeline_type '{pipeline_type}'. Supported values: TRIGGERED, CONTINUOUS."
            )
        table_schema = pq.read_schema(_parquet_file(table.path))
        columns = {f.name: f.type for f in table_schema}
        if primary_key not in columns:
            raise bad(f"Primary key column {primary_key} does not exist in table {source}.")
        sources = spec.get("embedding_source_columns") or []
        vectors = spec.get("embedding_vector_columns") or []
        if bool(sources) == bool(vectors) or len(sources) + len(vectors) != 1:
            raise bad(
                "Exactly one of embedding_source_columns or embedding_vector_columns must be "
                "specified, with one column."
            )
        source_column = vector_column = model = None
        if sources:
            source_column = sources[0].get("name")
            model = sources[0].get("embedding_model_endpoint_name")
            if source_column not in columns:
                raise bad(f"Column {source_column} does not exist in table {source}.")
            if not pa.types.is_string(columns[source_column]):
                raise bad(f"Embedding source column {source_column} must be of type string.")
            if not model:
                raise bad(
                    "embedding_model_endpoint_name is required for an embedding source column."
                )
            if model not in self.embedding_endpoints:
                raise bad(f"Failed to call Model Serving endpoint: {model}.")
            dimension = self.embedding_endpoints[model]
        else:
            vector_column = vectors[0].get("name")
            dimension = vectors[0].get("embedding_dimension")
            if vector_column not in columns:
                raise bad(f"Column {vector_column} does not exist in table {source}.")
            if not isinstance(dimension, int) or dimension <= 0:
                raise bad("embedding_dimension must be a positive integer.")
        synced = spec.get("columns_to_sync") or spec.get("columns_to_index")
        if synced is None:
            synced = list(columns)
        unknown = [c for c in synced if c not in columns]
        if unknown:
            raise bad(f"Columns {unknown} in columns_to_sync do not exist in table {source}.")
        always = [primary_key, source_column or vector_column]
        synced = list(dict.fromkeys([*always, *synced]))
        schema = {c: _type_text(columns[c]) for c in synced}
        response_spec = {
            **{k: v for k, v in spec.items() if k != "columns_to_index"},
            "pipeline_id": uuid.uuid4().hex,
        }
        return _Index(
            name=name,
            endpoint=endpoint.name,
            index_type="DELTA_SYNC",
            primary_key=primary_key,
            spec=response_spec,
            schema=schema,
            vector_column=vector_column,
            source_column=source_column,
            model_endpoint=model,
            dimension=int(dimension),
            ready_at=now + self.index_delay,
            pipeline_type=pipeline_type,
            source_table=source,
            synced_columns=synced,
        )

    def _direct_access_index(
        self, name: str, endpoint: _Endpoint, primary_key: str, body: dict[str, Any], now: float
    ) -> _Index:
        spec = body.get("direct_access_index_spec")
        if not isinstance(spec, dict):
            raise bad("direct_access_index_spec is required for a DIRECT_ACCESS index")
        vectors = spec.get("embedding_vector_columns") or []
        if len(vectors) != 1:
            raise bad("Exactly one embedding vector column must be specified.")
        vector_column = vectors[0].get("name")
        dimension = vectors[0].get("embedding_dimension")
        if not isinstance(dimension, int) or dimension <= 0:
            raise bad("embedding_dimension must be a positive integer.")
        try:
            schema = json.loads(spec.get("schema_json") or "")
        except ValueError as exc:
            raise bad(f"schema_json is not valid JSON: {exc}") from exc
        if not isinstance(schema, dict) or not schema:
            raise bad("schema_json must be a JSON object mapping column names to types.")
        for column, type_text in schema.items():
            if column == vector_column:
                if type_text not in _VECTOR_TYPES:
                    raise bad(
                        f"Embedding vector column {column} must be array<float> or array<double>."
                    )
            elif type_text not in _DIRECT_ACCESS_TYPES:
                raise bad(
                    f"Unsupported type '{type_text}' for column {column}. Supported types: "
                    f"{', '.join(sorted(_DIRECT_ACCESS_TYPES))}."
                )
        if vector_column not in schema:
            raise bad(f"Embedding vector column {vector_column} is not in schema_json.")
        if primary_key not in schema:
            raise bad(f"Primary key column {primary_key} is not in schema_json.")
        if schema[primary_key] not in ("integer", "long", "string"):
            raise bad(f"Primary key column {primary_key} must be of type integer, long or string.")
        return _Index(
            name=name,
            endpoint=endpoint.name,
            index_type="DIRECT_ACCESS",
            primary_key=primary_key,
            spec=dict(spec),
            schema=dict(schema),
            vector_column=vector_column,
            source_column=None,
            model_endpoint=None,
            dimension=dimension,
            ready_at=now + self.index_delay,
        )

    # -- one index -----------------------------------------------------------------------------

    def _index_route(
        self,
        method: str,
        name: str,
        action: list[str],
        query: dict[str, list[str]],
        body: Any,
        endpoint_name: str | None,
    ) -> Any:
        index = self.indexes.get(name)
        if index is None or (endpoint_name is not None and index.endpoint != endpoint_name):
            raise missing(f"Vector index {name} does not exist.")
        now = time.monotonic()
        reads = not action or action[0] in ("query", "query-next-page", "scan")
        self._require_index(name, "SELECT" if reads and method != "DELETE" else "MODIFY")
        if not action:
            if method == "GET":
                # https://docs.databricks.com/api/workspace/vectorsearchindexes/getindex
                if index.sync_polls_left > 0:
                    index.sync_polls_left -= 1
                    if index.sync_polls_left == 0:
                        index.sync_due = now
                        self._advance(now)
                return self._index_info(index, now)
            if method == "DELETE":
                # https://docs.databricks.com/api/workspace/vectorsearchindexes/deleteindex
                del self.indexes[name]
                return {}
            raise ApiError(405, f"{method} is not allowed here", "BAD_REQUEST")
        verb = action[0]
        if verb == "sync" and method == "POST":
            return self._sync(index, now)
        if verb == "query" and method in ("GET", "POST"):
            return self._query(index, _object(body), now)
        if verb == "query-next-page" and method in ("GET", "POST"):
            return self._next_page(_object(body))
        if verb == "scan" and method in ("GET", "POST"):
            return self._scan(index, _object(body), now)
        if verb == "upsert-data" and method == "POST":
            return self._upsert(index, _object(body), now)
        if verb == "delete-data" and method == "DELETE":
            keys = body.get("primary_keys") if isinstance(body, dict) else query.get("primary_keys")
            return self._delete_rows(index, keys, now)
        raise ApiError(
            404, f"No API found for '{method} .../{'/'.join(action)}'", "ENDPOINT_NOT_FOUND"
        )

    def _index_info(self, index: _Index, now: float) -> dict[str, Any]:
        state = index.detailed_state(now)
        ready = "ONLINE" in state
        info: dict[str, Any] = {
            "name": index.name,
            "endpoint_name": index.endpoint,
            "primary_key": index.primary_key,
            "index_type": index.index_type,
            "creator": "emulator@example.com",
            "status": {
                "detailed_state": state,
                "message": index.failure
                or ("Index is ready" if ready else "Index is being provisioned"),
                "indexed_row_count": len(index.rows),
                "ready": ready,
                "index_url": f"{self.url.removeprefix('http://')}/api/2.0/vector-search"
                f"/endpoints/{index.endpoint}/indexes/{index.name}",
            },
        }
        key = (
            "delta_sync_index_spec"
            if index.index_type == "DELTA_SYNC"
            else "direct_access_index_spec"
        )
        info[key] = index.spec
        return info

    def _require_online(self, index: _Index, now: float) -> None:
        state = index.detailed_state(now)
        if "ONLINE" not in state:
            raise ApiError(
                400,
                f"Index {index.name} is not ready to serve requests (state {state}).",
                "INVALID_STATE",
            )

    # -- sync ----------------------------------------------------------------------------------

    def _sync(self, index: _Index, now: float) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/syncindex
        if index.index_type != "DELTA_SYNC":
            raise bad(f"Index {index.name} is not a Delta Sync index; only those can be synced.")
        if index.pipeline_type != "TRIGGERED":
            raise bad(
                f"Index {index.name} uses a CONTINUOUS pipeline, which syncs on its own; "
                "only TRIGGERED pipelines can be synced manually."
            )
        self._require_online(index, now)
        if self.sync_polls > 0:
            index.sync_due = math.inf  # lands after that many reads of the index
            index.sync_polls_left = self.sync_polls
            return {}
        index.sync_due = now + self.sync_delay
        self._advance(now)
        return {}

    def _sync_from_table(self, index: _Index) -> None:
        table = self.tables.get(index.source_table or "")
        if table is None or not table.path.exists():
            index.failure = f"Source table {index.source_table} does not exist."
            return
        data = pq.read_table(table.path)
        missing = [c for c in index.synced_columns if c not in data.column_names]
        if missing:
            index.failure = f"Columns {missing} are missing from source table {index.source_table}."
            return
        seen: set[Any] = set()
        for record in data.select(index.synced_columns).to_pylist():
            key = record[index.primary_key]
            seen.add(key)
            if index.rows.get(key) == record and key in index.vectors:
                continue
            index.rows[key] = record
            if index.managed:
                text = record[index.source_column] or ""
                index.vectors[key] = np.asarray(stand_in_embedding(text, index.dimension))
                index.embedded.append(key)
            else:
                index.vectors[key] = np.asarray(record[index.vector_column], dtype=np.float64)
        for key in [k for k in index.rows if k not in seen]:
            del index.rows[key]
            index.vectors.pop(key, None)

    # -- writes (Direct Access) ----------------------------------------------------------------

    def _upsert(self, index: _Index, body: dict[str, Any], now: float) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/upsertdatavectorindex
        if index.index_type != "DIRECT_ACCESS":
            raise bad(
                f"Index {index.name} is a Delta Sync index: its rows come from its source "
                "table; upsert-data only works on Direct Vector Access indexes."
            )
        self._require_online(index, now)
        raw = body.get("inputs_json")
        if not isinstance(raw, str):
            raise bad("Missing required field: inputs_json")
        try:
            inputs = json.loads(raw)
        except ValueError as exc:
            raise bad(f"inputs_json is not valid JSON: {exc}") from exc
        if not isinstance(inputs, list) or not all(isinstance(row, dict) for row in inputs):
            raise bad("inputs_json must be a JSON array of objects.")
        failed: list[str] = []
        succeeded = 0
        for row in inputs:
            key = row.get(index.primary_key)
            if self._row_problem(index, row) is not None:
                failed.append(str(key))
                continue
            index.rows[key] = {c: row.get(c) for c in index.schema if c != index.vector_column}
            index.vectors[key] = np.asarray(row[index.vector_column], dtype=np.float64)
            succeeded += 1
        status = "SUCCESS" if not failed else ("PARTIAL_SUCCESS" if succeeded else "FAILURE")
        return {
            "status": status,
            "result": {"success_row_count": succeeded, "failed_primary_keys": failed},
        }

    def _row_problem(self, index: _Index, row: dict[str, Any]) -> str | None:
        unknown = [c for c in row if c not in index.schema]
        if unknown:
            return f"unknown columns {unknown}"
        if row.get(index.primary_key) is None:
            return "missing primary key"
        vector = row.get(index.vector_column or "")
        if not isinstance(vector, list) or len(vector) != index.dimension:
            return "vector of the wrong dimension"
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in vector):
            return "vector with non-numeric values"
        for column, value in row.items():
            if column != index.vector_column and not _fits(index.schema[column], value):
                return f"{column} is not a {index.schema[column]}"
        return None

    def _delete_rows(self, index: _Index, keys: Any, now: float) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/deletedatavectorindex
        if index.index_type != "DIRECT_ACCESS":
            raise bad(
                f"Index {index.name} is a Delta Sync index; delete-data only works on Direct "
                "Vector Access indexes."
            )
        self._require_online(index, now)
        if not isinstance(keys, list):
            raise bad("Missing required field: primary_keys")
        deleted = 0
        for key in keys:
            for candidate in (key, _as_key(index, key)):
                if candidate in index.rows:
                    del index.rows[candidate]
                    index.vectors.pop(candidate, None)
                    deleted += 1
                    break
        return {
            "status": "SUCCESS",
            "result": {"success_row_count": deleted, "failed_primary_keys": []},
        }

    # -- reads ---------------------------------------------------------------------------------

    def _scan(self, index: _Index, body: dict[str, Any], now: float) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/scanindex
        self._require_online(index, now)
        num_results = body.get("num_results", 10)
        if not isinstance(num_results, int) or isinstance(num_results, bool) or num_results < 1:
            raise bad("num_results must be a positive integer.")
        keys = sorted(index.rows, key=_sort_key)
        last = body.get("last_primary_key")
        if last is not None:
            bound = _sort_key(_as_key(index, last))
            keys = [k for k in keys if _sort_key(k) > bound]
        page = keys[:num_results]
        data = []
        for key in page:
            record = dict(index.rows[key])
            if not index.managed:
                record[index.vector_column or ""] = index.vectors[key].tolist()
            data.append(_struct(record))
        answer: dict[str, Any] = {"data": data}
        if page:
            answer["last_primary_key"] = str(page[-1])
        return answer

    def _query(self, index: _Index, body: dict[str, Any], now: float) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/queryindex
        self._require_online(index, now)
        endpoint = self.endpoints.get(index.endpoint)
        num_results = body.get("num_results", 10)
        if not isinstance(num_results, int) or isinstance(num_results, bool):
            raise bad("num_results must be an integer.")
        if not 1 <= num_results <= _MAX_RESULTS:
            raise bad(f"num_results must be between 1 and {_MAX_RESULTS}, got {num_results}.")
        columns = body.get("columns")
        if not isinstance(columns, list) or not columns:
            raise bad("Missing required field: columns")
        queryable = set(index.schema)
        if not self.return_vectors and index.vector_column is not None:
            queryable.discard(index.vector_column)
        unknown = [c for c in columns if c not in queryable]
        if unknown:
            raise bad(
                "Requested columns to fetch are not present in index: "
                + ", ".join(map(str, unknown))
            )
        query_type = str(body.get("query_type") or "ANN").upper()
        if query_type not in ("ANN", "HYBRID", "FULL_TEXT"):
            raise bad(
                f"Invalid query_type '{body.get('query_type')}'. Supported: ANN, HYBRID, FULL_TEXT."
            )
        if (
            query_type == "FULL_TEXT"
            and endpoint is not None
            and endpoint.endpoint_type == "STANDARD"
        ):
            raise bad("FULL_TEXT queries are only supported on STORAGE_OPTIMIZED endpoints.")
        if body.get("filter_string") is not None and (
            endpoint is None or endpoint.endpoint_type == "STANDARD"
        ):
            raise bad(
                "filter_string is the storage-optimized filter syntax; standard endpoints take "
                "filters_json."
            )
        query_vector = self._query_vector(index, body, query_type)
        query_text = body.get("query_text")
        predicate = _compile_filters(body.get("filters_json"), index)
        keys = [k for k in index.rows if predicate(index.rows[k])]
        scores = self._scores(index, keys, query_vector, query_text, query_type)
        threshold = body.get("score_threshold")
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            scores = {k: s for k, s in scores.items() if s >= threshold}
        ranked = sorted(scores, key=lambda k: (-scores[k], _sort_key(k)))
        limit = min(num_results, _HYBRID_MAX_RESULTS) if query_type == "HYBRID" else num_results
        rows = [
            [self._cell(index, key, c) for c in columns] + [scores[key]] for key in ranked[:limit]
        ]
        return self._page(columns, rows)

    def _query_vector(
        self, index: _Index, body: dict[str, Any], query_type: str
    ) -> np.ndarray | None:
        text = body.get("query_text")
        vector = body.get("query_vector")
        if text is not None and not isinstance(text, str):
            raise bad("query_text must be a string.")
        if vector is not None:
            if not isinstance(vector, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in vector
            ):
                raise bad("query_vector must be an array of numbers.")
            if len(vector) != index.dimension:
                raise bad(
                    f"Query vector dimension {len(vector)} does not match the index's embedding "
                    f"dimension {index.dimension}."
                )
        if query_type == "ANN" and text and vector:
            raise bad("You cannot specify both query_vector and query_text in an ANN query.")
        if query_type == "FULL_TEXT":
            if not text:
                raise bad("query_text is required for a FULL_TEXT query.")
            return None
        if index.managed:
            if not text and not vector:
                raise bad("Either query_text or query_vector is required.")
            if query_type == "HYBRID" and not text:
                raise bad("query_text is required for a HYBRID query.")
            if vector:
                return np.asarray(vector, dtype=np.float64)
            return np.asarray(stand_in_embedding(text or "", index.dimension))
        if not vector:
            raise bad(
                "query_vector is required: this index holds self-managed embeddings, so the "
                "caller computes the query embedding."
            )
        if query_type == "HYBRID" and not text:
            raise bad("query_text is required for a HYBRID query on self-managed embeddings.")
        return np.asarray(vector, dtype=np.float64)

    def _scores(
        self,
        index: _Index,
        keys: list[Any],
        query_vector: np.ndarray | None,
        query_text: str | None,
        query_type: str,
    ) -> dict[Any, float]:
        if not keys:
            return {}
        dense: dict[Any, float] = {}
        if query_vector is not None:
            matrix = np.stack([index.vectors[k] for k in keys])
            distances = np.sum((matrix - query_vector) ** 2, axis=1)
            dense = {k: float(1.0 / (1.0 + d)) for k, d in zip(keys, distances, strict=True)}
        if query_type == "ANN":
            return dense
        keyword = _bm25(self._texts(index, keys), query_text or "")
        if query_type == "FULL_TEXT":
            return {k: s for k, s in keyword.items() if s > 0}
        fused: dict[Any, float] = dict.fromkeys(keys, 0.0)
        for ranking in (
            sorted(dense, key=lambda k: (-dense[k], _sort_key(k))),
            sorted(
                (k for k in keyword if keyword[k] > 0), key=lambda k: (-keyword[k], _sort_key(k))
            ),
        ):
            for rank, key in enumerate(ranking, start=1):
                fused[key] += 1.0 / (_RRF_K + rank)
        return fused

    def _texts(self, index: _Index, keys: list[Any]) -> dict[Any, str]:
        text_columns = [c for c, t in index.schema.items() if t == "string"]
        return {k: " ".join(str(index.rows[k].get(c) or "") for c in text_columns) for k in keys}

    def _cell(self, index: _Index, key: Any, column: str) -> Any:
        if column == index.vector_column:
            return index.vectors[key].tolist()
        return index.rows[key].get(column)

    def _page(self, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
        names = [*columns, "score"]
        answer: dict[str, Any] = {
            "manifest": {"column_count": len(names), "columns": [{"name": n} for n in names]},
            "result": {"row_count": min(len(rows), _PAGE_SIZE), "data_array": rows[:_PAGE_SIZE]},
        }
        if len(rows) > _PAGE_SIZE:
            token = uuid.uuid4().hex
            self._pages[token] = (names, rows[_PAGE_SIZE:])
            answer["next_page_token"] = token
        return answer

    def _next_page(self, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/vectorsearchindexes/querynextpage
        token = body.get("page_token")
        if token not in self._pages:
            raise bad("Invalid or expired page_token.")
        names, rows = self._pages.pop(token)
        return self._page(names[:-1], rows)


# -- callers -------------------------------------------------------------------------------------

_caller = threading.local()


class _CallerHandler(_workspace._Handler):
    """The shared handler, also accepting the tokens of other principals (and noting whose)."""

    def _authorised(self, record: RecordedRequest) -> bool:
        emulator = self.server.emulator
        assert isinstance(emulator, VectorSearchEmulator)
        header = self.headers.get("Authorization") or ""
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        if token is not None and token in emulator.principals:
            _caller.name = emulator.principals[token]
            return True
        _caller.name = emulator.owner
        return super()._authorised(record)


# -- filters (standard-endpoint dictionary syntax) ------------------------------------------------


def _compile_filters(raw: Any, index: _Index) -> Any:
    """A predicate over a row for ``filters_json`` (vector-search-filtering-guide).

    Keys are ``"column"`` (exact match; a list matches any value; on an array column,
    "contains"), ``"column NOT"``, ``"column <"`` / ``<=`` / ``>`` / ``>=``, ``"column LIKE"``
    (token match) and ``"col1 OR col2"`` with one value per column. Keys combine with AND; a
    JSON array of such objects is their AND. Nulls fail every condition.
    """
    if raw is None or raw == "":
        return lambda row: True
    if not isinstance(raw, str):
        raise bad("filters_json must be a JSON string.")
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise bad(f"filters_json is not valid JSON: {exc}") from exc
    clauses = parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(c, dict) for c in clauses):
        raise bad("filters_json must be a JSON object (or an array of objects).")
    conditions = [
        _condition(key, value, index) for clause in clauses for key, value in clause.items()
    ]
    return lambda row: all(condition(row) for condition in conditions)


def _condition(key: str, value: Any, index: _Index) -> Any:
    if " OR " in key:
        columns = [c.strip() for c in key.split(" OR ")]
        if not isinstance(value, list) or len(value) != len(columns):
            raise bad(f"Filter '{key}' needs a list with one value per column.")
        parts = [_condition(c, v, index) for c, v in zip(columns, value, strict=True)]
        return lambda row: any(part(row) for part in parts)
    column, _, operator = key.strip().partition(" ")
    operator = operator.strip().upper()
    if operator and operator not in _FILTER_OPERATORS:
        raise bad(f"Unsupported filter operator '{operator}' in '{key}'.")
    type_text = index.schema.get(column)
    if type_text is None or column == index.vector_column:
        raise bad(f"Filter column '{column}' does not exist in index {index.name}.")
    if type_text.startswith("array<struct"):
        raise bad(f"Filters on column '{column}' (ARRAY<STRUCT>) are not supported.")
    is_array = type_text.startswith("array<")
    if operator in ("<", "<=", ">", ">="):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad(f"Filter '{key}' needs a numeric value.")
        if is_array or type_text in ("string", "boolean"):
            raise bad(f"Operator '{operator}' is not supported on column '{column}' ({type_text}).")
        compare = {
            "<": lambda a: a < value,
            "<=": lambda a: a <= value,
            ">": lambda a: a > value,
            ">=": lambda a: a >= value,
        }[operator]
        return lambda row: _known(row.get(column)) and compare(row[column])
    if operator == "LIKE":
        if not isinstance(value, str):
            raise bad(f"Filter '{key}' needs a string value.")
        wanted = set(_TOKEN.findall(value.lower()))
        return lambda row: (
            _known(row.get(column)) and wanted <= set(_TOKEN.findall(str(row[column]).lower()))
        )
    values = value if isinstance(value, list) else [value]
    if operator == "NOT":
        return lambda row: _known(row.get(column)) and not _equals(row[column], values, is_array)
    return lambda row: _known(row.get(column)) and _equals(row[column], values, is_array)


def _equals(cell: Any, values: list[Any], is_array: bool) -> bool:
    items = cell if is_array and isinstance(cell, list) else [cell]
    return any(_same(item, wanted) for item in items for wanted in values)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


# -- keyword scoring -------------------------------------------------------------------------------


def _bm25(
    texts: Mapping[Any, str], query: str, k1: float = 1.5, b: float = 0.75
) -> dict[Any, float]:
    terms = set(_TOKEN.findall(query.lower()))
    if not terms or not texts:
        return dict.fromkeys(texts, 0.0)
    bags = {k: Counter(_TOKEN.findall(t.lower())) for k, t in texts.items()}
    average = sum(sum(bag.values()) for bag in bags.values()) / len(bags) or 1.0
    scores: dict[Any, float] = {}
    for key, bag in bags.items():
        length = sum(bag.values())
        score = 0.0
        for term in terms:
            frequency = bag.get(term, 0)
            if not frequency:
                continue
            having = sum(1 for other in bags.values() if term in other)
            idf = math.log(1 + (len(bags) - having + 0.5) / (having + 0.5))
            score += idf * frequency * (k1 + 1) / (frequency + k1 * (1 - b + b * length / average))
        scores[key] = score
    return scores


# -- values ----------------------------------------------------------------------------------------


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.", "MALFORMED_REQUEST")
    return body


def _parquet_file(path: Path) -> Path:
    if path.is_file():
        return path
    return next(p for p in sorted(path.rglob("*.parquet")) if not p.name.startswith((".", "_")))


def _type_text(arrow_type: pa.DataType) -> str:
    if (
        pa.types.is_int32(arrow_type)
        or pa.types.is_int16(arrow_type)
        or pa.types.is_int8(arrow_type)
    ):
        return "int"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        inner = arrow_type.value_type
        if pa.types.is_struct(inner):
            return "array<struct>"
        return f"array<{_type_text(inner)}>"
    return str(arrow_type)


def _fits(type_text: str, value: Any) -> bool:
    if value is None:
        return True
    if type_text in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if type_text in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_text == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


def _as_key(index: _Index, raw: Any) -> Any:
    type_text = index.schema.get(index.primary_key, "string")
    if type_text in ("integer", "long", "int", "bigint"):
        try:
            return int(float(raw))
        except (TypeError, ValueError):
            return raw
    return str(raw)


def _sort_key(key: Any) -> tuple[int, Any]:
    return (0, key) if isinstance(key, int | float) else (1, str(key))


def _value(value: Any) -> dict[str, Any]:
    """A protobuf ``Value`` as JSON (the scan route's row encoding)."""
    if value is None:
        return {"null_value": "NULL_VALUE"}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int | float):
        return {"number_value": value}
    if isinstance(value, str):
        return {"string_value": value}
    if isinstance(value, Mapping):
        return {"struct_value": _struct(value)}
    if isinstance(value, Iterable):
        return {"list_value": {"values": [_value(v) for v in value]}}
    return {"string_value": str(value)}


def _struct(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"fields": [{"key": k, "value": _value(v)} for k, v in record.items()]}
