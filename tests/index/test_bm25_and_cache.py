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


def test_a_query_s_lone_letters_and_contraction_pieces_match_nothing() -> None:
    documents = ["I'm Still Here", "I Am Sam", "A bored teenager", "Robot & Frank"]
    scores = BM25(documents).scores("I'm bored, you've got ideas?")
    # "I'm" is "i" + "m", "you've" "you" + "ve": only "bored" (and "you", "got") count.
    assert scores[0] == scores[1] == 0.0
    assert scores[2] > 0.0
    assert BM25(documents).scores("robot")[3] > 0.0


def test_bm25_prefers_the_shorter_document_for_equal_term_counts() -> None:
    bm25 = BM25(["kidnapping plot", "kidnapping plot with many many other words in it"])
    scores = bm25.scores("kidnapping")
    assert scores[0] > scores[1] > 0


def test_bm25_of_no_documents() -> None:
    assert BM25([]).scores("anything").shape == (0,)


def _reference_postings(documents: list[str], k1: float = 1.5, b: float = 0.75) -> dict:
    # The per-document loop the vectorised construction replaced, kept as the oracle.
    from collections import Counter

    tokenized = [tokenize(doc) for doc in documents]
    lengths = np.array([len(tokens) for tokens in tokenized], dtype=np.float32)
    average = float(lengths.mean()) if len(documents) and lengths.mean() > 0 else 1.0
    norm = k1 * (1.0 - b + b * lengths / average)
    postings: dict[str, tuple[list[int], list[int]]] = {}
    for row, tokens in enumerate(tokenized):
        for term, count in Counter(tokens).items():
            rows, counts = postings.setdefault(term, ([], []))
            rows.append(row)
            counts.append(count)
    out = {}
    for term, (rows, counts) in postings.items():
        row_array = np.array(rows, dtype=np.int64)
        tf = np.array(counts, dtype=np.float32)
        idf = np.log1p((len(documents) - len(rows) + 0.5) / (len(rows) + 0.5))
        weights = idf * tf * (k1 + 1.0) / (tf + norm[row_array])
        out[term] = (row_array, weights.astype(np.float32))
    return out


def test_bm25_postings_equal_the_per_document_construction() -> None:
    documents = [*DOCS, "kidnapping kidnapping kidnapping in the snow", "Snow, snow; SNOW!"]
    built = BM25(documents)._postings
    reference = _reference_postings(documents)
    assert built.keys() == reference.keys()
    for term, (rows, weights) in reference.items():
        np.testing.assert_array_equal(built[term][0], rows)
        np.testing.assert_array_equal(built[term][1], weights)


def test_bm25_saved_postings_load_equal_and_mismatches_are_refused(tmp_path: Path) -> None:
    bm25 = BM25(DOCS)
    path = tmp_path / "bm25.npz"
    bm25.save(path)
    loaded = BM25.load(path, size=len(DOCS))
    assert loaded is not None
    for query in ("woodchipper kidnapping", "keywords", "zzz", ""):
        np.testing.assert_array_equal(loaded.scores(query), bm25.scores(query))
    assert BM25.load(path, size=len(DOCS) + 1) is None  # another version's documents
    assert BM25.load(path, size=len(DOCS), k1=1.2) is None  # other parameters
    assert BM25.load(tmp_path / "missing.npz", size=len(DOCS)) is None
    (tmp_path / "broken.npz").write_bytes(b"not an npz")
    assert BM25.load(tmp_path / "broken.npz", size=len(DOCS)) is None
    BM25([]).save(tmp_path / "empty.npz")
    empty = BM25.load(tmp_path / "empty.npz", size=0)
    assert empty is not None and empty.scores("x").shape == (0,)


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
