"""Greedy maximal marginal relevance, the one implementation both backends use."""

from __future__ import annotations

import numpy as np


def mmr_pool(k: int) -> int:
    """How many candidates to rank before diversifying ``k`` hits out of them."""
    return max(4 * k, 20)


def relevance_from_scores(scores: np.ndarray) -> np.ndarray:
    """Scores on another scale than cosine (fused ranks), brought to ``[0, 1]``."""
    span = float(scores.max() - scores.min()) if scores.size else 0.0
    return (scores - scores.min()) / span if span > 0 else np.ones_like(scores)


def mmr_order(pool: np.ndarray, relevance: np.ndarray, k: int, trade_off: float) -> list[int]:
    """Positions of ``pool`` in greedy MMR order, at most ``k`` of them.

    Each step picks the candidate maximising
    ``trade_off * relevance - (1 - trade_off) * max similarity to those already picked``.

    Args:
        pool: ``(n, d)`` candidate vectors (unit length, so ``@`` is cosine similarity).
        relevance: ``(n,)`` relevance of each candidate to the query.
        k: How many to pick.
        trade_off: 1 is pure relevance, lower values favour diversity.

    Returns:
        Indices into ``pool``, in the order picked.
    """
    count = len(relevance)
    if count == 0:
        return []
    pairwise = pool @ pool.T
    chosen: list[int] = []
    closest = np.full(count, -np.inf)
    available = np.ones(count, dtype=bool)
    for _ in range(min(k, count)):
        redundancy = np.where(np.isfinite(closest), closest, 0.0)
        objective = trade_off * relevance - (1.0 - trade_off) * redundancy
        objective[~available] = -np.inf
        pick = int(np.argmax(objective))
        chosen.append(pick)
        available[pick] = False
        closest = np.maximum(closest, pairwise[:, pick])
    return chosen
