"""The Databricks Vector Search backend, split by concern.

:mod:`.index` holds :class:`DatabricksVectorIndex`; the error types, the filter compiler, the
row codec and the endpoint/index lifecycle live in sibling modules.
"""

from movie_rag.index.databricks.index import (
    DEFAULT_EMBEDDING_ENDPOINT,
    DEFAULT_ENDPOINT_NAME,
    PUBLIC_COLUMNS,
    CompiledFilters,
    DatabricksVectorIndex,
    EmbeddingEndpointNotFoundError,
    InvalidIndexNameError,
    VectorSearchError,
    VectorSearchQuotaError,
    VectorSearchUnavailableError,
    compile_filters,
    genre_flag,
)

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
