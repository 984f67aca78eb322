"""The Vector Search and workspace clients behind the Databricks index, and their retries.

Every client call goes through :meth:`_VectorSearchClient._call`: transient answers (429/5xx,
dropped connections) are retried with the workspace retry policy
(:func:`movie_rag.workspace.retrying`), the rest become :class:`VectorSearchError` subclasses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from movie_rag.errors import ConfigurationError
from movie_rag.index.base import IndexNotReadyError, VectorIndex
from movie_rag.index.databricks.errors import (
    VectorSearchError,
    VectorSearchUnavailableError,
    _Missing,
    summary,
    translate,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from movie_rag.index.databricks.embedder import Embedder

T = TypeVar("T")


def _transient(exc: BaseException) -> bool:
    """Worth another try: the workspace's transient test, or requests giving up on retries."""
    from requests.exceptions import RetryError

    from movie_rag.workspace import is_transient

    return isinstance(exc, RetryError) or is_transient(exc)


class _VectorSearchClient(VectorIndex):
    """Client plumbing shared by the lifecycle, sync and search parts of the backend."""

    index_name: str
    endpoint_name: str
    embedding_endpoint: str
    workspace_url: str | None
    _token: str | None
    poll_interval: float
    timeout: float
    max_retries: int
    retry_backoff: float
    table_reader: Callable[[str], pa.Table] | None
    _embedder: Embedder | None
    _client_obj: Any
    _workspace_obj: Any
    _config_obj: Any
    _handle: Any
    _lock: threading.Lock
    _synced_at: datetime | None
    _vectors_readable: bool

    @property
    def managed(self) -> bool:
        """Whether Databricks computes the embeddings (a Delta Sync index)."""
        return self._embedder is None

    @property
    def _storage(self) -> Literal["arrays", "flags"]:
        return "arrays" if self.managed else "flags"

    def _require_embedder(self) -> Embedder:
        if self._embedder is None:
            raise ConfigurationError("self-managed embeddings need an embedder")
        return self._embedder

    def _polls(self) -> Iterator[float]:
        """Yields the seconds left before the timeout, sleeping between polls."""
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            yield remaining
            time.sleep(max(0.0, min(self.poll_interval, deadline - time.monotonic())))

    def _client(self) -> Any:
        if self._client_obj is None:
            with self._lock:
                if self._client_obj is None:
                    self._client_obj = self._make_client()
        return self._client_obj

    def _config(self) -> Any:
        """The workspace credentials: explicit URL and token, else the SDK's auth chain."""
        if self._config_obj is None:
            from pydantic import SecretStr

            from movie_rag.settings import MovieRagSettings
            from movie_rag.workspace import workspace_config

            # The SDK retries 429/503 and lost connections itself (honouring Retry-After),
            # within this budget: about what our own backoff would spend.
            budget = self.retry_backoff * (2 ** (self.max_retries + 1) - 1)
            overrides = MovieRagSettings(
                databricks_host=self.workspace_url,
                databricks_token=SecretStr(self._token) if self._token else None,
            )
            self._config_obj = workspace_config(
                overrides, retry_timeout_seconds=int(min(max(budget, 1), 300))
            )
        return self._config_obj

    def _make_client(self) -> Any:
        from movie_rag.workspace import vector_search_client

        return vector_search_client(config=self._config())

    def _workspace(self) -> Any:
        if self._workspace_obj is None:
            from databricks.sdk import WorkspaceClient

            self._workspace_obj = WorkspaceClient(config=self._config())
        return self._workspace_obj

    def _sdk(self, what: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One REST call through databricks-sdk's API client, errors translated."""
        from databricks.sdk.errors import DatabricksError, NotFound

        try:
            return self._workspace().api_client.do(method, path, body=body)
        except NotFound as exc:
            raise _Missing(f"{what}: {exc}", status=404, error_code=exc.error_code) from exc
        except (TimeoutError, RuntimeError) as exc:
            cause = exc.__cause__
            raise VectorSearchUnavailableError(
                f"Vector Search at {self.workspace_url or 'the workspace'} kept failing while "
                f"{what} ({cause or exc}); the service is overloaded or unavailable: try again "
                f"later, check endpoint {self.endpoint_name} in the workspace (Compute > Vector "
                "Search), or raise max_retries"
            ) from exc
        except DatabricksError as exc:
            raise VectorSearchError(
                f"{what}: {exc} (error {exc.error_code}); check the token's permissions",
                error_code=exc.error_code,
            ) from exc

    def _index(self) -> Any:
        try:
            return self._index_or_missing()
        except _Missing as exc:
            raise self._not_built() from exc

    def _index_or_missing(self) -> Any:
        if self._handle is None:
            client = self._client()
            self._handle = self._call(
                "opening the index",
                lambda: client.get_index(
                    endpoint_name=self.endpoint_name, index_name=self.index_name
                ),
            )
        return self._handle

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """Run one client call, retrying 429/5xx and dropped connections (workspace policy)."""
        from databricks.ai_search.exceptions import AISearchException

        from movie_rag.workspace import retrying

        try:
            return retrying(
                attempts=self.max_retries + 1,
                backoff=self.retry_backoff,
                what=f"Vector Search {what}",
                retry_if=_transient,
            )(action)
        except AISearchException as exc:
            if not _transient(exc):
                raise translate(
                    exc,
                    what,
                    index_name=self.index_name,
                    embedding_endpoint=self.embedding_endpoint,
                ) from exc
            last: BaseException = exc
        except Exception as exc:
            if not _transient(exc):
                raise
            last = exc
        raise VectorSearchUnavailableError(
            f"Vector Search at {self.workspace_url or 'the workspace'} kept failing while {what} "
            f"({summary(last)}) through {self.max_retries} retries; the service is overloaded "
            f"or unavailable: try again later, check endpoint {self.endpoint_name} in the "
            "workspace (Compute > Vector Search), or raise max_retries",
            status=getattr(last, "status_code", None),
            error_code=getattr(last, "error_code", None),
        ) from last

    def _not_built(self) -> IndexNotReadyError:
        return IndexNotReadyError(
            f"no Vector Search index {self.index_name} on endpoint {self.endpoint_name}; build "
            "it with `movie-rag build` or VectorIndexManager(settings).build()"
        )

    def _describe_raw(self) -> dict[str, Any] | None:
        try:
            described: dict[str, Any] = self._call(
                "reading the index", self._index_or_missing().describe
            )
        except _Missing:
            self._handle = None
            return None
        return described
