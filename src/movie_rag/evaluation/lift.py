"""Like X judged on what X's fans *specifically* like: the popularity-normalised truth.

The ``similar`` protocol counts a held-out user's other likes as relevant, and with a like
threshold of 4 those are mostly the all-time favourites: popularity alone scores close to the
best systems there, and a system that answers Pulp Fiction to every seed is not punished.
The ``similar-specific`` protocol asks instead what the held-out users who liked X liked
*more than everybody else does*:

* the held-out users are the split's test users (the tuning script swaps in the validation
  users); ``L(m)`` is the set of held-out users who liked movie m (rating >= ``like_threshold``);
* a seed X qualifies when at least ``specific_min_likers`` held-out users liked it and at
  least ``seed_min_train_ratings`` training users rated it (so every system knows it);
* a candidate j's relevance is its co-likes normalised by both movies' popularity among the
  held-out users, the lift ``|L(X) ∩ L(j)| · N / (|L(X)| · |L(j)|)`` (``N`` held-out users):
  how many times more often X's fans liked j than everybody did;
* j is relevant when its lift is at least ``specific_min_lift`` (2: X's fans liked it at
  least twice as often as everybody) and at least ``specific_min_co_likes`` (2) of X's fans
  liked it (one co-like is a coincidence); a seed with fewer than 5 relevant movies is
  skipped.

One query per qualifying seed, ``I liked '{Title (Year)}'. Anything similar?``, in movie-id
order (``specific_queries`` draws that many with the seed when set). The harness adds
``concentration``, the share of recommendations among the 1% most-rated movies, to every
protocol; here it says how much of a system's answer is the usual blockbusters.

Baselines next to the chain: ``popularity`` and ``item-knn-cosine``, plain cosine item-kNN
(``alpha = 0.5``, no shrinkage) over the same training ratings.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from movie_rag.evaluation.protocols import EvalQuery
from movie_rag.evaluation.systems import ItemKNNSystem

if TYPE_CHECKING:
    import pyarrow as pa

    from movie_rag.evaluation.systems import EvalContext, RecommenderSystem

__all__ = [
    "SpecificSimilarProtocol",
    "build_cosine_item_knn",
    "held_out_likers",
    "specific_truth",
]

#: A seed whose truth has fewer relevant movies is not asked about.
MIN_TRUTH = 5


def held_out_likers(ratings: pa.Table, like_threshold: float) -> dict[int, frozenset[int]]:
    """Movie id → the users of ``ratings`` who liked it (rating >= ``like_threshold``)."""
    liked = ratings.filter(pc.greater_equal(ratings.column("rating"), like_threshold))
    likers: dict[int, set[int]] = defaultdict(set)
    for user, movie in zip(
        liked.column("user_id").to_pylist(), liked.column("movie_id").to_pylist(), strict=True
    ):
        likers[int(movie)].add(int(user))
    return {m: frozenset(users) for m, users in likers.items()}


def specific_truth(
    likers: dict[int, frozenset[int]],
    seed: int,
    users: int,
    *,
    min_lift: float = 2.0,
    min_co_likes: int = 2,
    allowed: frozenset[int] | None = None,
) -> dict[int, float]:
    """The movies X's fans specifically liked: co-likes over both movies' popularity.

    Args:
        likers: Movie id → held-out users who liked it (:func:`held_out_likers`).
        seed: The movie X.
        users: Number of held-out users (``N`` of the lift).
        min_lift: Least lift ``co · N / (n_X · n_j)`` of a relevant movie.
        min_co_likes: Least co-likes of a relevant movie with X.
        allowed: Candidate ids (the catalogue); None allows every movie.

    Returns:
        Relevant movie id → its lift.

    Example:
        >>> likers = {1: frozenset({1, 2, 3, 4}), 2: frozenset(range(1, 9)),
        ...           3: frozenset({1, 2, 3}), 4: frozenset({1, 9})}
        >>> specific_truth(likers, 1, users=10)  # 2 is liked by most: lift 1.25
        {3: 2.5}
    """
    fans = likers.get(seed, frozenset())
    relevant: dict[int, float] = {}
    for movie, movie_fans in likers.items():
        if not fans or movie == seed or (allowed is not None and movie not in allowed):
            continue
        co = len(fans & movie_fans)
        if co < min_co_likes:
            continue
        lift = co * users / (len(fans) * len(movie_fans))
        if lift >= min_lift:
            relevant[movie] = lift
    return relevant


class SpecificSimilarProtocol:
    """I liked X queries; relevant = what X's held-out fans liked beyond its popularity."""

    name = "similar-specific"
    description = "'I liked X' queries, truth = co-likes of X's held-out fans over popularity"

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        """One query per qualifying seed, in movie-id order."""
        params = context.params
        held_out = context.split.test_ratings(context.ratings)
        likers = held_out_likers(held_out, params.like_threshold)
        users = len(set(held_out.column("user_id").to_pylist()))
        catalogue = context.catalogue_ids
        train_counts = context.rating_counts
        seeds = sorted(
            m
            for m, users in likers.items()
            if m in catalogue
            and len(users) >= params.specific_min_likers
            and train_counts.get(m, 0) >= params.seed_min_train_ratings
        )
        out = []
        for seed in seeds:
            truth = specific_truth(
                likers,
                seed,
                users,
                min_lift=params.specific_min_lift,
                min_co_likes=params.specific_min_co_likes,
                allowed=catalogue,
            )
            if len(truth) < MIN_TRUTH:
                continue
            out.append(
                EvalQuery(
                    query=params.similar_template.format(title=context.display_title(seed)),
                    seed_movie_ids=[seed],
                    relevant=frozenset(truth),
                    exclude=frozenset({seed}),
                    label=str(seed),
                )
            )
        if params.specific_queries is not None and len(out) > params.specific_queries:
            drawn = random.Random(params.seed).sample(range(len(out)), params.specific_queries)
            out = [out[i] for i in sorted(drawn)]
        return out


def build_cosine_item_knn(context: EvalContext) -> RecommenderSystem:
    """Plain cosine item-kNN (alpha 0.5, no shrinkage) over the training users' ratings."""
    from movie_rag.collab.item_knn import fit_item_knn

    neighbours = fit_item_knn(
        context.train_ratings, like_threshold=context.params.like_threshold, alpha=0.5
    )
    system = ItemKNNSystem(neighbours)
    system.name = "item-knn-cosine"
    system.protocols = frozenset({"similar", "similar-specific"})
    return system
