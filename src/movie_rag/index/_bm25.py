"""Okapi BM25 over the indexed documents, for the keyword half of hybrid search.

Per-posting weights are precomputed at build time, so scoring a query is one vectorised
add per query term.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


class BM25:
    def __init__(self, documents: Sequence[str], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.size = len(documents)
        tokenized = [tokenize(doc) for doc in documents]
        lengths = np.array([len(tokens) for tokens in tokenized], dtype=np.float32)
        average = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths / average)

        postings: dict[str, tuple[list[int], list[int]]] = {}
        for row, tokens in enumerate(tokenized):
            for term, count in Counter(tokens).items():
                rows, counts = postings.setdefault(term, ([], []))
                rows.append(row)
                counts.append(count)

        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (rows, counts) in postings.items():
            row_array = np.array(rows, dtype=np.int64)
            tf = np.array(counts, dtype=np.float32)
            df = len(rows)
            # The "+1" form of IDF stays positive for terms in more than half the documents.
            idf = np.log1p((self.size - df + 0.5) / (df + 0.5))
            weights = idf * tf * (k1 + 1.0) / (tf + norm[row_array])
            self._postings[term] = (row_array, weights.astype(np.float32))

    def scores(self, query: str) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        for term in tokenize(query):
            posting = self._postings.get(term)
            if posting is not None:
                rows, weights = posting
                scores[rows] += weights
        return scores
