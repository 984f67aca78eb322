"""Collaborative filtering: co-like neighbours and ALS factors learnt from ratings.

Names are imported on first use: ``import movie_rag.collab`` loads neither Spark nor
implicit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.collab.item_knn import (
        NEIGHBOURS_SCHEMA,
        ItemNeighbours,
        fit_item_knn,
        neighbour_score,
    )
    from movie_rag.collab.model import (
        FORMAT_VERSION,
        CollaborativeModel,
        collab_engine,
        collab_location,
        live_version,
        ratings_fingerprint,
        train_collaborative,
    )
    from movie_rag.collab.profile import UserProfile, build_profile

__all__ = [
    "FORMAT_VERSION",
    "NEIGHBOURS_SCHEMA",
    "CollaborativeModel",
    "ItemNeighbours",
    "UserProfile",
    "build_profile",
    "collab_engine",
    "collab_location",
    "fit_item_knn",
    "live_version",
    "neighbour_score",
    "ratings_fingerprint",
    "train_collaborative",
]

_EXPORTS: dict[str, str] = {
    "ItemNeighbours": "movie_rag.collab.item_knn",
    "NEIGHBOURS_SCHEMA": "movie_rag.collab.item_knn",
    "fit_item_knn": "movie_rag.collab.item_knn",
    "neighbour_score": "movie_rag.collab.item_knn",
    "CollaborativeModel": "movie_rag.collab.model",
    "FORMAT_VERSION": "movie_rag.collab.model",
    "collab_engine": "movie_rag.collab.model",
    "collab_location": "movie_rag.collab.model",
    "live_version": "movie_rag.collab.model",
    "ratings_fingerprint": "movie_rag.collab.model",
    "train_collaborative": "movie_rag.collab.model",
    "UserProfile": "movie_rag.collab.profile",
    "build_profile": "movie_rag.collab.profile",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
