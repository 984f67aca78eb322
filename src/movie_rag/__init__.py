"""movie_rag: a movie-recommendation RAG system, embedded (offline) or on Databricks.

Public names are imported lazily so that ``import movie_rag`` stays fast and needs none of
the optional extras (pyspark, torch, mlflow).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "ModelPublisher": "movie_rag.publish.publisher",
    "Recommendation": "movie_rag.chain.types",
    "RecommendationRequest": "movie_rag.chain.types",
    "RecommendationResponse": "movie_rag.chain.types",
    "RecommenderChain": "movie_rag.chain.recommender",
    "SearchFilters": "movie_rag.index.filters",
    "VectorIndexManager": "movie_rag.index.manager",
    "BuildReport": "movie_rag.ingest.report",
    "ConfigurationError": "movie_rag.errors",
    "DataValidationError": "movie_rag.errors",
    "DocumentTemplate": "movie_rag.ingest.documents",
    "DownloadError": "movie_rag.errors",
    "EndpointClient": "movie_rag.ui.client",
    "IMDBLoader": "movie_rag.ingest.imdb",
    "IMDBSource": "movie_rag.ingest.imdb",
    "InputFileError": "movie_rag.errors",
    "MovieInfoBuilder": "movie_rag.ingest.movie_info",
    "MovieLensData": "movie_rag.ingest.movielens",
    "MovieLensLoader": "movie_rag.ingest.movielens",
    "MovieRagError": "movie_rag.errors",
    "MovieRagSettings": "movie_rag.settings",
    "Quarantine": "movie_rag.ingest.quality",
    "SourcePrecedence": "movie_rag.ingest.movie_info",
    "TableStore": "movie_rag.tables",
    "Workdir": "movie_rag.workdir",
    "WorkdirError": "movie_rag.errors",
    "build_catalogue": "movie_rag.pipeline",
    "fetch_movielens": "movie_rag.datasets",
    "get_spark": "movie_rag.spark",
    "sample_catalogue": "movie_rag.datasets",
    "WorkspaceAuthError": "movie_rag.workspace",
    "workspace_client": "movie_rag.workspace",
    "workspace_config": "movie_rag.workspace",
}

__all__ = [
    "BuildReport",
    "ConfigurationError",
    "DataValidationError",
    "DocumentTemplate",
    "DownloadError",
    "EndpointClient",
    "IMDBLoader",
    "IMDBSource",
    "InputFileError",
    "ModelPublisher",
    "MovieInfoBuilder",
    "MovieLensData",
    "MovieLensLoader",
    "MovieRagError",
    "MovieRagSettings",
    "Quarantine",
    "Recommendation",
    "RecommendationRequest",
    "RecommendationResponse",
    "RecommenderChain",
    "SearchFilters",
    "SourcePrecedence",
    "TableStore",
    "VectorIndexManager",
    "Workdir",
    "WorkdirError",
    "WorkspaceAuthError",
    "build_catalogue",
    "fetch_movielens",
    "get_spark",
    "sample_catalogue",
    "workspace_client",
    "workspace_config",
]

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.chain.types import (
        Recommendation,
        RecommendationRequest,
        RecommendationResponse,
    )
    from movie_rag.datasets import fetch_movielens, sample_catalogue
    from movie_rag.errors import (
        ConfigurationError,
        DataValidationError,
        DownloadError,
        InputFileError,
        MovieRagError,
        WorkdirError,
    )
    from movie_rag.index.filters import SearchFilters
    from movie_rag.index.manager import VectorIndexManager
    from movie_rag.ingest.documents import DocumentTemplate
    from movie_rag.ingest.imdb import IMDBLoader, IMDBSource
    from movie_rag.ingest.movie_info import MovieInfoBuilder, SourcePrecedence
    from movie_rag.ingest.movielens import MovieLensData, MovieLensLoader
    from movie_rag.ingest.quality import Quarantine
    from movie_rag.ingest.report import BuildReport
    from movie_rag.pipeline import build_catalogue
    from movie_rag.publish.publisher import ModelPublisher
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark
    from movie_rag.tables import TableStore
    from movie_rag.ui.client import EndpointClient
    from movie_rag.workdir import Workdir
    from movie_rag.workspace import WorkspaceAuthError, workspace_client, workspace_config


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'movie_rag' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
