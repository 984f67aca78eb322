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

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from movie_rag.errors import ConfigurationError
from movie_rag.index._mmr import mmr_order, mmr_pool, relevance_from_scores
from movie_rag.index.base import (
    IndexNotReadyError,
    IndexStatus,
    SearchHit,
    SearchMode,
    UnknownMovieError,
)
from movie_rag.index.databricks.codec import (
    FILTER_COLUMNS,
    MODEL_COLUMN,
    PRIMARY_KEY,
    PUBLIC_COLUMNS,
    SOURCE_COLUMN,
    VECTOR_COLUMN,
    check_uc_name,
    decode,
    hit,
)
from movie_rag.index.databricks.embedder import Embedder, bag_of_words
from movie_rag.index.databricks.errors import (
    DEFAULT_EMBEDDING_ENDPOINT,
    VectorSearchError,
    _Missing,
)
from movie_rag.index.databricks.filters import CompiledFilters, compile_filters
from movie_rag.index.databricks.sync import _Sync
from movie_rag.index.filters import SearchFilters

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from movie_rag.index.embeddings import TextEncoder
    from movie_rag.settings import MovieRagSettings

__all__ = ["DEFAULT_ENDPOINT_NAME", "DatabricksVectorIndex"]

logger = logging.getLogger("movie_rag")

#: Vector Search endpoint used when none is named.
DEFAULT_ENDPOINT_NAME = "movie_rag_vs"
#: Output dimension of the foundation-model embedding endpoints.
_KNOWN_DIMENSIONS = {"databricks-bge-large-en": 1024, "databricks-gte-large-en": 1024}
# Documented limits of the query API: 10,000 rows per query, 200 for hybrid search.
_MAX_RESULTS = 10_000
_HYBRID_MAX_RESULTS = 200


class DatabricksVectorIndex(_Sync):
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
        check_uc_name(index_name, "index_name")
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
        self._embedder = Embedder(embeddings, model_name) if embeddings is not None else None
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

    def _search(
        self,
        query: str,
        k: int,
        filters: SearchFilters | None,
        *,
        mode: SearchMode,
        mmr: float | None,
    ) -> list[SearchHit]:
        # Dense is Vector Search ANN, hybrid its HYBRID query (ANN fused with keyword search
        # over the text columns); see the module docs for which filters run in the index.
        compiled = compile_filters(filters, storage=self._storage)
        if k == 0 or compiled.matches_nothing:
            return []
        vector = self._embedder.query(query) if self._embedder is not None else None
        pool = k if mmr is None else mmr_pool(k)
        hits, stored = self._retrieve(
            query, vector, pool, filters, compiled, hybrid=mode == "hybrid", vectors=mmr is not None
        )
        if mmr is not None:
            hits = self._diversify(hits, stored, vector, k, mmr, dense=mode == "dense")
        return hits[:k]

    def _similar_to(self, movie_id: int, k: int, filters: SearchFilters | None) -> list[SearchHit]:
        # Self-managed, the query is the seed's stored vector (or its document embedded
        # again, when the index does not return vectors); managed, the seed's document is
        # sent as query text and embedded by the index's endpoint.
        document, vector = self._seed(movie_id)
        excluded = frozenset({movie_id} | set((filters and filters.exclude_ids) or ()))
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
            hits = [hit(row) for row in rows]
            passing = [h for h in hits if filters is None or filters.matches(h.metadata)][:k]
            return passing, self._vectors_of(rows)
        size = min(cap, max(4 * k + compiled.slack, 50))
        while True:
            rows = self._query(
                text=text,
                vector=vector,
                num_results=size,
                native=compiled.native,
                columns=FILTER_COLUMNS,
                hybrid=hybrid,
            )
            kept = [row for row in rows if filters is None or filters.matches(decode(row))]
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
                metadata=decode(full[int(row[PRIMARY_KEY])]),
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
            pool = np.stack([bag_of_words(doc) for doc in documents])
        scores = np.asarray([hit.score for hit in hits], dtype=np.float64)
        if dense and query_vector is not None:
            relevance = pool @ np.asarray(query_vector, dtype=np.float64)
        else:
            relevance = relevance_from_scores(scores)
        order = mmr_order(pool, relevance, k, trade_off)
        return [hits[i] for i in order]

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
