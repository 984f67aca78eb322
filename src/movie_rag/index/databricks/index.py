"""The Databricks backend: a Mosaic AI Vector Search index over ``movies_info``.

Two ways to embed, chosen by whether an embedder is given:

* **Managed embeddings** (no embedder): a *Delta Sync* index on the Unity Catalog table
  ``movies_info``. Databricks embeds ``document`` with a serving endpoint
  (``databricks-gte-large-en`` by default: 1024-d, 8192-token context, in every region) and
  keeps the index in step with the table through
  its change data feed; :meth:`DatabricksVectorIndex.sync` triggers that pipeline and waits.
* **Self-managed embeddings** (a LangChain ``Embeddings`` or a
  :class:`~movie_rag.index.embeddings.TextEncoder`): we compute the vectors and write them to
  a *Direct Vector Access* index with the upsert/delete-data APIs. A Delta Sync index with
  self-managed vectors would read them from a column of its source table, which
  ``movies_info`` does not have; writing a second Delta table would put Spark on the index
  path, so this mode diffs the table against the index by ``content_hash`` instead and
  embeds, upserts and deletes only what changed.

Both keep ``movie_id`` as primary key and sync the public columns of ``movies_info``, never
``user_tags``. Direct Access indexes hold scalar columns only, so list and struct columns
(``genres``, ``cast``, ``genome_tags``, ...) are stored as JSON text, plus one boolean
column per MovieLens genre (``genre_sci_fi``) so genre filters still run in the index.

Filters
-------
:class:`~movie_rag.index.filters.SearchFilters` compile to the standard-endpoint filter
dictionary (``filters_json``). What compiles natively:

============================  =================================  ============================
constraint                    managed (Delta Sync)               self-managed (Direct Access)
============================  =================================  ============================
``year_min``/``year_max``     ``{"year >=": y, "year <=": y}``   same
``min_rating``/``min_votes``  ``{"rating >=": r}``, ``votes >=``  same
``include_ids``               ``{"movie_id": [ids]}``            same
``exclude_ids`` (one id)      ``{"movie_id NOT": id}``           same
``genres_any``                ``{"genres": [g, ...]}`` (array     ``{"genre_a OR genre_b":
                              contains any)                      [true, true]}``
``genres_all``                first genre only, as above         ``{"genre_a": true, ...}``
``people``                    never                              never
============================  =================================  ============================

Genres compile only when every name is in the MovieLens vocabulary (matched
case-insensitively, sent in its canonical spelling). What cannot be expressed — people
(case-insensitive names across two array columns), the rest of ``genres_all`` on arrays,
several excluded ids, genres outside the vocabulary — is applied afterwards with
:meth:`SearchFilters.matches`. The search then over-fetches and widens the fetch (×4 per
round, up to the documented caps: 10,000 rows for ANN, 200 for hybrid) until ``k`` hits
pass or the index has no more candidates; a hybrid search that cannot fill ``k`` within
200 rows falls back to dense ranking. Every hit is checked with ``matches`` whether or not
its filters ran natively.

Scores are the service's: ANN scores are ``1 / (1 + L2²)`` in ``(0, 1]`` (for unit vectors,
a monotonic function of cosine similarity), hybrid scores its fused rank score.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pyarrow as pa

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA
from movie_rag.errors import ConfigurationError, MovieRagError
from movie_rag.index._table import prepare, read_table
from movie_rag.index.base import (
    HIDDEN_COLUMNS,
    IndexMismatchError,
    IndexNotReadyError,
    IndexStatus,
    ProgressCallback,
    SearchHit,
    SearchMode,
    SyncReport,
    TableSource,
    UnknownMovieError,
    VectorIndex,
)
from movie_rag.index.filters import SearchFilters, normalise_name

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.embeddings import Embeddings

    from movie_rag.index.embeddings import TextEncoder
    from movie_rag.settings import MovieRagSettings

__all__ = [
    "DEFAULT_EMBEDDING_ENDPOINT",
    "DEFAULT_ENDPOINT_NAME",
    "CompiledFilters",
    "DatabricksVectorIndex",
    "EmbeddingEndpointNotFoundError",
    "InvalidIndexNameError",
    "VectorSearchError",
    "VectorSearchQuotaError",
    "VectorSearchUnavailableError",
    "compile_filters",
]

logger = logging.getLogger("movie_rag")

#: Vector Search endpoint used when none is named.
DEFAULT_ENDPOINT_NAME = "movie_rag_vs"
#: Serving endpoint that embeds ``document`` in managed mode.
DEFAULT_EMBEDDING_ENDPOINT = "databricks-gte-large-en"
#: Output dimension of the foundation-model embedding endpoints.
_KNOWN_DIMENSIONS = {"databricks-bge-large-en": 1024, "databricks-gte-large-en": 1024}

PRIMARY_KEY = "movie_id"
SOURCE_COLUMN = "document"
VECTOR_COLUMN = "document_vector"
MODEL_COLUMN = "embedding_model"

# Documented limits of the query API: 10,000 rows per query, 200 for hybrid search.
_MAX_RESULTS = 10_000
_HYBRID_MAX_RESULTS = 200
_SCAN_PAGE = 1000
_UPSERT_BATCH = 200
_EMBED_CHUNK = 256
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_SETTLED_STATES = frozenset({"ONLINE", "ONLINE_NO_PENDING_UPDATE", "ONLINE_DIRECT_ACCESS"})
_UC_NAME = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")

_PUBLIC_FIELDS = [f for f in MOVIES_INFO_SCHEMA if f.name not in HIDDEN_COLUMNS]
PUBLIC_COLUMNS: list[str] = [f.name for f in _PUBLIC_FIELDS]
_NESTED_COLUMNS = frozenset(
    f.name for f in _PUBLIC_FIELDS if pa.types.is_list(f.type) or pa.types.is_struct(f.type)
)
_INT_COLUMNS = frozenset(f.name for f in _PUBLIC_FIELDS if pa.types.is_integer(f.type))
_FLOAT_COLUMNS = frozenset(f.name for f in _PUBLIC_FIELDS if pa.types.is_floating(f.type))
# What SearchFilters.matches reads: enough to post-filter without fetching documents.
_FILTER_COLUMNS = [PRIMARY_KEY, "genres", "year", "rating", "votes", "directors", "cast"]
_CANONICAL_GENRES = {normalise_name(g): g for g in MOVIELENS_GENRES}

T = TypeVar("T")


# -- errors ----------------------------------------------------------------------------------


class VectorSearchError(MovieRagError):
    """Vector Search refused or failed a request; the message says what to do.

    Attributes:
        status: HTTP status of the answer, when there was one.
        error_code: The Databricks ``error_code`` (``QUOTA_EXCEEDED``, ...), when given.
    """

    def __init__(
        self, message: str, *, status: int | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class VectorSearchQuotaError(VectorSearchError):
    """The workspace has all the Vector Search endpoints (or an endpoint all the indexes) it may."""


class InvalidIndexNameError(VectorSearchError, ConfigurationError):
    """An index or table name is not a three-part Unity Catalog name."""


class EmbeddingEndpointNotFoundError(VectorSearchError, ConfigurationError):
    """The serving endpoint that should embed ``document`` does not exist."""


class VectorSearchUnavailableError(VectorSearchError):
    """Vector Search kept answering 429/5xx (or not at all) through every retry."""


class _Missing(VectorSearchError):
    """404 from Vector Search; callers turn it into what it means where it happened."""


# -- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledFilters:
    """:class:`SearchFilters` split into what the index evaluates and what we do after.

    Attributes:
        native: The standard-endpoint filter dictionary sent as ``filters_json``.
        residual: Whether some constraint is not in ``native``, so hits are post-filtered
            with :meth:`SearchFilters.matches` and the fetch over-fetches.
        slack: Hits the post-filter may remove beyond what ``native`` already excludes
            (excluded ids that could not be sent), added to the first fetch.
        matches_nothing: The filters exclude every movie (an empty ``include_ids``).
    """

    native: dict[str, Any] = field(default_factory=dict)
    residual: bool = False
    slack: int = 0
    matches_nothing: bool = False


def genre_flag(genre: str) -> str:
    """Name of the boolean column marking a MovieLens genre (``Sci-Fi`` → ``genre_sci_fi``)."""
    return "genre_" + re.sub(r"[^a-z0-9]+", "_", genre.lower()).strip("_")


def compile_filters(
    filters: SearchFilters | None, *, storage: Literal["arrays", "flags"]
) -> CompiledFilters:
    """Compile filters to the standard-endpoint syntax, as far as it can express them.

    Args:
        filters: The constraints (None or empty: no filter).
        storage: ``arrays`` when ``genres`` is an array column (Delta Sync index on
            ``movies_info``), ``flags`` when genres are boolean ``genre_*`` columns (Direct
            Access index written by the self-managed mode).

    Returns:
        The native dictionary and whether post-filtering is needed.

    Example:
        >>> from movie_rag.index import SearchFilters
        >>> compiled = compile_filters(
        ...     SearchFilters(genres_any=["sci-fi"], year_min=1990, people=["Tom Hanks"]),
        ...     storage="arrays",
        ... )
        >>> compiled.native, compiled.residual
        ({'genres': 'Sci-Fi', 'year >=': 1990}, True)
    """
    if filters is None or filters.is_empty:
        return CompiledFilters()
    native: dict[str, Any] = {}
    residual = False
    slack = 0
    if filters.include_ids is not None:
        if not filters.include_ids:
            return CompiledFilters(matches_nothing=True)
        native[PRIMARY_KEY] = sorted(filters.include_ids)
    if filters.exclude_ids:
        if len(filters.exclude_ids) == 1 and filters.include_ids is None:
            native[f"{PRIMARY_KEY} NOT"] = next(iter(filters.exclude_ids))
        else:
            residual = True
            slack = len(filters.exclude_ids)
    genres_residual = _compile_genres(filters, storage, native)
    residual = residual or genres_residual
    if filters.year_min is not None:
        native["year >="] = filters.year_min
    if filters.year_max is not None:
        native["year <="] = filters.year_max
    if filters.min_rating is not None:
        native["rating >="] = filters.min_rating
    if filters.min_votes is not None:
        native["votes >="] = filters.min_votes
    if filters.people is not None:
        residual = True
    return CompiledFilters(native=native, residual=residual, slack=slack)


def _canonical(genres: Sequence[str] | None) -> list[str] | None:
    """Canonical spellings, or None when some name is outside the vocabulary."""
    if genres is None:
        return []
    names = [_CANONICAL_GENRES.get(normalise_name(g)) for g in genres]
    if any(name is None for name in names):
        return None
    return list(dict.fromkeys(name for name in names if name is not None))


def _compile_genres(
    filters: SearchFilters, storage: Literal["arrays", "flags"], native: dict[str, Any]
) -> bool:
    """Add genre conditions to ``native``; return whether some are left to post-filter."""
    any_of, all_of = _canonical(filters.genres_any), _canonical(filters.genres_all)
    residual = any_of is None or all_of is None
    if storage == "flags":
        if any_of:
            flags = [genre_flag(g) for g in any_of]
            if len(flags) == 1:
                native[flags[0]] = True
            else:
                native[" OR ".join(flags)] = [True] * len(flags)
        for genre in all_of or ():
            native[genre_flag(genre)] = True
        return residual
    # An array column takes one key: "contains any" for genres_any, else one genres_all name.
    if any_of:
        native["genres"] = any_of[0] if len(any_of) == 1 else any_of
        return residual or bool(all_of)
    if all_of:
        native["genres"] = all_of[0]
        return residual or len(all_of) > 1
    return residual


# -- the backend -----------------------------------------------------------------------------


class DatabricksVectorIndex(VectorIndex):
    """``movies_info`` in Databricks Vector Search, searchable like the local index.

    Args:
        index_name: Three-part Unity Catalog name of the index (``main.silver.movies_index``).
        endpoint_name: Vector Search endpoint hosting it; created (STANDARD) when missing.
        embeddings: A LangChain ``Embeddings`` (or a ``TextEncoder``) for self-managed
            embeddings; None uses managed embeddings from ``embedding_endpoint``.
        embedding_endpoint: Serving endpoint that embeds ``document`` (managed mode).
        model_name: Name recorded for self-managed vectors (default: the embedder's
            ``model_name``, else its class name).
        workspace_url: Workspace URL; default ``DATABRICKS_HOST``, or the notebook's own
            workspace on Databricks.
        token: Personal access token; default ``DATABRICKS_TOKEN``, or the notebook's.
        poll_interval: Seconds between status checks while waiting for the endpoint or index.
        timeout: Seconds to wait for an endpoint to come online or an index to settle.
        max_retries: Retries of a request answered 429/5xx or not at all.
        retry_backoff: First retry delay in seconds; doubles per retry (with jitter), capped
            at 30 s.
        table_reader: Reads a Unity Catalog table into Arrow for self-managed mode; default
            uses the active Spark session (a Databricks cluster).

    Example:
        Instantiate (managed embeddings, or self-managed with any LangChain embedder):

        >>> from movie_rag.index.databricks import DatabricksVectorIndex
        >>> index = DatabricksVectorIndex(
        ...     "main.silver.movies_index", "movie_rag_vs",
        ...     workspace_url="https://dbc-1234.cloud.databricks.com", token="dapi...")
        >>> index.managed
        True

        Build from the Unity Catalog table, then keep it in step:

        >>> index.build("main.silver.movies_info")  # doctest: +SKIP
        >>> index.sync("main.silver.movies_info").updated  # doctest: +SKIP
        0

        Search, and search with filters:

        >>> hits = index.search("a heist that goes wrong", k=5)  # doctest: +SKIP
        >>> from movie_rag.index import SearchFilters
        >>> hits = index.search("haunted house", k=5, mode="hybrid",
        ...                     filters=SearchFilters(genres_any=["Horror"],
        ...                                           year_min=1990))  # doctest: +SKIP
    """

    backend = "databricks"

    def __init__(
        self,
        index_name: str,
        endpoint_name: str = DEFAULT_ENDPOINT_NAME,
        *,
        embeddings: Embeddings | TextEncoder | None = None,
        embedding_endpoint: str = DEFAULT_EMBEDDING_ENDPOINT,
        model_name: str | None = None,
        workspace_url: str | None = None,
        token: str | None = None,
        poll_interval: float = 10.0,
        timeout: float = 3600.0,
        max_retries: int = 5,
        retry_backoff: float = 1.0,
        table_reader: Callable[[str], pa.Table] | None = None,
    ) -> None:
        _check_uc_name(index_name, "index_name")
        if not endpoint_name.strip():
            raise ConfigurationError("endpoint_name is empty; name a Vector Search endpoint")
        if poll_interval <= 0 or timeout <= 0:
            raise ValueError("poll_interval and timeout must be positive")
        if max_retries < 0 or retry_backoff < 0:
            raise ValueError("max_retries and retry_backoff must be zero or more")
        self.index_name = index_name
        self.endpoint_name = endpoint_name
        self.embedding_endpoint = embedding_endpoint
        self.workspace_url = (workspace_url or os.environ.get("DATABRICKS_HOST") or "").rstrip(
            "/"
        ) or None
        self._token = token or os.environ.get("DATABRICKS_TOKEN") or None
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.table_reader = table_reader
        self._embedder = _Embedder(embeddings, model_name) if embeddings is not None else None
        self._client_obj: Any = None
        self._workspace_obj: Any = None
        self._config_obj: Any = None
        self._handle: Any = None
        self._lock = threading.Lock()
        self._synced_at: datetime | None = None
        # Cleared if the index refuses to return the vector column (then we re-embed).
        self._vectors_readable = True

    @classmethod
    def from_settings(
        cls,
        settings: MovieRagSettings,
        *,
        embeddings: Embeddings | TextEncoder | None = None,
        index_name: str | None = None,
        endpoint_name: str | None = None,
        embedding_endpoint: str | None = None,
        **options: Any,
    ) -> DatabricksVectorIndex:
        """The index the settings describe (``backend="databricks"``).

        The index is ``settings.vs_index_name``, else
        ``<catalog>.<silver_schema>.<movies_info_table>_index``, on endpoint
        ``settings.vs_endpoint_name`` unless named here. Managed embeddings use
        ``settings.embedding_model`` when it names a serving endpoint other than the local
        default model, else :data:`DEFAULT_EMBEDDING_ENDPOINT`.

        Args:
            settings: Catalog, schema, table, credentials and embedding model.
            embeddings: An embedder for self-managed embeddings (None: managed).
            index_name: Override the derived index name.
            endpoint_name: Override the endpoint.
            embedding_endpoint: Override the serving endpoint of managed embeddings.
            **options: Other constructor arguments (``poll_interval``, ``timeout``, ...).

        Returns:
            The (not yet built) index.

        Raises:
            ConfigurationError: No workspace to talk to: neither settings, environment
                nor a Databricks runtime provide host and token.
        """
        from movie_rag.index.embeddings import DEFAULT_MODEL_NAME
        from movie_rag.workspace import workspace_config

        # The SDK's unified auth chain (notebook, Model Serving, Apps, OAuth M2M, profiles,
        # PAT) with the settings as overrides; resolved now so a missing credential fails here.
        config = workspace_config(settings)
        secret = settings.databricks_token
        token = secret.get_secret_value() if secret is not None else None
        host = str(config.host)
        model = settings.embedding_model.removeprefix("sentence-transformers/")
        if embedding_endpoint is None:
            default_local = model == DEFAULT_MODEL_NAME
            embedding_endpoint = DEFAULT_EMBEDDING_ENDPOINT if default_local else model
        derived = f"{settings.catalog}.{settings.silver_schema}.{settings.movies_info_table}_index"
        options.setdefault("poll_interval", settings.vs_poll_interval)
        options.setdefault("timeout", settings.vs_timeout)
        index = cls(
            index_name or settings.vs_index_name or derived,
            endpoint_name or settings.vs_endpoint_name,
            embeddings=embeddings,
            embedding_endpoint=embedding_endpoint,
            workspace_url=host,
            token=token,
            **options,
        )
        index._config_obj = config
        return index

    def __repr__(self) -> str:
        mode = (
            f"embeddings={self._embedder.model_name!r}"
            if self._embedder is not None
            else f"embedding_endpoint={self.embedding_endpoint!r}"
        )
        return (
            f"DatabricksVectorIndex(index_name={self.index_name!r}, "
            f"endpoint_name={self.endpoint_name!r}, {mode}, workspace_url={self.workspace_url!r})"
        )

    @property
    def managed(self) -> bool:
        """Whether Databricks computes the embeddings (a Delta Sync index)."""
        return self._embedder is None

    @property
    def _storage(self) -> Literal["arrays", "flags"]:
        return "arrays" if self.managed else "flags"

    # -- writing -----------------------------------------------------------------------------

    def build(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Create the endpoint and index as needed and bring the index up to date.

        An index whose definition differs from this one's (source table, embedding model
        or dimension, columns) is deleted and recreated. Building twice in a row changes
        nothing the second time: unchanged movies are neither re-embedded nor rewritten.

        Args:
            table: Managed: the Unity Catalog name of ``movies_info``. Self-managed: an Arrow
                table, a local movies_info directory, or a Unity Catalog name (read with
                ``table_reader``).
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            What changed in the index.

        Raises:
            VectorSearchQuotaError: No endpoint may be created (or no index on it).
            EmbeddingEndpointNotFoundError: The managed embedding endpoint does not exist.
            IndexNotReadyError: The endpoint or index did not settle within ``timeout``.
            VectorSearchUnavailableError: The service kept failing through the retries.
        """
        return self._update(table, progress, replace=True)

    def sync(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Bring the index up to date with ``table``; without an index this is :meth:`build`.

        Managed: triggers the Delta Sync pipeline (which re-embeds changed rows) and waits
        for it. Self-managed: embeds and upserts new and changed movies, deletes the ones
        gone from the table, and leaves the rest alone.

        Args:
            table: As for :meth:`build`.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts of added, updated, deleted and unchanged movies.

        Raises:
            IndexMismatchError: The stored index was built with another embedding model or
                definition; run :meth:`build` to replace it.
        """
        return self._update(table, progress, replace=False)

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

    def _update(
        self, table: TableSource, progress: ProgressCallback | None, *, replace: bool
    ) -> SyncReport:
        started = time.perf_counter()
        if self.managed:
            report = self._update_managed(table, progress, replace=replace)
        else:
            report = self._update_self_managed(table, progress, replace=replace)
        report = report.model_copy(update={"seconds": time.perf_counter() - started})
        self._synced_at = datetime.now(UTC)
        logger.info(
            "%s Vector Search index %s: %d added, %d updated, %d deleted, %d unchanged, "
            "%d embedded in %.1f s",
            "built" if replace else "synced",
            self.index_name,
            report.added,
            report.updated,
            report.deleted,
            report.unchanged,
            report.embedded,
            report.seconds,
        )
        return report

    # -- managed embeddings (Delta Sync) -------------------------------------------------------

    def _update_managed(
        self, table: TableSource, progress: ProgressCallback | None, *, replace: bool
    ) -> SyncReport:
        source = self._source_table(table)
        self._ensure_endpoint()
        self._check_embedding_endpoint()
        existing = self._describe_raw()
        if existing is not None and not self._managed_spec_matches(existing, source):
            if not replace:
                raise IndexMismatchError(
                    f"Vector Search index {self.index_name} is not a Delta Sync index of "
                    f"{source} embedded by {self.embedding_endpoint}; run build() to replace it"
                )
            logger.warning(
                "replacing Vector Search index %s: its definition changed", self.index_name
            )
            self.delete()
            existing = None
        before: dict[int, str] = {}
        if existing is None:
            self._create_managed_index(source)
        else:
            # An update still running would race the one we trigger: let it land first.
            self._wait_index(settled=True)
            before = self._stored_hashes()
            index = self._index()
            self._call("triggering the index sync", index.sync)
        self._wait_index(settled=True)
        after = self._stored_hashes()
        report = _diff(before, after)
        report = report.model_copy(update={"embedded": report.added + report.updated})
        if progress is not None:
            progress(report.embedded, report.embedded)
        return report

    def _source_table(self, table: TableSource) -> str:
        if isinstance(table, str) and _UC_NAME.match(table):
            return table
        raise ConfigurationError(
            f"managed embeddings are computed by Databricks from a Unity Catalog table, but "
            f"got {_origin(table)!r}; pass the table's three-part name "
            "('catalog.schema.movies_info'), or give the index an embedder (embeddings=...) "
            "for self-managed embeddings"
        )

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

    # -- self-managed embeddings (Direct Access) ------------------------------------------------

    def _update_self_managed(
        self, table: TableSource, progress: ProgressCallback | None, *, replace: bool
    ) -> SyncReport:
        embedder = self._require_embedder()
        data = prepare(self._read(table), _origin(table))
        self._ensure_endpoint()
        existing = self._describe_raw()
        if existing is not None and not self._direct_spec_matches(existing):
            if not replace:
                raise IndexMismatchError(
                    f"Vector Search index {self.index_name} was not written by this backend "
                    f"with {embedder.dimension}-d vectors from {embedder.model_name!r}; run "
                    "build() to replace it"
                )
            logger.warning(
                "replacing Vector Search index %s: its definition changed", self.index_name
            )
            self.delete()
            existing = None
        if existing is None:
            self._create_direct_index(embedder)
        self._wait_index(settled=False)
        stored = {} if existing is None else self._stored_rows()
        foreign = {row.get(MODEL_COLUMN) for row in stored.values()} - {embedder.model_name}
        if foreign and not replace:
            raise IndexMismatchError(
                f"Vector Search index {self.index_name} holds vectors from "
                f"{sorted(map(str, foreign))} but the embedder is {embedder.model_name!r}; "
                "run build() to re-embed it, or use the embedder it was built with"
            )
        plan = _plan(data.to_pylist(), stored, embedder.model_name, embedder.dimension)
        vectors = self._embed_missing(plan, embedder, progress)
        self._write(plan, vectors, embedder.model_name)
        self._wait_index(settled=True)
        return SyncReport(
            added=plan.added,
            updated=plan.updated,
            deleted=len(plan.deleted),
            unchanged=plan.unchanged,
            embedded=len(plan.to_embed),
        )

    def _require_embedder(self) -> _Embedder:
        if self._embedder is None:
            raise ConfigurationError("self-managed embeddings need an embedder")
        return self._embedder

    def _direct_schema(self, dimension: int) -> dict[str, str]:
        schema = {f.name: _direct_type(f.type) for f in _PUBLIC_FIELDS}
        schema.update({genre_flag(g): "boolean" for g in MOVIELENS_GENRES})
        schema[MODEL_COLUMN] = "string"
        schema[VECTOR_COLUMN] = "array<float>"
        return schema

    def _create_direct_index(self, embedder: _Embedder) -> None:
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
                schema=self._direct_schema(dimension),
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
            and schema == self._direct_schema(dimension)
        )

    def _read(self, table: TableSource) -> pa.Table:
        if isinstance(table, pa.Table):
            return table
        if isinstance(table, str) and _UC_NAME.match(table) and not Path(table).exists():
            return self._read_catalog_table(table)
        return read_table(table)

    def _read_catalog_table(self, name: str) -> pa.Table:
        if self.table_reader is not None:
            return self.table_reader(name)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            session = None
        else:
            session = SparkSession.getActiveSession()
        if session is None:
            raise ConfigurationError(
                f"reading the Unity Catalog table {name} needs a Spark session (run on a "
                "Databricks cluster); elsewhere pass an Arrow table or a local movies_info "
                "directory, or table_reader=<a function reading it>"
            )
        from movie_rag.spark import spark_to_arrow

        return spark_to_arrow(session.table(name))

    def _embed_missing(
        self, plan: _Plan, embedder: _Embedder, progress: ProgressCallback | None
    ) -> dict[int, list[float]]:
        vectors = dict(plan.reused)
        total = len(plan.to_embed)
        if progress is not None:
            progress(0, total)
        for start in range(0, total, _EMBED_CHUNK):
            chunk = plan.to_embed[start : start + _EMBED_CHUNK]
            fresh = embedder.documents(
                [plan.records[movie_id][SOURCE_COLUMN] for movie_id in chunk]
            )
            vectors.update(zip(chunk, fresh, strict=True))
            if progress is not None:
                progress(start + len(chunk), total)
        return vectors

    def _write(self, plan: _Plan, vectors: Mapping[int, list[float]], model: str) -> None:
        index = self._index()
        rows = [
            _encode(plan.records[movie_id], vectors[movie_id], model) for movie_id in plan.to_write
        ]
        for start in range(0, len(rows), _UPSERT_BATCH):
            batch = rows[start : start + _UPSERT_BATCH]
            answer = self._call("upserting rows", partial(index.upsert, batch))
            _check_write(answer, "upsert", self.index_name, len(batch))
        for start in range(0, len(plan.deleted), _UPSERT_BATCH):
            keys = [str(k) for k in plan.deleted[start : start + _UPSERT_BATCH]]
            answer = self._call("deleting rows", partial(index.delete, keys))
            _check_write(answer, "delete", self.index_name, len(keys))

    # -- reading the index ---------------------------------------------------------------------

    def _scan(self, page_size: int = _SCAN_PAGE) -> Iterator[dict[str, Any]]:
        """Every row of the index, in primary-key order (the scan route pages through it)."""
        # The SDK's raw API client, not the vector-search client: the latter rewrites every
        # key of the nested row values, which takes a minute for 10,000 stored vectors.
        path = f"/api/2.0/vector-search/indexes/{self.index_name}/scan"
        last: str | None = None
        while True:
            body: dict[str, Any] = {"num_results": page_size}
            if last is not None:
                body["last_primary_key"] = last
            try:
                page = self._sdk("scanning the index", "POST", path, body)
            except _Missing as exc:
                raise self._not_built() from exc
            rows = page.get("data") or []
            for row in rows:
                yield {f["key"]: _from_value(f.get("value")) for f in row.get("fields", [])}
            last = page.get("last_primary_key")
            if len(rows) < page_size or not last:
                return

    def _stored_hashes(self) -> dict[int, str]:
        return {
            int(row[PRIMARY_KEY]): str(row.get("content_hash"))
            for row in self._scan()
            if row.get(PRIMARY_KEY) is not None
        }

    def _stored_rows(self) -> dict[int, dict[str, Any]]:
        return {
            int(row[PRIMARY_KEY]): row for row in self._scan() if row.get(PRIMARY_KEY) is not None
        }

    # -- search --------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        *,
        mode: SearchMode = "dense",
        mmr: float | None = None,
    ) -> list[SearchHit]:
        """The ``k`` movies most relevant to ``query`` among those passing ``filters``.

        Args:
            query: Free text.
            k: Number of hits wanted.
            filters: Hard constraints; every hit satisfies them (see the module docs for
                which run inside the index).
            mode: ``dense`` (Vector Search ``ANN``) or ``hybrid`` (``HYBRID``: ANN fused
                with keyword search over the text columns).
            mmr: Maximal-marginal-relevance trade-off in ``[0, 1]`` (1 is pure relevance);
                ``None`` turns it off.

        Returns:
            Up to ``k`` hits, best first.

        Raises:
            IndexNotReadyError: The index does not exist or is not serving yet.
        """
        _check_k(k)
        _check_mmr(mmr)
        if mode not in ("dense", "hybrid"):
            raise ValueError(f"mode must be 'dense' or 'hybrid', got {mode!r}")
        compiled = compile_filters(filters, storage=self._storage)
        if k == 0 or compiled.matches_nothing:
            return []
        vector = self._embedder.query(query) if self._embedder is not None else None
        pool = k if mmr is None else max(4 * k, 20)
        hits, stored = self._retrieve(
            query, vector, pool, filters, compiled, hybrid=mode == "hybrid", vectors=mmr is not None
        )
        if mmr is not None:
            hits = self._diversify(hits, stored, vector, k, mmr, dense=mode == "dense")
        return hits[:k]

    def similar_to(
        self, movie_id: int, k: int = 10, filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        """Movies closest to a movie in the index; the seed is never a hit.

        Self-managed, the query is the seed's stored vector (or its ``document`` embedded
        again, when the index does not return vectors); managed, the seed's ``document`` is
        sent as query text and embedded by the index's endpoint.

        Args:
            movie_id: The seed movie.
            k: Number of hits wanted.
            filters: Hard constraints; every hit satisfies them.

        Returns:
            Up to ``k`` hits, best first.

        Raises:
            UnknownMovieError: ``movie_id`` is not in the index.
        """
        _check_k(k)
        document, vector = self._seed(int(movie_id))
        excluded = frozenset({int(movie_id)} | set((filters and filters.exclude_ids) or ()))
        base = filters if filters is not None else SearchFilters()
        narrowed = base.model_copy(update={"exclude_ids": excluded})
        compiled = compile_filters(narrowed, storage=self._storage)
        if k == 0 or compiled.matches_nothing:
            return []
        if vector is None and self._embedder is not None:
            vector = self._embedder.documents([document])[0]
        hits, _ = self._retrieve(document, vector, k, narrowed, compiled, hybrid=False)
        return hits

    def _seed(self, movie_id: int) -> tuple[str, list[float] | None]:
        """The seed's document, and its stored vector when the index returns it."""
        rows = self._query_rows(
            text="movie",
            vector=self._probe_vector(),
            num_results=1,
            native={PRIMARY_KEY: movie_id},
            columns=self._columns([PRIMARY_KEY, SOURCE_COLUMN], vectors=True),
            hybrid=False,
        )
        if not rows:
            raise UnknownMovieError(movie_id)
        return str(rows[0][SOURCE_COLUMN]), self._stored_vector(rows[0])

    def _columns(self, columns: list[str], *, vectors: bool) -> list[str]:
        if vectors and not self.managed and self._vectors_readable:
            return [*columns, VECTOR_COLUMN]
        return columns

    def _stored_vector(self, row: Mapping[str, Any]) -> list[float] | None:
        vector = row.get(VECTOR_COLUMN)
        if self._embedder is None or not isinstance(vector, list):
            return None
        if len(vector) != self._embedder.dimension:
            return None
        return [float(v) for v in vector]

    def _query_rows(self, *, columns: list[str], **query: Any) -> list[dict[str, Any]]:
        """:meth:`_query`, dropping the vector column if the index will not return it."""
        try:
            return self._query(columns=columns, **query)
        except _Missing:
            raise
        except VectorSearchError as exc:
            if VECTOR_COLUMN not in columns or exc.status != 400:
                raise
            logger.info(
                "%s does not return stored vectors (%s); re-embedding instead", self.index_name, exc
            )
            self._vectors_readable = False
            return self._query(columns=[c for c in columns if c != VECTOR_COLUMN], **query)

    def _probe_vector(self) -> list[float] | None:
        # Any vector will do when the filter pins the row down.
        if self._embedder is None:
            return None
        return [1.0] + [0.0] * (self._embedder.dimension - 1)

    def _retrieve(
        self,
        text: str,
        vector: list[float] | None,
        k: int,
        filters: SearchFilters | None,
        compiled: CompiledFilters,
        *,
        hybrid: bool,
        vectors: bool = False,
    ) -> tuple[list[SearchHit], dict[int, list[float]]]:
        """The ``k`` best hits passing ``filters``, and their stored vectors if asked and given."""
        if hybrid and k > _HYBRID_MAX_RESULTS:
            logger.info(
                "hybrid search returns at most %d rows; ranking %d by dense similarity",
                _HYBRID_MAX_RESULTS,
                k,
            )
            hybrid = False
        cap = _HYBRID_MAX_RESULTS if hybrid else _MAX_RESULTS
        if not compiled.residual:
            rows = self._query_rows(
                text=text,
                vector=vector,
                num_results=min(k, cap),
                native=compiled.native,
                columns=self._columns(PUBLIC_COLUMNS, vectors=vectors),
                hybrid=hybrid,
            )
            hits = [_hit(row) for row in rows]
            passing = [h for h in hits if filters is None or filters.matches(h.metadata)][:k]
            return passing, self._vectors_of(rows)
        size = min(cap, max(4 * k + compiled.slack, 50))
        while True:
            rows = self._query(
                text=text,
                vector=vector,
                num_results=size,
                native=compiled.native,
                columns=_FILTER_COLUMNS,
                hybrid=hybrid,
            )
            kept = [row for row in rows if filters is None or filters.matches(_decode(row))]
            exhausted = len(rows) < size
            if len(kept) >= k or exhausted or size >= cap:
                break
            size = min(cap, size * 4)
        if len(kept) < k and not exhausted and hybrid:
            logger.info(
                "hybrid search returns at most %d rows and fewer than %d of them pass the "
                "filters; ranking by dense similarity instead",
                _HYBRID_MAX_RESULTS,
                k,
            )
            return self._retrieve(text, vector, k, filters, compiled, hybrid=False, vectors=vectors)
        if len(kept) < k and not exhausted:
            logger.warning(
                "only %d of the %d best matches of %s pass the filters; the index holds more "
                "movies than one query can return",
                len(kept),
                size,
                self.index_name,
            )
        kept = kept[:k]
        # The scores come from the ranking query: a query narrowed to these ids would fuse
        # hybrid ranks over a different candidate set.
        full = self._by_id([int(row[PRIMARY_KEY]) for row in kept], text, vector, vectors)
        hits = [
            SearchHit(
                movie_id=int(row[PRIMARY_KEY]),
                score=float(row["score"]),
                metadata=_decode(full[int(row[PRIMARY_KEY])]),
            )
            for row in kept
            if int(row[PRIMARY_KEY]) in full
        ]
        return hits, self._vectors_of(full.values())

    def _by_id(
        self, ids: list[int], text: str, vector: list[float] | None, vectors: bool
    ) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = self._query_rows(
            text=text,
            vector=vector,
            num_results=len(ids),
            native={PRIMARY_KEY: ids},
            columns=self._columns(PUBLIC_COLUMNS, vectors=vectors),
            hybrid=False,
        )
        return {int(row[PRIMARY_KEY]): row for row in rows}

    def _vectors_of(self, rows: Iterable[Mapping[str, Any]]) -> dict[int, list[float]]:
        found: dict[int, list[float]] = {}
        for row in rows:
            vector = self._stored_vector(row)
            if vector is not None:
                found[int(row[PRIMARY_KEY])] = vector
        return found

    def _query(
        self,
        *,
        text: str,
        vector: list[float] | None,
        num_results: int,
        native: Mapping[str, Any],
        columns: list[str],
        hybrid: bool,
    ) -> list[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "columns": columns,
            "num_results": num_results,
            "filters": dict(native) or None,
            "query_type": "HYBRID" if hybrid else "ANN",
            "disable_notice": True,
            # Retries are ours (bounded, with backoff); the client's would multiply them.
            "total_retries": 0,
        }
        if vector is None:
            arguments["query_text"] = text
        else:
            arguments["query_vector"] = vector
            if hybrid:
                arguments["query_text"] = text
        index = self._index()
        try:
            answer = self._call("querying the index", lambda: index.similarity_search(**arguments))
        except _Missing as exc:
            self._handle = None
            raise self._not_built() from exc
        except VectorSearchError as exc:
            if exc.error_code == "INVALID_STATE" or "not ready" in str(exc).lower():
                raise IndexNotReadyError(
                    f"Vector Search index {self.index_name} is not serving yet ({exc}); wait "
                    "for build() or sync() to finish, or check describe()"
                ) from exc
            raise
        names = [column["name"] for column in (answer.get("manifest") or {}).get("columns", [])]
        data = (answer.get("result") or {}).get("data_array") or []
        return [dict(zip(names, row, strict=False)) for row in data]

    def _diversify(
        self,
        hits: list[SearchHit],
        stored: Mapping[int, list[float]],
        query_vector: list[float] | None,
        k: int,
        trade_off: float,
        *,
        dense: bool,
    ) -> list[SearchHit]:
        import numpy as np

        if not hits:
            return hits
        documents = [str(hit.metadata.get(SOURCE_COLUMN) or "") for hit in hits]
        if self._embedder is not None:
            missing = [i for i, hit in enumerate(hits) if hit.movie_id not in stored]
            fresh = self._embedder.documents([documents[i] for i in missing]) if missing else []
            vectors = dict(zip(missing, fresh, strict=True))
            pool = np.asarray(
                [stored.get(hit.movie_id) or vectors[i] for i, hit in enumerate(hits)],
                dtype=np.float64,
            )
        else:
            # Managed vectors stay in the index: redundancy is judged on the words instead.
            pool = np.stack([_bag_of_words(doc) for doc in documents])
        scores = np.asarray([hit.score for hit in hits], dtype=np.float64)
        if dense and query_vector is not None:
            relevance = pool @ np.asarray(query_vector, dtype=np.float64)
        else:
            span = float(scores.max() - scores.min())
            relevance = (scores - scores.min()) / span if span > 0 else np.ones_like(scores)
        order = _mmr_order(pool, relevance, k, trade_off)
        return [hits[i] for i in order]

    # -- status --------------------------------------------------------------------------------

    def describe(self) -> IndexStatus:
        """The index's state as Vector Search reports it (never raises for a missing index)."""
        described = self._describe_raw()
        if described is None:
            return IndexStatus(
                backend=self.backend,
                location=self.index_name,
                ready=False,
                model_name=self._model_name(),
                dimension=None,
            )
        status = described.get("status") or {}
        state = str(status.get("detailed_state") or ("ONLINE" if status.get("ready") else ""))
        ready = "ONLINE" in state
        model, dimension = self._model_name(), None
        if described.get("index_type") == "DIRECT_ACCESS":
            spec = described.get("direct_access_index_spec") or {}
            dimension = (spec.get("embedding_vector_columns") or [{}])[0].get("embedding_dimension")
            stored = self._stored_model() if ready else None
            if stored is not None:
                ready = ready and stored == model
                model = stored
        else:
            spec = described.get("delta_sync_index_spec") or {}
            source = (spec.get("embedding_source_columns") or [{}])[0]
            model = source.get("embedding_model_endpoint_name") or model
            dimension = _KNOWN_DIMENSIONS.get(str(model))
        return IndexStatus(
            backend=self.backend,
            location=self.index_name,
            ready=ready,
            model_name=model,
            dimension=dimension,
            row_count=int(status.get("indexed_row_count") or 0),
            created_at=self._synced_at,
        )

    def _model_name(self) -> str:
        return self._embedder.model_name if self._embedder is not None else self.embedding_endpoint

    def _stored_model(self) -> str | None:
        for row in self._scan(page_size=1):
            value = row.get(MODEL_COLUMN)
            return None if value is None else str(value)
        return None

    def _describe_raw(self) -> dict[str, Any] | None:
        try:
            described: dict[str, Any] = self._call(
                "reading the index", self._index_or_missing().describe
            )
        except _Missing:
            self._handle = None
            return None
        return described

    def _not_built(self) -> IndexNotReadyError:
        return IndexNotReadyError(
            f"no Vector Search index {self.index_name} on endpoint {self.endpoint_name}; build "
            "it with `movie-rag build` or VectorIndexManager(settings).build()"
        )

    # -- endpoint and waiting ------------------------------------------------------------------

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

    def _polls(self) -> Iterator[float]:
        """Yields the seconds left before the timeout, sleeping between polls."""
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            yield remaining
            time.sleep(max(0.0, min(self.poll_interval, deadline - time.monotonic())))

    # -- client plumbing -----------------------------------------------------------------------

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
        """Run one client call, retrying 429/5xx and dropped connections with backoff."""
        from databricks.ai_search.exceptions import AISearchException
        from requests.exceptions import ConnectionError, RetryError, Timeout

        last: BaseException | None = None
        for attempt in range(self.max_retries + 1):
            try:
                return action()
            except AISearchException as exc:
                if exc.status_code not in _TRANSIENT_STATUSES:
                    raise self._translate(exc, what) from exc
                last = exc
            except (RetryError, ConnectionError, Timeout) as exc:
                last = exc
            if attempt < self.max_retries:
                delay = min(self.retry_backoff * 2**attempt, 30.0) * (1 + random.random() / 4)
                logger.warning(
                    "Vector Search failed while %s (%s); retry %d of %d in %.2f s",
                    what,
                    _summary(last),
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                time.sleep(delay)
        raise VectorSearchUnavailableError(
            f"Vector Search at {self.workspace_url or 'the workspace'} kept failing while {what} "
            f"({_summary(last)}) through {self.max_retries} retries; the service is overloaded "
            f"or unavailable: try again later, check endpoint {self.endpoint_name} in the "
            "workspace (Compute > Vector Search), or raise max_retries",
            status=getattr(last, "status_code", None),
            error_code=getattr(last, "error_code", None),
        ) from last

    def _translate(self, exc: Any, what: str) -> VectorSearchError:
        status, code = exc.status_code, exc.error_code
        message = str(exc)
        if status == 404:
            return _Missing(f"{what}: {message}", status=status, error_code=code)
        if code == "QUOTA_EXCEEDED":
            return VectorSearchQuotaError(
                f"{what}: {message}; delete unused indexes or endpoints, or use another endpoint",
                status=status,
                error_code=code,
            )
        if "Invalid index name" in message:
            return InvalidIndexNameError(
                f"{what}: {message} Got {self.index_name!r}: use catalog.schema.name with "
                "letters, digits and underscores only",
                status=status,
                error_code=code,
            )
        if "Model Serving endpoint" in message:
            return EmbeddingEndpointNotFoundError(
                f"{what}: {message} Create the serving endpoint {self.embedding_endpoint!r} or "
                f"use a foundation model endpoint such as {DEFAULT_EMBEDDING_ENDPOINT!r}",
                status=status,
                error_code=code,
            )
        if status in (401, 403):
            return VectorSearchError(
                f"{what}: the workspace refused the credentials ({message}); check the token "
                "(MOVIE_RAG_DATABRICKS_TOKEN or DATABRICKS_TOKEN) and its permissions on the "
                "endpoint and the schema",
                status=status,
                error_code=code,
            )
        return VectorSearchError(f"{what}: {message}", status=status, error_code=code)


# -- embedder adapter ----------------------------------------------------------------------------


class _Embedder:
    """A LangChain ``Embeddings`` or a ``TextEncoder`` behind one small interface."""

    def __init__(self, inner: Any, model_name: str | None) -> None:
        self.inner = inner
        self.model_name = (
            model_name
            or getattr(inner, "model_name", None)
            or getattr(inner, "model", None)
            or type(inner).__name__
        )
        if not isinstance(self.model_name, str):
            self.model_name = type(inner).__name__
        self._dimension: int | None = getattr(inner, "dimension", None)
        # Documents re-embedded for MMR or as similar_to seeds, by text digest.
        self._cache: dict[bytes, list[float]] = {}

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.query("dimension probe"))
        return int(self._dimension)

    def documents(self, texts: Sequence[str]) -> list[list[float]]:
        digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        missing = [i for i, d in enumerate(digests) if d not in self._cache]
        if missing:
            fresh = self._embed([texts[i] for i in missing])
            if len(self._cache) > 4096:
                self._cache.clear()
            for i, vector in zip(missing, fresh, strict=True):
                self._cache[digests[i]] = vector
        return [self._cache[d] for d in digests]

    def query(self, text: str) -> list[float]:
        if hasattr(self.inner, "encode_query"):
            return [float(v) for v in self.inner.encode_query(text)]
        return [float(v) for v in self.inner.embed_query(text)]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if hasattr(self.inner, "encode"):
            return [[float(v) for v in row] for row in self.inner.encode(texts)]
        return [[float(v) for v in row] for row in self.inner.embed_documents(texts)]


