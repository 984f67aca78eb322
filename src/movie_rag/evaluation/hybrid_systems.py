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

from movie_rag.chain.assembly import FROM_SETTINGS, FromSettings
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
    "GivenHistories",
    "HybridSystem",
    "UserItemKNNSystem",
    "build_als",
    "build_content",
    "build_hybrid",
    "build_user_item_knn",
    "chain_for",
    "register",
]


class GivenHistories:
    """The taste of held-out users as the protocol gives it (not as a log has it).

    The chain asks it first for a user's profile (the ``profiles`` hook of
    :func:`~movie_rag.chain.assembly.assemble_chain`); anyone it does not know is profiled
    from the logs as usual.

    Args:
        collab: The chain's collaborative model, which folds a history into a taste factor.
    """

    def __init__(self, collab: CollaborativeModel | None) -> None:
        self.collab = collab
        self.current: dict[str, UserHistory] = {}

    def profile(self, user_id: str) -> UserProfile | None:
        """The profile of a held-out user of the current query, or None."""
        from movie_rag.collab.profile import UserProfile

        history = self.current.get(user_id)
        if history is None:
            return None
        factor = self.collab.fold_in(history.liked) if self.collab is not None else None
        return UserProfile(user_id=user_id, seen=history.seen, liked=history.liked, factor=factor)


class HybridSystem(ChainSystem):
    """The chain; per-user queries carry the user's history as a profile.

    Args:
        chain: The chain, assembled with ``profiles=histories.profile``.
        histories: The held-out histories the chain asks first.
        name: The system's name.
    """

    def __init__(
        self, chain: RecommenderChain, histories: GivenHistories, name: str = "hybrid"
    ) -> None:
        super().__init__(chain, name=name)
        self.histories = histories

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The chain's recommendations for ``query``."""
        self.histories.current = {}
        if query.label.startswith("user:") and query.user_id is not None:
            history = UserHistory(liked=tuple(query.seed_movie_ids), seen=query.exclude)
            self.histories.current = {query.user_id: history}
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
    context: EvalContext,
    settings: MovieRagSettings | None = None,
    *,
    collab: CollaborativeModel | FromSettings | None = FROM_SETTINGS,
    **overrides: Any,
) -> tuple[RecommenderChain, GivenHistories]:
    """A chain over the evaluation build with ``overrides`` applied to its settings.

    Args:
        context: The evaluation context.
        settings: Settings to start from (default the context's).
        collab: The collaborative model to rank with (default the build's, when
            ``collab_enabled``); the ranking and the held-out profiles both use it.
        **overrides: Settings fields to change.

    Returns:
        The chain and the held-out histories it asks for profiles.
    """
    from movie_rag.chain.assembly import assemble_chain
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.evaluation.systems import MemoisedQueries, _public

    settings = (settings or context.settings).model_copy(update=overrides)
    model = CollaborativeModel.open(settings) if collab is FROM_SETTINGS else collab
    histories = GivenHistories(model)
    chain = assemble_chain(
        settings,
        movies_info=_public(context.catalogue),
        collab=model,
        # Feedback of the evaluation workdir (if any) must not leak into the measurement.
        feedback=None,
        profiles=histories.profile,
        query_encoder=MemoisedQueries,
    )
    return chain, histories


def build_content(context: EvalContext) -> RecommenderSystem:
    """The chain on content alone (collaborative model off)."""
    chain, histories = chain_for(context, collab_enabled=False)
    return HybridSystem(chain, histories, name="content")


def build_hybrid(context: EvalContext) -> RecommenderSystem:
    """The chain with the collaborative signal (the default build)."""
    from movie_rag.errors import ConfigurationError

    chain, histories = chain_for(context)
    if chain.collab is None:
        raise ConfigurationError(
            "the evaluation build has no collaborative model; build with ratings and "
            "collab_enabled=true"
        )
    return HybridSystem(chain, histories, name="hybrid")


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
    """Add the hybrid's systems and protocols.

    Systems ``content``, ``hybrid``, ``als``, ``item-knn-user`` and ``item-knn-cosine``;
    protocols ``per-user`` and ``similar-specific``.
    """
    from movie_rag.evaluation.lift import SpecificSimilarProtocol, build_cosine_item_knn

    SYSTEMS.setdefault("content", build_content)
    SYSTEMS.setdefault("hybrid", build_hybrid)
    SYSTEMS.setdefault("als", build_als)
    SYSTEMS.setdefault("item-knn-user", build_user_item_knn)
    SYSTEMS.setdefault("item-knn-cosine", build_cosine_item_knn)
    PROTOCOLS.setdefault("per-user", PerUserProtocol())
    PROTOCOLS.setdefault("similar-specific", SpecificSimilarProtocol())
