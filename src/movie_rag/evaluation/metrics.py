"""Ranking and beyond-accuracy metrics over recommendation lists.

Ranking metrics take one list (movie ids, best first), the relevant set and ``k``; the harness
averages them over queries. Relevance is binary.

- ``precision@k`` = hits in the top k / k
- ``recall@k`` = hits in the top k / |relevant|
- ``hit_rate@k`` = 1 if any of the top k is relevant
- ``ndcg@k`` = DCG of the top k (gain 1 / log2(rank + 1)) over the DCG of an ideal list of
  min(k, |relevant|) hits
- ``mrr`` = 1 / rank of the first relevant movie in the top k (0 if none)

Beyond accuracy, over all lists of one system on one protocol:

- ``coverage`` = distinct recommended movies / catalogue size
- ``diversity`` (intra-list) = mean pairwise Jaccard distance of the movies' genre sets
- ``novelty`` = mean self-information ``-log2((n_i + 1) / (n_users + 1))`` of the recommended
  movies, ``n_i`` the number of training users who rated movie i
- ``popularity`` = mean training rating count of recommended movies (average recommendation
  popularity; lower means less popularity bias)
- ``concentration`` = share of recommended movies that are among the 1% most-rated movies
  (training rating counts): how much of what is recommended is the usual blockbusters
- ``grounding`` = share of returned ids that are catalogue movies

Example:
    >>> ndcg_at_k([3, 1, 2], {1, 2}, 3)
    0.693...
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

__all__ = [
    "catalogue_coverage",
    "concentration",
    "grounding_rate",
    "hit_rate_at_k",
    "intra_list_diversity",
    "most_rated",
    "ndcg_at_k",
    "novelty",
    "popularity",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
]


def precision_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Share of the top ``k`` slots holding a relevant movie (a short list is not padded)."""
    _check_k(k)
    return sum(1 for m in recommended[:k] if m in relevant) / k


def recall_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Share of the relevant movies found in the top ``k`` (0 when nothing is relevant)."""
    _check_k(k)
    if not relevant:
        return 0.0
    return sum(1 for m in recommended[:k] if m in relevant) / len(relevant)


def hit_rate_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """1.0 if any of the top ``k`` is relevant, else 0.0."""
    _check_k(k)
    return 1.0 if any(m in relevant for m in recommended[:k]) else 0.0


def ndcg_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Normalised discounted cumulative gain of the top ``k`` with binary relevance."""
    _check_k(k)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    if ideal == 0.0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 2) for rank, m in enumerate(recommended[:k]) if m in relevant)
    return dcg / ideal


def reciprocal_rank(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """1 / rank of the first relevant movie within the top ``k``; 0 if there is none."""
    _check_k(k)
    for rank, m in enumerate(recommended[:k], start=1):
        if m in relevant:
            return 1.0 / rank
    return 0.0


def catalogue_coverage(lists: Sequence[Sequence[int]], catalogue_size: int) -> float:
    """Distinct movies recommended across all lists over the catalogue size."""
    if catalogue_size <= 0:
        raise ValueError(f"catalogue_size must be positive, got {catalogue_size}")
    return len({m for items in lists for m in items}) / catalogue_size


def intra_list_diversity(
    lists: Sequence[Sequence[int]], genres: Mapping[int, Collection[str]]
) -> float:
    """Mean over lists of the mean pairwise Jaccard distance between genre sets.

    Lists with fewer than two movies are skipped; movies without genres count as an empty
    set (distance 1 to anything non-empty, 0 to another empty set).
    """
    per_list = []
    for items in lists:
        sets = [frozenset(genres.get(m, ())) for m in items]
        if len(sets) < 2:
            continue
        total = 0.0
        pairs = 0
        for i in range(len(sets)):
            for j in range(i + 1, len(sets)):
                union = sets[i] | sets[j]
                total += 1.0 - (len(sets[i] & sets[j]) / len(union) if union else 1.0)
                pairs += 1
        per_list.append(total / pairs)
    return sum(per_list) / len(per_list) if per_list else 0.0


def novelty(
    lists: Sequence[Sequence[int]], rating_counts: Mapping[int, int], n_users: int
) -> float:
    """Mean self-information (bits) of every recommended movie, from training rating counts."""
    values = [
        -math.log2((rating_counts.get(m, 0) + 1) / (n_users + 1)) for items in lists for m in items
    ]
    return sum(values) / len(values) if values else 0.0


def popularity(lists: Sequence[Sequence[int]], rating_counts: Mapping[int, int]) -> float:
    """Mean training rating count of every recommended movie (popularity bias)."""
    values = [rating_counts.get(m, 0) for items in lists for m in items]
    return sum(values) / len(values) if values else 0.0


def most_rated(rating_counts: Mapping[int, int], share: float = 0.01) -> frozenset[int]:
    """The ``share`` most-rated movies (at least one), ties to the smaller id.

    Example:
        >>> sorted(most_rated({1: 5, 2: 9, 3: 9, 4: 1}, share=0.5))
        [2, 3]
    """
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    rated = [m for m, n in rating_counts.items() if n > 0]
    size = max(1, round(share * len(rated))) if rated else 0
    return frozenset(sorted(rated, key=lambda m: (-rating_counts[m], m))[:size])


def concentration(
    lists: Sequence[Sequence[int]], rating_counts: Mapping[int, int], share: float = 0.01
) -> float:
    """Share of all recommended movies that are among the ``share`` most-rated movies.

    Example:
        >>> concentration([[2, 4], [3, 1]], {1: 5, 2: 9, 3: 9, 4: 1}, share=0.5)
        0.5
    """
    top = most_rated(rating_counts, share)
    returned = [m for items in lists for m in items]
    return sum(1 for m in returned if m in top) / len(returned) if returned else 0.0


def grounding_rate(lists: Sequence[Sequence[int]], catalogue_ids: Collection[int]) -> float:
    """Share of returned ids that are catalogue movies (1.0 when nothing was returned)."""
    returned = [m for items in lists for m in items]
    if not returned:
        return 1.0
    return sum(1 for m in returned if m in catalogue_ids) / len(returned)


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