# -- sync planning -------------------------------------------------------------------------------


@dataclass
class _Plan:
    records: dict[int, dict[str, Any]]
    to_write: list[int] = field(default_factory=list)
    to_embed: list[int] = field(default_factory=list)
    reused: dict[int, list[float]] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def _plan(
    records: list[dict[str, Any]],
    stored: Mapping[int, Mapping[str, Any]],
    model: str,
    dimension: int,
) -> _Plan:
    """Which rows to write and which to embed, comparing the table with the index."""
    plan = _Plan(records={int(r[PRIMARY_KEY]): r for r in records})
    for movie_id, record in plan.records.items():
        old = stored.get(movie_id)
        same_model = old is not None and old.get(MODEL_COLUMN) == model
        if old is not None and same_model and old.get("content_hash") == record["content_hash"]:
            plan.unchanged += 1
            continue
        if old is None:
            plan.added += 1
        else:
            plan.updated += 1
        plan.to_write.append(movie_id)
        vector = old.get(VECTOR_COLUMN) if old is not None else None
        reusable = (
            same_model
            and old is not None
            and old.get(SOURCE_COLUMN) == record[SOURCE_COLUMN]
            and isinstance(vector, list)
            and len(vector) == dimension
        )
        if reusable and isinstance(vector, list):
            plan.reused[movie_id] = [float(v) for v in vector]
        else:
            plan.to_embed.append(movie_id)
    plan.deleted = sorted(set(stored) - set(plan.records))
    return plan


