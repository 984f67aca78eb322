"""The hybrid ranking and its parts as evaluation systems, and the per-user protocol.

Systems (all over the evaluation build, whose collaborative model saw only training users):

``content``
    The chain with the collaborative model switched off: content similarity, rating prior and
    popularity, the original design.
``hybrid``
    The chain as built (the default): content, co-likes, rating, popularity and, for a user
    with history, their taste.
``als``
    Implicit ALS alone: a held-out user's liked movies folded into the trained item factors
    (per-user protocol only).
``item-knn-user``
    The harness's item-kNN (the same neighbours) seeded with all of a held-out user's liked
    movies (per-user protocol only).

Item-kNN alone and popularity are the harness's own baselines. :func:`register` adds these
systems and the ``per-user`` protocol to the registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from movie_rag.chain.recommender import RecommenderChain
from movie_rag.evaluation.per_user import PerUserProtocol, UserHistory
from movie_rag.evaluation.protocols import PROTOCOLS, EvalQuery
from movie_rag.evaluation.systems import SYSTEMS, ChainSystem, EvalContext, RecommenderSystem

if TYPE_CHECKING:
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.collab.profile import UserProfile
    from movie_rag.settings import MovieRagSettings

__all__ = [
    "ALSSystem",
    "HybridSystem",
    "UserItemKNNSystem",
    "build_als",
    "build_content",
    "build_hybrid",
    "build_user_item_knn",
    "register",
]


class _HistoryChain(RecommenderChain):
    """The chain, with the taste of held-out users given by the protocol (not by a log)."""

    histories: dict[str, UserHistory]

    def profile(self, user_id: str) -> UserProfile:
        """A held-out user's profile from their given history; anyone else as usual."""
        from movie_rag.collab.profile import UserProfile

        history = getattr(self, "histories", {}).get(user_id)
        if history is None:
            return super().profile(user_id)
        factor = self.collab.fold_in(history.liked) if self.collab is not None else None
        return UserProfile(user_id=user_id, seen=history.seen, liked=history.liked, factor=factor)


class HybridSystem(ChainSystem):
    """The chain; per-user queries carry the user's history as a profile."""

    chain: _HistoryChain

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The chain's recommendations for ``query``."""
        self.chain.histories = {}
        if query.label.startswith("user:") and query.user_id is not None:
            history = UserHistory(liked=tuple(query.seed_movie_ids), seen=query.exclude)
            self.chain.histories = {query.user_id: history}
        return super().recommend(query, k)


class ALSSystem:
    """Implicit-ALS preference of a user's folded-in factor over every movie."""

    name = "als"
    protocols = frozenset({"per-user"})

    def __init__(self, model: CollaborativeModel, catalogue_ids: frozenset[int]) -> None:
        self._model = model
        self._in_catalogue = np.array([int(m) in catalogue_ids for m in model.item_ids])

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The ``k`` movies with the highest preference, never a seen one."""
        factor = self._model.fold_in(query.seed_movie_ids)
        if factor is None:
            return []
        scores = np.where(self._in_catalogue, self._model.item_factors @ factor, -np.inf)
        out: list[int] = []
        for row in np.argsort(-scores, kind="stable"):
            movie_id = int(self._model.item_ids[row])
            if movie_id not in query.exclude and np.isfinite(scores[row]):
                out.append(movie_id)
                if len(out) == k:
                    break
        return out


class UserItemKNNSystem:
    """Co-like neighbours of everything the user liked, summed; never a seen movie."""

    name = "item-knn-user"
    protocols = frozenset({"per-user"})

    def __init__(self, neighbours: Any) -> None:
        self._neighbours = neighbours

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The liked movies' nearest neighbours."""
        pairs = self._neighbours.similar_to(query.seed_movie_ids, k, exclude=query.exclude)
        return [int(movie_id) for movie_id, _ in pairs]


def chain_for(
    context: EvalContext, settings: MovieRagSettings | None = None, **overrides: Any
) -> _HistoryChain:
    """A chain over the evaluation build with ``overrides`` applied to its settings."""
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.evaluation.systems import _public

    settings = (settings or context.settings).model_copy(update=overrides)
    chain = _HistoryChain.from_settings(settings, movies_info=_public(context.catalogue))
    # Feedback of the evaluation workdir (if any) must not leak into the measurement.
    chain.feedback = None
    if chain.collab is None and settings.collab_enabled:
        chain.collab = CollaborativeModel.open(settings)
    return chain  # type: ignore[return-value]


def build_content(context: EvalContext) -> RecommenderSystem:
    """The chain on content alone (collaborative model off)."""
    return HybridSystem(chain_for(context, collab_enabled=False), name="content")


def build_hybrid(context: EvalContext) -> RecommenderSystem:
    """The chain with the collaborative signal (the default build)."""
    from movie_rag.errors import ConfigurationError

    chain = chain_for(context)
    if chain.collab is None:
        raise ConfigurationError(
            "the evaluation build has no collaborative model; build with ratings and "
            "collab_enabled=true"
        )
    return HybridSystem(chain, name="hybrid")


def build_als(context: EvalContext) -> RecommenderSystem:
    """ALS alone (per-user protocol)."""
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.errors import ConfigurationError

    model = CollaborativeModel.open(context.settings)
    if model is None:
        raise ConfigurationError("the evaluation build has no collaborative model")
    return ALSSystem(model, context.catalogue_ids)


def build_user_item_knn(context: EvalContext) -> RecommenderSystem:
    """Item-kNN over a user's liked movies (per-user protocol)."""
    from movie_rag.collab.item_knn import fit_item_knn

    neighbours = fit_item_knn(context.train_ratings, like_threshold=context.params.like_threshold)
    return UserItemKNNSystem(neighbours)


def register() -> None:
    """Add ``content``, ``hybrid``, ``als``, ``item-knn-user`` and ``per-user``."""
    SYSTEMS.setdefault("content", build_content)
    SYSTEMS.setdefault("hybrid", build_hybrid)
    SYSTEMS.setdefault("als", build_als)
    SYSTEMS.setdefault("item-knn-user", build_user_item_knn)
    PROTOCOLS.setdefault("per-user", PerUserProtocol())
