"""Creating, waiting for and deleting the Vector Search endpoint and index."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from movie_rag.errors import ConfigurationError
from movie_rag.index.base import IndexNotReadyError
from movie_rag.index.databricks.client import _VectorSearchClient
from movie_rag.index.databricks.codec import (
    PRIMARY_KEY,
    PUBLIC_COLUMNS,
    SOURCE_COLUMN,
    VECTOR_COLUMN,
    direct_schema,
)
from movie_rag.index.databricks.errors import (
    DEFAULT_EMBEDDING_ENDPOINT,
    EmbeddingEndpointNotFoundError,
    VectorSearchError,
    VectorSearchQuotaError,
    _Missing,
)

if TYPE_CHECKING:
    from movie_rag.index.databricks.embedder import Embedder

logger = logging.getLogger("movie_rag")

_SETTLED_STATES = frozenset({"ONLINE", "ONLINE_NO_PENDING_UPDATE", "ONLINE_DIRECT_ACCESS"})


class _Lifecycle(_VectorSearchClient):
    """Endpoint and index creation, readiness polling and deletion."""

    def delete(self) -> None:
        """Delete the index (the endpoint stays: it may host other indexes)."""
        client = self._client()
        with contextlib.suppress(_Missing):
            self._call(
                "deleting the index",
                lambda: client.delete_index(
                    endpoint_name=self.endpoint_name, index_name=self.index_name
                ),
            )
        self._wait_gone()
        self._handle = None
        self._synced_at = None
        logger.info("deleted Vector Search index %s", self.index_name)

    def delete_endpoint(self) -> None:
        """Delete the Vector Search endpoint and every index it hosts."""
        client = self._client()
        with contextlib.suppress(_Missing):
            self._call("deleting the endpoint", lambda: client.delete_endpoint(self.endpoint_name))
        self._handle = None

    def _check_embedding_endpoint(self) -> None:
        try:
            self._sdk(
                "reading the embedding endpoint",
                "GET",
                f"/api/2.0/serving-endpoints/{self.embedding_endpoint}",
            )
        except _Missing as exc:
            raise EmbeddingEndpointNotFoundError(
                f"the embedding endpoint {self.embedding_endpoint!r} does not exist in "
                f"{self.workspace_url or 'this workspace'}; use a foundation model endpoint "
                f"such as {DEFAULT_EMBEDDING_ENDPOINT!r} (set embedding_endpoint, or "
                "MOVIE_RAG_EMBEDDING_MODEL), or create a serving endpoint with that name",
                status=404,
                error_code="RESOURCE_DOES_NOT_EXIST",
            ) from exc

    def _create_managed_index(self, source: str) -> None:
        client = self._client()
        self._call(
            "creating the Delta Sync index",
            lambda: client.create_delta_sync_index(
                endpoint_name=self.endpoint_name,
                index_name=self.index_name,
                primary_key=PRIMARY_KEY,
                source_table_name=source,
                pipeline_type="TRIGGERED",
                embedding_source_column=SOURCE_COLUMN,
                embedding_model_endpoint_name=self.embedding_endpoint,
                columns_to_sync=PUBLIC_COLUMNS,
            ),
        )
        self._handle = None
        logger.info(
            "created Delta Sync index %s on %s (source %s, embeddings %s)",
            self.index_name,
            self.endpoint_name,
            source,
            self.embedding_endpoint,
        )

    def _managed_spec_matches(self, described: Mapping[str, Any], source: str) -> bool:
        spec = described.get("delta_sync_index_spec") or {}
        sources = spec.get("embedding_source_columns") or [{}]
        synced = spec.get("columns_to_sync")
        return (
            described.get("index_type") == "DELTA_SYNC"
            and described.get("primary_key") == PRIMARY_KEY
            and spec.get("source_table") == source
            and sources[0].get("name") == SOURCE_COLUMN
            and sources[0].get("embedding_model_endpoint_name") == self.embedding_endpoint
            and spec.get("pipeline_type") == "TRIGGERED"
            and (synced is None or set(synced) == set(PUBLIC_COLUMNS))
        )

    def _create_direct_index(self, embedder: Embedder) -> None:
        client = self._client()
        dimension = embedder.dimension
        self._call(
            "creating the Direct Access index",
            lambda: client.create_direct_access_index(
                endpoint_name=self.endpoint_name,
                index_name=self.index_name,
                primary_key=PRIMARY_KEY,
                embedding_dimension=dimension,
                embedding_vector_column=VECTOR_COLUMN,
                schema=direct_schema(),
            ),
        )
        self._handle = None
        logger.info(
            "created Direct Access index %s on %s (%d-d vectors from %s)",
            self.index_name,
            self.endpoint_name,
            dimension,
            embedder.model_name,
        )

    def _direct_spec_matches(self, described: Mapping[str, Any]) -> bool:
        spec = described.get("direct_access_index_spec") or {}
        vectors = spec.get("embedding_vector_columns") or [{}]
        try:
            schema = json.loads(spec.get("schema_json") or "{}")
        except ValueError:
            return False
        dimension = vectors[0].get("embedding_dimension")
        return (
            described.get("index_type") == "DIRECT_ACCESS"
            and described.get("primary_key") == PRIMARY_KEY
            and vectors[0].get("name") == VECTOR_COLUMN
            and isinstance(dimension, int)
            and dimension == self._require_embedder().dimension
            and schema == direct_schema()
        )

    def _ensure_endpoint(self) -> None:
        client = self._client()
        try:
            info = self._call(
                "reading the endpoint", lambda: client.get_endpoint(self.endpoint_name)
            )
        except _Missing:
            info = self._create_endpoint()
        endpoint_type = info.get("endpoint_type")
        if endpoint_type not in (None, "STANDARD"):
            raise ConfigurationError(
                f"Vector Search endpoint {self.endpoint_name} is {endpoint_type}, but this "
                "backend compiles filters to the standard-endpoint syntax; name a STANDARD "
                "endpoint (or a new name, created as STANDARD)"
            )
        self._wait_endpoint()

    def _create_endpoint(self) -> dict[str, Any]:
        client = self._client()
        try:
            created = self._call(
                "creating the endpoint",
                lambda: client.create_endpoint(self.endpoint_name, endpoint_type="STANDARD"),
            )
        except VectorSearchQuotaError as exc:
            names = self._endpoint_names()
            raise VectorSearchQuotaError(
                f"cannot create Vector Search endpoint {self.endpoint_name}: the workspace "
                f"has reached its endpoint quota ({exc}). Reuse an existing endpoint — "
                f"{', '.join(names) or 'none listed'} — by setting endpoint_name (one endpoint "
                "hosts many indexes), or delete an endpoint you no longer use",
                status=exc.status,
                error_code=exc.error_code,
            ) from exc
        except VectorSearchError as exc:
            if exc.status != 409:
                raise
            # Created meanwhile (or by a retried request whose first answer was lost).
            created = {}
        logger.info("created Vector Search endpoint %s", self.endpoint_name)
        endpoint: dict[str, Any] = created.get("endpoint", created) if created else {}
        return endpoint

    def _endpoint_names(self) -> list[str]:
        client = self._client()
        try:
            listed = self._call("listing endpoints", client.list_endpoints)
        except VectorSearchError:
            return []
        return [str(e.get("name")) for e in listed.get("endpoints") or []]

    def _wait_endpoint(self) -> None:
        client = self._client()
        for remaining in self._polls():
            info = self._call(
                "reading the endpoint", lambda: client.get_endpoint(self.endpoint_name)
            )
            status = info.get("endpoint_status") or {}
            state = status.get("state")
            if state in ("ONLINE", "YELLOW_STATE"):
                if state == "YELLOW_STATE":
                    logger.warning(
                        "Vector Search endpoint %s is degraded: %s",
                        self.endpoint_name,
                        status.get("message"),
                    )
                return
            if state in ("OFFLINE", "RED_STATE", "STOPPED", "STOPPING", "DELETED"):
                raise VectorSearchError(
                    f"Vector Search endpoint {self.endpoint_name} is {state}"
                    f"{': ' + status['message'] if status.get('message') else ''}; start or "
                    "recreate it in the workspace (Compute > Vector Search), or use another "
                    "endpoint"
                )
            if remaining <= 0:
                raise IndexNotReadyError(
                    f"Vector Search endpoint {self.endpoint_name} is still {state} after "
                    f"{self.timeout:g} s; new endpoints take several minutes: build again "
                    "later, or raise timeout"
                )

    def _wait_index(self, *, settled: bool) -> dict[str, Any]:
        for remaining in self._polls():
            described = self._describe_raw()
            if described is None:
                raise self._not_built()
            status = described.get("status") or {}
            state = str(status.get("detailed_state") or ("ONLINE" if status.get("ready") else ""))
            if "OFFLINE" in state or "FAILED" in state:
                pipeline = (described.get("delta_sync_index_spec") or {}).get("pipeline_id")
                where = f" (pipeline {pipeline})" if pipeline else ""
                raise VectorSearchError(
                    f"Vector Search index {self.index_name} is {state}: "
                    f"{status.get('message') or 'no message'}; check its sync pipeline{where} "
                    "in the workspace, fix the source table, then build again"
                )
            if "ONLINE" in state and (not settled or state in _SETTLED_STATES):
                return described
            if remaining <= 0:
                raise IndexNotReadyError(
                    f"Vector Search index {self.index_name} is still {state or 'not ready'} after "
                    f"{self.timeout:g} s; embedding a large table takes a while: check "
                    "describe() later, or raise timeout"
                )
        raise AssertionError("unreachable")

    def _wait_gone(self) -> None:
        client = self._client()
        for remaining in self._polls():
            try:
                self._call(
                    "reading the index",
                    lambda: client.get_index(
                        endpoint_name=self.endpoint_name, index_name=self.index_name
                    ),
                )
            except _Missing:
                return
            if remaining <= 0:
                raise IndexNotReadyError(
                    f"Vector Search index {self.index_name} still exists {self.timeout:g} s "
                    "after it was deleted; try again later"
                )