def _diff(before: Mapping[int, str], after: Mapping[int, str]) -> SyncReport:
    added = sum(1 for k in after if k not in before)
    updated = sum(1 for k, v in after.items() if k in before and before[k] != v)
    unchanged = sum(1 for k, v in after.items() if before.get(k) == v)
    deleted = sum(1 for k in before if k not in after)
    return SyncReport(added=added, updated=updated, deleted=deleted, unchanged=unchanged)


def _check_write(answer: Any, verb: str, index_name: str, count: int) -> None:
    status = (answer or {}).get("status")
    if status in (None, "SUCCESS"):
        return
    failed = ((answer or {}).get("result") or {}).get("failed_primary_keys") or []
    raise VectorSearchError(
        f"{verb} of {count} rows into {index_name} ended {status}; failed movie_id(s): "
        f"{', '.join(map(str, failed[:10]))}{' ...' if len(failed) > 10 else ''}. The rows "
        "must match the index schema: run build() to recreate the index for this version"
    )


# -- row encoding --------------------------------------------------------------------------------


def _direct_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_int64(arrow_type):
        return "long"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "double"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    # Direct Access indexes hold scalars only: lists and structs travel as JSON text.
    return "string"


def _encode(record: Mapping[str, Any], vector: Sequence[float], model: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in PUBLIC_COLUMNS:
        value = record.get(name)
        if name in _NESTED_COLUMNS and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, float) and math.isnan(value):
            value = None
        row[name] = value
    genres = {normalise_name(g) for g in record.get("genres") or () if g}
    for genre in MOVIELENS_GENRES:
        row[genre_flag(genre)] = normalise_name(genre) in genres
    row[MODEL_COLUMN] = model
    row[VECTOR_COLUMN] = [float(v) for v in vector]
    return row


