"""Okapi BM25 over the indexed documents, for the keyword half of hybrid search.

Per-posting weights are precomputed at build time, so scoring a query is one vectorised
add per query term.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+", re.UNICODE)


# Lone letters and the pieces of "I've", "you're", "we'll" name no topic in a query: its
# "I'm" found "I'm Still Here" and "I Am a Sex Addict" by their rare "m" and "i".
_NO_TOPIC = frozenset("abcdefghijklmnopqrstuvwxyz") | {"ve", "re", "ll"}


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


class BM25:
    def __init__(self, documents: Sequence[str], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.size = len(documents)
        tokenized = [tokenize(doc) for doc in documents]
        counts_per_row = np.fromiter(map(len, tokenized), dtype=np.int64, count=self.size)
        lengths = counts_per_row.astype(np.float32)
        average = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norm = k1 * (1.0 - b + b * lengths / average)

        # Vectorised postings: one term id per token, then (term, row) pairs counted in one
        # sort, grouped by term (rows ascending within a term), as the loop over
        # ``Counter(tokens)`` would give them. Term ids follow first appearance.
        vocabulary: dict[str, int] = {}
        term_of = vocabulary.setdefault
        term_ids = np.fromiter(
            (term_of(token, len(vocabulary)) for tokens in tokenized for token in tokens),
            dtype=np.int64,
            count=int(counts_per_row.sum()),
        )
        token_rows = np.repeat(np.arange(self.size, dtype=np.int64), counts_per_row)
        pairs, tf_counts = np.unique(term_ids * max(self.size, 1) + token_rows, return_counts=True)
        pair_terms = pairs // max(self.size, 1)
        row_array = pairs - pair_terms * max(self.size, 1)
        df = np.bincount(pair_terms, minlength=len(vocabulary))
        bounds = np.concatenate(([0], np.cumsum(df))).tolist()
        # The "+1" form of IDF stays positive for terms in more than half the documents.
        idf = np.log1p((self.size - df + 0.5) / (df + 0.5))
        tf = tf_counts.astype(np.float32)
        weights = (idf[pair_terms] * tf * (k1 + 1.0) / (tf + norm[row_array])).astype(np.float32)
        self._set_postings(list(vocabulary), bounds, row_array, weights, k1=k1, b=b)

    def _set_postings(
        self,
        terms: list[str],
        bounds: list[int],
        rows: np.ndarray,
        weights: np.ndarray,
        *,
        k1: float,
        b: float,
    ) -> None:
        # Flat arrays (what save() writes), and per-term views of them for scoring.
        self._flat = (terms, bounds, rows, weights)
        self._params = (float(k1), float(b))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {
            term: (rows[bounds[i] : bounds[i + 1]], weights[bounds[i] : bounds[i + 1]])
            for i, term in enumerate(terms)
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the postings to ``path`` (an uncompressed ``.npz``) for :meth:`load`."""
        terms, bounds, rows, weights = self._flat
        # \w+ tokens never hold a newline, so the vocabulary is one newline-joined blob.
        blob = np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)
        with open(path, "wb") as handle:
            np.savez(
                handle,
                terms=blob,
                bounds=np.asarray(bounds, dtype=np.int64),
                rows=rows,
                weights=weights,
                meta=np.asarray([self.size, len(terms), *self._params], dtype=np.float64),
            )

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, size: int, k1: float = 1.5, b: float = 0.75
    ) -> BM25 | None:
        """Postings saved by :meth:`save`, or None when missing, unreadable or not for
        ``size`` documents with these parameters (the caller then builds them)."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                meta = saved["meta"]
                blob = saved["terms"].tobytes().decode("utf-8")
                bounds = saved["bounds"].tolist()
                rows, weights = saved["rows"], saved["weights"]
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            return None
        terms = blob.split("\n") if blob else []
        if (
            meta.shape != (4,)
            or int(meta[0]) != size
            or int(meta[1]) != len(terms)
            or (float(meta[2]), float(meta[3])) != (float(k1), float(b))
            or len(bounds) != len(terms) + 1
            or rows.shape != weights.shape
            or (bounds[-1] if bounds else 0) != rows.shape[0]
        ):
            return None
        bm25 = cls.__new__(cls)
        bm25.size = size
        bm25._set_postings(terms, bounds, rows, weights, k1=k1, b=b)
        return bm25

    def scores(self, query: str) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        for term in tokenize(query):
            if term in _NO_TOPIC:
                continue
            posting = self._postings.get(term)
            if posting is not None:
                rows, weights = posting
                scores[rows] += weights
        return scores
