"""The Databricks Vector Search backend, split by concern.

:mod:`.index` holds :class:`DatabricksVectorIndex` (construction and search); :mod:`.sync`
builds and syncs it, :mod:`.lifecycle` creates, waits for and deletes the endpoint and index,
:mod:`.client` owns the clients and their retries; :mod:`.filters` compiles
:class:`~movie_rag.index.filters.SearchFilters`, :mod:`.codec` maps rows to and from the
index, :mod:`.errors` holds the error types.
"""

from movie_rag.index.databricks.codec import PUBLIC_COLUMNS, genre_flag
from movie_rag.index.databricks.errors import (
    DEFAULT_EMBEDDING_ENDPOINT,
    EmbeddingEndpointNotFoundError,
    InvalidIndexNameError,
    VectorSearchError,
    VectorSearchQuotaError,
    VectorSearchUnavailableError,
)
from movie_rag.index.databricks.filters import CompiledFilters, compile_filters
from movie_rag.index.databricks.index import DEFAULT_ENDPOINT_NAME, DatabricksVectorIndex

__all__ = [
    "DEFAULT_EMBEDDING_ENDPOINT",
    "DEFAULT_ENDPOINT_NAME",
    "PUBLIC_COLUMNS",
    "CompiledFilters",
    "DatabricksVectorIndex",
    "EmbeddingEndpointNotFoundError",
    "InvalidIndexNameError",
    "VectorSearchError",
    "VectorSearchQuotaError",
    "VectorSearchUnavailableError",
    "compile_filters",
    "genre_flag",
]