def _decode(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row from the index as ``movies_info`` metadata (public columns, original types)."""
    record: dict[str, Any] = {}
    for name in PUBLIC_COLUMNS:
        if name not in values:
            continue
        value = values[name]
        if value is None:
            record[name] = None
        elif name in _NESTED_COLUMNS:
            record[name] = json.loads(value) if isinstance(value, str) else value
        elif name in _INT_COLUMNS:
            record[name] = int(value)
        elif name in _FLOAT_COLUMNS:
            record[name] = float(value)
        else:
            record[name] = value
    return record


def _hit(row: Mapping[str, Any]) -> SearchHit:
    return SearchHit(
        movie_id=int(row[PRIMARY_KEY]), score=float(row["score"]), metadata=_decode(row)
    )


def _from_value(value: Any) -> Any:
    """A protobuf ``Value`` from the scan route as a Python value."""
    if not isinstance(value, Mapping) or not value or "null_value" in value:
        return None
    if "bool_value" in value:
        return bool(value["bool_value"])
    if "number_value" in value:
        return value["number_value"]
    if "string_value" in value:
        return value["string_value"]
    if "list_value" in value:
        return [_from_value(v) for v in (value["list_value"] or {}).get("values", [])]
    if "struct_value" in value:
        fields = (value["struct_value"] or {}).get("fields", [])
        return {f["key"]: _from_value(f.get("value")) for f in fields}
    return None


# -- small helpers -------------------------------------------------------------------------------


def _bag_of_words(text: str, dimension: int = 4096) -> np.ndarray:
    import numpy as np

    vector = np.zeros(dimension, dtype=np.float64)
    for token in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        vector[int.from_bytes(digest, "little") % dimension] += 1.0
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _mmr_order(pool: np.ndarray, relevance: np.ndarray, k: int, trade_off: float) -> list[int]:
    import numpy as np

    pairwise = pool @ pool.T
    chosen: list[int] = []
    closest = np.full(len(relevance), -np.inf)
    available = np.ones(len(relevance), dtype=bool)
    for _ in range(min(k, len(relevance))):
        redundancy = np.where(np.isfinite(closest), closest, 0.0)
        objective = trade_off * relevance - (1.0 - trade_off) * redundancy
        objective[~available] = -np.inf
        pick = int(np.argmax(objective))
        chosen.append(pick)
        available[pick] = False
        closest = np.maximum(closest, pairwise[:, pick])
    return chosen


def _check_uc_name(name: str, what: str) -> None:
    if not _UC_NAME.match(name or ""):
        raise InvalidIndexNameError(
            f"{what}={name!r} is not a Unity Catalog name: Vector Search indexes are named "
            "catalog.schema.name, using letters, digits and underscores only (for example "
            "'main.silver.movies_index')"
        )


def _check_k(k: int) -> None:
    if k < 0:
        raise ValueError(f"k must be zero or more, got {k}")


def _check_mmr(mmr: float | None) -> None:
    if mmr is not None and not 0.0 <= mmr <= 1.0:
        raise ValueError(f"mmr is a trade-off in [0, 1] (1 = pure relevance), got {mmr}")


def _origin(table: TableSource) -> str:
    return "movies_info (Arrow table)" if isinstance(table, pa.Table) else str(table)


def _summary(exc: BaseException | None) -> str:
    if exc is None:
        return "no answer"
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"
