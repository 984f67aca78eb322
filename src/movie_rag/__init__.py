"""movie_rag: a movie-recommendation RAG system, embedded (offline) or on Databricks.

Public names are imported lazily so that ``import movie_rag`` stays fast and needs none of
the optional extras (pyspark, torch, mlflow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports
from movie_rag._version import __version__ as __version__

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.chain.types import Recommendation, RecommendationResponse
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
    from movie_rag.platform import Platform, platform_for
    from movie_rag.publish.publisher import ModelPublisher
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark
    from movie_rag.tables import TableStore
    from movie_rag.ui.client import EndpointClient
    from movie_rag.workdir import Workdir
    from movie_rag.workspace import WorkspaceAuthError, workspace_client, workspace_config

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
    "Platform",
    "Quarantine",
    "Recommendation",
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
    "platform_for",
    "sample_catalogue",
    "workspace_client",
    "workspace_config",
]

_EXPORTS: dict[str, str] = {
    "RecommenderChain": "movie_rag.chain.recommender",
    "Recommendation": "movie_rag.chain.types",
    "RecommendationResponse": "movie_rag.chain.types",
    "fetch_movielens": "movie_rag.datasets",
    "sample_catalogue": "movie_rag.datasets",
    "ConfigurationError": "movie_rag.errors",
    "DataValidationError": "movie_rag.errors",
    "DownloadError": "movie_rag.errors",
    "InputFileError": "movie_rag.errors",
    "MovieRagError": "movie_rag.errors",
    "WorkdirError": "movie_rag.errors",
    "SearchFilters": "movie_rag.index.filters",
    "VectorIndexManager": "movie_rag.index.manager",
    "DocumentTemplate": "movie_rag.ingest.documents",
    "IMDBLoader": "movie_rag.ingest.imdb",
    "IMDBSource": "movie_rag.ingest.imdb",
    "MovieInfoBuilder": "movie_rag.ingest.movie_info",
    "SourcePrecedence": "movie_rag.ingest.movie_info",
    "MovieLensData": "movie_rag.ingest.movielens",
    "MovieLensLoader": "movie_rag.ingest.movielens",
    "Quarantine": "movie_rag.ingest.quality",
    "BuildReport": "movie_rag.ingest.report",
    "build_catalogue": "movie_rag.pipeline",
    "Platform": "movie_rag.platform",
    "platform_for": "movie_rag.platform",
    "ModelPublisher": "movie_rag.publish.publisher",
    "MovieRagSettings": "movie_rag.settings",
    "get_spark": "movie_rag.spark",
    "TableStore": "movie_rag.tables",
    "EndpointClient": "movie_rag.ui.client",
    "Workdir": "movie_rag.workdir",
    "WorkspaceAuthError": "movie_rag.workspace",
    "workspace_client": "movie_rag.workspace",
    "workspace_config": "movie_rag.workspace",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
