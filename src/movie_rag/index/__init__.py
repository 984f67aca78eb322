"""Vector index of movies_info: embeddings, filters, backends and the manager.

Names are imported on first use, so ``import movie_rag.index`` loads neither torch,
sentence-transformers nor LangChain's retriever machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.index._retriever import MovieIndexRetriever
    from movie_rag.index.base import (
        IndexMismatchError,
        IndexNotReadyError,
        IndexStatus,
        SearchHit,
        SyncReport,
        UnknownMovieError,
        VectorIndex,
    )
    from movie_rag.index.databricks import DatabricksVectorIndex
    from movie_rag.index.embeddings import LocalEmbeddings, TextEncoder
    from movie_rag.index.filters import SearchFilters
    from movie_rag.index.local import LocalVectorIndex
    from movie_rag.index.manager import VectorIndexManager
    from movie_rag.index.onnx_encoder import OnnxSentenceEncoder, export_onnx
    from movie_rag.index.spark_embeddings import embed_on_spark
    from movie_rag.index.vectorstore import MovieVectorStore

__all__ = [
    "DatabricksVectorIndex",
    "IndexMismatchError",
    "IndexNotReadyError",
    "IndexStatus",
    "LocalEmbeddings",
    "LocalVectorIndex",
    "MovieIndexRetriever",
    "MovieVectorStore",
    "OnnxSentenceEncoder",
    "SearchFilters",
    "SearchHit",
    "SyncReport",
    "TextEncoder",
    "UnknownMovieError",
    "VectorIndex",
    "VectorIndexManager",
    "embed_on_spark",
    "export_onnx",
]

_EXPORTS: dict[str, str] = {
    "MovieIndexRetriever": "movie_rag.index._retriever",
    "IndexMismatchError": "movie_rag.index.base",
    "IndexNotReadyError": "movie_rag.index.base",
    "IndexStatus": "movie_rag.index.base",
    "SearchHit": "movie_rag.index.base",
    "SyncReport": "movie_rag.index.base",
    "UnknownMovieError": "movie_rag.index.base",
    "VectorIndex": "movie_rag.index.base",
    "DatabricksVectorIndex": "movie_rag.index.databricks",
    "LocalEmbeddings": "movie_rag.index.embeddings",
    "TextEncoder": "movie_rag.index.embeddings",
    "SearchFilters": "movie_rag.index.filters",
    "LocalVectorIndex": "movie_rag.index.local",
    "VectorIndexManager": "movie_rag.index.manager",
    "MovieVectorStore": "movie_rag.index.vectorstore",
    "OnnxSentenceEncoder": "movie_rag.index.onnx_encoder",
    "export_onnx": "movie_rag.index.onnx_encoder",
    "embed_on_spark": "movie_rag.index.spark_embeddings",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
