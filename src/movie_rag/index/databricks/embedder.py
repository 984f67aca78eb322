"""One small interface over a LangChain ``Embeddings`` or a ``TextEncoder``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class Embedder:
    """A LangChain ``Embeddings`` or a ``TextEncoder`` behind one small interface."""

    def __init__(self, inner: Any, model_name: str | None) -> None:
        self.inner = inner
        self.model_name = (
            model_name
            or getattr(inner, "model_name", None)
            or getattr(inner, "model", None)
            or type(inner).__name__
        )
        if not isinstance(self.model_name, str):
            self.model_name = type(inner).__name__
        self._dimension: int | None = getattr(inner, "dimension", None)
        # Documents re-embedded for MMR or as similar_to seeds, by text digest.
        self._cache: dict[bytes, list[float]] = {}

    @property
    def dimension(self) -> int:
        """The vector dimension (probed once when the embedder does not say)."""
        if self._dimension is None:
            self._dimension = len(self.query("dimension probe"))
        return int(self._dimension)

    def documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Document vectors, remembered by text digest (MMR and seeds ask again)."""
        digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        missing = [i for i, d in enumerate(digests) if d not in self._cache]
        if missing:
            fresh = self._embed([texts[i] for i in missing])
            if len(self._cache) > 4096:
                self._cache.clear()
            for i, vector in zip(missing, fresh, strict=True):
                self._cache[digests[i]] = vector
        return [self._cache[d] for d in digests]

    def query(self, text: str) -> list[float]:
        """The vector of a search query."""
        if hasattr(self.inner, "encode_query"):
            return [float(v) for v in self.inner.encode_query(text)]
        return [float(v) for v in self.inner.embed_query(text)]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if hasattr(self.inner, "encode"):
            return [[float(v) for v in row] for row in self.inner.encode(texts)]
        return [[float(v) for v in row] for row in self.inner.embed_documents(texts)]


def bag_of_words(text: str, dimension: int = 4096) -> np.ndarray:
    """A hashed, unit-length bag of words: redundancy between texts without their vectors."""
    import numpy as np

    vector = np.zeros(dimension, dtype=np.float64)
    for token in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        vector[int.from_bytes(digest, "little") % dimension] += 1.0
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector
