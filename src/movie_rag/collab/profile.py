"""A user's taste for personalisation: MovieLens history plus thumbs from the UI.

Numeric user ids name MovieLens users (their ratings are in the collaborative model); any
user, MovieLens or not, also has the thumbs they gave in the UI
(:class:`~movie_rag.feedback.local.LocalFeedbackStore`). Votes are read on every request from
the append-only feedback log, so a new thumb changes the next answer without a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.feedback.local import LocalFeedbackStore

__all__ = ["UserProfile", "build_profile"]


@dataclass(frozen=True)
class UserProfile:
    """What personalisation knows about one user.

    Attributes:
        user_id: The id as given to the chain.
        seen: Movies the user rated in MovieLens or voted on in the UI (never recommended).
        liked: Movies rated at or above the like threshold or thumbed up, latest vote winning.
        disliked: Movies thumbed down (never recommended, and they push the factor away).
        factor: An ALS user factor (the trained one, or folded in from the votes), if any.
    """

    user_id: str
    seen: frozenset[int] = frozenset()
    liked: tuple[int, ...] = ()
    disliked: frozenset[int] = frozenset()
    factor: np.ndarray | None = field(default=None, compare=False)

    @property
    def excluded(self) -> frozenset[int]:
        """Movies personalised answers never include."""
        return self.seen | self.disliked

    @property
    def has_taste(self) -> bool:
        """Whether there is anything to rank with (liked movies or a factor)."""
        return bool(self.liked) or self.factor is not None


def build_profile(
    user_id: str,
    model: CollaborativeModel | None,
    feedback: LocalFeedbackStore | None,
    *,
    like_threshold: float = 4.0,
) -> UserProfile:
    """The profile of ``user_id`` from the model's ratings and the feedback log.

    Args:
        user_id: A MovieLens user id (digits) or any UI user name.
        model: The collaborative model (None: feedback only, no factor).
        feedback: The feedback store (None: MovieLens history only).
        like_threshold: Used when there is no model to say which rating is a like.

    Returns:
        The profile (empty for a user nobody knows).
    """
    history: dict[int, float] = {}
    known = model is not None and user_id.strip().isdigit()
    if known and model is not None:
        history = model.history(int(user_id))
        like_threshold = model.like_threshold
    votes = feedback.movie_votes(user_id) if feedback is not None else {}
    liked = {m: True for m, stars in history.items() if stars >= like_threshold}
    for movie_id, vote in votes.items():
        if vote > 0:
            liked[movie_id] = True
        else:
            liked.pop(movie_id, None)  # a later thumbs-down overrides a high rating
    disliked = frozenset(m for m, vote in votes.items() if vote < 0)
    factor = None
    if model is not None:
        trained = model.user_factor(int(user_id)) if known else None
        # The trained factor is exact for the ratings; UI votes are folded in on top of them.
        factor = trained if trained is not None and not votes else None
        if factor is None and liked:
            factor = model.fold_in(list(liked), sorted(disliked))
    return UserProfile(
        user_id=user_id,
        seen=frozenset(history) | frozenset(votes),
        liked=tuple(liked),
        disliked=disliked,
        factor=factor,
    )
