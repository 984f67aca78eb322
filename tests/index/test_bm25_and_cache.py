"""The private building blocks that need no model: BM25 scoring and the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movie_rag.index._bm25 import BM25, tokenize
from movie_rag.index._cache import EmbeddingCache, text_digest

DOCS = [
    "A laid-back bowler is dragged into a kidnapping. Keywords: bowling, rug.",
    "A police chief investigates a kidnapping in snowy Minnesota. Keywords: woodchipper.",
    "Two detectives hunt a serial killer.",
    "",
]


def test_tokenize_folds_case_and_splits_on_punctuation() -> None:
    assert tokenize("Keyser Söze's LINE-UP") == ["keyser", "söze", "s", "line", "up"]


def test_bm25_ranks_the_rare_term_and_ignores_unknown_ones() -> None:
    bm25 = BM25(DOCS)
    scores = bm25.scores("woodchipper kidnapping")
    assert int(np.argmax(scores)) == 1
    assert scores[0] > 0 and scores[2] == 0 and scores[3] == 0
    assert not bm25.scores("zzz unknown").any()


def test_bm25_prefers_the_shorter_document_for_equal_term_counts() -> None:
    bm25 = BM25(["kidnapping plot", "kidnapping plot with many many other words in it"])
    scores = bm25.scores("kidnapping")
    assert scores[0] > scores[1] > 0


def test_bm25_of_no_documents() -> None:
    assert BM25([]).scores("anything").shape == (0,)


def _vectors(n: int, dim: int = 4, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_cache_round_trips_through_disk(tmp_path: Path) -> None:
    keys = [text_digest(f"doc {i}") for i in range(5)]
    vectors = _vectors(5)
    EmbeddingCache(tmp_path, "model-a", 4).put_many(keys, vectors)
    reopened = EmbeddingCache(tmp_path, "model-a", 4)
    got = reopened.get_many([*keys, text_digest("never stored")])
    assert got[-1] is None
    np.testing.assert_array_equal(np.stack(got[:-1]), vectors)  # type: ignore[arg-type]


def test_cache_keys_include_the_model(tmp_path: Path) -> None:
    key = text_digest("same text")
    EmbeddingCache(tmp_path, "model-a", 4).put_many([key], _vectors(1))
    assert EmbeddingCache(tmp_path, "model-b", 4).get_many([key]) == [None]
    assert EmbeddingCache(tmp_path, "model-a", 8).get_many([key]) == [None]


def test_cache_digests_with_trailing_zero_bytes_survive(tmp_path: Path) -> None:
    # numpy's bytes dtype drops trailing NULs; keys are stored as uint8 rows instead.
    key = bytes(31) + b"\x01"
    zero = bytes(32)
    EmbeddingCache(tmp_path, "m", 4).put_many([key, zero], _vectors(2))
    got = EmbeddingCache(tmp_path, "m", 4).get_many([key, zero])
    assert all(v is not None for v in got)


def test_many_writes_are_compacted_without_losing_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "m", 4)
    keys = [text_digest(str(i)) for i in range(40)]
    vectors = _vectors(40)
    for i in range(40):
        cache.put_many([keys[i]], vectors[i : i + 1])
    shards = [p for p in cache.directory.iterdir() if p.name.startswith("shard-")]
    assert len(shards) < 16
    reopened = EmbeddingCache(tmp_path, "m", 4)
    assert len(reopened) == 40
    np.testing.assert_array_equal(np.stack(reopened.get_many(keys)), vectors)  # type: ignore[arg-type]


def test_cache_rejects_vectors_of_the_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shape"):
        EmbeddingCache(tmp_path, "m", 4).put_many([text_digest("x")], _vectors(1, dim=3))
