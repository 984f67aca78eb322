"""Ingestion: MovieLens and IMDb-like sources into the ``movies_info`` table.

Names are imported on first use: ``import movie_rag.ingest`` does not start Spark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.ingest.documents import DocumentTemplate, TokenCounter
    from movie_rag.ingest.imdb import IMDBFormat, IMDBLoader, IMDBSource
    from movie_rag.ingest.movie_info import MovieInfoBuilder, SourcePrecedence
    from movie_rag.ingest.movielens import MovieLensData, MovieLensLoader
    from movie_rag.ingest.quality import Quarantine, QuarantinedRow
    from movie_rag.ingest.report import BuildReport, FieldCoverage, InputSummary, SourceMatches

__all__ = [
    "BuildReport",
    "DocumentTemplate",
    "FieldCoverage",
    "IMDBFormat",
    "IMDBLoader",
    "IMDBSource",
    "InputSummary",
    "MovieInfoBuilder",
    "MovieLensData",
    "MovieLensLoader",
    "Quarantine",
    "QuarantinedRow",
    "SourceMatches",
    "SourcePrecedence",
    "TokenCounter",
]

_EXPORTS: dict[str, str] = {
    "DocumentTemplate": "movie_rag.ingest.documents",
    "TokenCounter": "movie_rag.ingest.documents",
    "IMDBFormat": "movie_rag.ingest.imdb",
    "IMDBLoader": "movie_rag.ingest.imdb",
    "IMDBSource": "movie_rag.ingest.imdb",
    "MovieInfoBuilder": "movie_rag.ingest.movie_info",
    "SourcePrecedence": "movie_rag.ingest.movie_info",
    "MovieLensData": "movie_rag.ingest.movielens",
    "MovieLensLoader": "movie_rag.ingest.movielens",
    "Quarantine": "movie_rag.ingest.quality",
    "QuarantinedRow": "movie_rag.ingest.quality",
    "BuildReport": "movie_rag.ingest.report",
    "FieldCoverage": "movie_rag.ingest.report",
    "InputSummary": "movie_rag.ingest.report",
    "SourceMatches": "movie_rag.ingest.report",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
