"""The per-user protocol: hold out each test user's last likes, recommend from the rest.

In the style of the MovieLens tables of recommender toolkits (leave-last-out, HR@10 and
nDCG@10): for every test user with more than ``min_history + holdout`` likes (rating >=
``like_threshold``), the ``holdout`` most recent likes are the relevant movies; every other
rating of the user is the history a system may use (and must not recommend again). Test users
are not in the evaluation build, so their history reaches a system the way a new user's taste
does: as the query's seed movies (the liked part) and ``exclude`` (everything rated), and, for
the chain, as a profile folded into the trained ALS factors without retraining.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from movie_rag.evaluation.protocols import EvalQuery

if TYPE_CHECKING:
    from movie_rag.evaluation.systems import EvalContext

__all__ = ["PerUserProtocol", "UserHistory"]

#: The question a personalised query asks: no topic, the user's taste decides.
PER_USER_QUERY = "Recommend me some movies"


@dataclass(frozen=True)
class UserHistory:
    """What a system may know about one held-out user.

    Attributes:
        liked: Liked movies outside the held-out ones, oldest first.
        seen: Every movie the user rated outside the held-out ones.
    """

    liked: tuple[int, ...]
    seen: frozenset[int]


class PerUserProtocol:
    """Leave-last-likes-out for held-out users; relevant = their most recent likes.

    Args:
        holdout: Most recent likes held out per user.
        min_history: Likes a user must keep besides the held-out ones.
        users: Which users of the split: ``"test"`` (evaluation) or ``"validation"`` (tuning).
    """

    name = "per-user"
    description = "each held-out user's last likes, predicted from the rest of their ratings"

    def __init__(self, holdout: int = 5, min_history: int = 5, users: str = "test") -> None:
        if users not in ("test", "validation"):
            raise ValueError(f"users must be 'test' or 'validation', got {users!r}")
        self.holdout = holdout
        self.min_history = min_history
        self.users = users

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        """One query per eligible user, in user-id order."""
        return [query for query, _ in self.queries_with_history(context)]

    def queries_with_history(self, context: EvalContext) -> list[tuple[EvalQuery, UserHistory]]:
        """The queries and, for each, the history a system may use."""
        split = context.split
        ratings = (
            split.test_ratings(context.ratings)
            if self.users == "test"
            else split.validation_ratings(context.ratings)
        )
        threshold = context.params.like_threshold
        rows: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
        for user, movie, stars, when in zip(
            ratings.column("user_id").to_pylist(),
            ratings.column("movie_id").to_pylist(),
            ratings.column("rating").to_pylist(),
            ratings.column("timestamp").to_pylist(),
            strict=True,
        ):
            if movie in context.catalogue_ids:
                rows[int(user)].append((int(when), int(movie), float(stars)))
        out = []
        for user in sorted(rows):
            # Time order; ties on the timestamp fall back to the movie id (deterministic).
            events = sorted(rows[user])
            likes = [movie for _, movie, stars in events if stars >= threshold]
            if len(likes) < self.holdout + self.min_history:
                continue
            held_out = frozenset(likes[-self.holdout :])
            seen = frozenset(movie for _, movie, _ in events) - held_out
            liked = tuple(m for m in likes if m not in held_out)
            query = EvalQuery(
                query=PER_USER_QUERY,
                seed_movie_ids=list(liked),
                user_id=str(user),
                relevant=held_out,
                exclude=seen,
                label=f"user:{user}",
            )
            out.append((query, UserHistory(liked=liked, seen=seen)))
        return out
