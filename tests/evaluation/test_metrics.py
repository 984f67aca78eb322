"""Metrics against hand-computed values and their edge cases."""

from __future__ import annotations

import math

import pytest

from movie_rag.evaluation import metrics as m


def test_ranking_metrics_by_hand() -> None:
    recommended = [5, 1, 7, 2]
    relevant = {1, 2, 3}
    assert m.precision_at_k(recommended, relevant, 4) == 0.5
    assert m.recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)
    assert m.hit_rate_at_k(recommended, relevant, 1) == 0.0
    assert m.hit_rate_at_k(recommended, relevant, 2) == 1.0
    assert m.reciprocal_rank(recommended, relevant, 4) == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m.ndcg_at_k(recommended, relevant, 4) == pytest.approx(dcg / ideal)


def test_perfect_and_empty_lists() -> None:
    assert m.ndcg_at_k([1, 2], {1, 2}, 10) == pytest.approx(1.0)
    assert m.ndcg_at_k([], {1}, 10) == 0.0
    assert m.recall_at_k([1], set(), 5) == 0.0
    assert m.precision_at_k([1], {1}, 5) == 0.2  # a short list is not padded
    with pytest.raises(ValueError, match="k must be at least 1"):
        m.precision_at_k([1], {1}, 0)


def test_beyond_accuracy() -> None:
    genres = {1: {"Drama"}, 2: {"Drama"}, 3: {"Comedy", "Drama"}}
    assert m.intra_list_diversity([[1, 2]], genres) == 0.0
    assert m.intra_list_diversity([[1, 3]], genres) == pytest.approx(0.5)
    assert m.catalogue_coverage([[1, 2], [2, 3]], 6) == 0.5
    counts = {1: 9, 2: 0}
    assert m.novelty([[1]], counts, 9) == pytest.approx(0.0)
    assert m.novelty([[2]], counts, 9) == pytest.approx(math.log2(10))
    assert m.popularity([[1, 2]], counts) == 4.5
    assert m.grounding_rate([[1, 0], [2, 99]], {1, 2}) == 0.5
    assert m.grounding_rate([[]], {1}) == 1.0
