"""On-disk embedding cache keyed by (model name, sha256 of the text).

Each write adds one shard (``keys.npy`` of 32-byte digests + ``vectors.npy``), written aside
and renamed into place, so a crash never leaves a torn shard and readers need no lock.
Writers are serialised by the index lock. Many small shards are compacted into one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger("movie_rag")

_SHARD_PREFIX = "shard-"
_COMPACT_AT = 16
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    def __init__(self, directory: Path, model_name: str, dimension: int) -> None:
        self.model_name = model_name
        self.dimension = dimension
        # The model name goes into a file as well as the directory name, because slugging
        # can map two names onto one directory.
        slug = _SLUG.sub("_", model_name).strip("_") or "model"
        self.directory = Path(directory) / f"{slug}-{dimension}"
        self._vectors: dict[bytes, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._load())

    def get_many(self, digests: Sequence[bytes]) -> list[np.ndarray | None]:
        store = self._load()
        return [store.get(d) for d in digests]

    def put_many(self, digests: Sequence[bytes], vectors: np.ndarray) -> None:
        if len(digests) == 0:
            return
        if vectors.shape != (len(digests), self.dimension):
            expected = (len(digests), self.dimension)
            raise ValueError(f"expected vectors of shape {expected}, got {vectors.shape}")
        self._ensure_directory()
        keys = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(len(digests), 32)
        self._write_shard(keys, np.asarray(vectors, dtype=np.float32))
        store = self._load()
        for digest, vector in zip(digests, vectors, strict=True):
            store[digest] = np.array(vector, dtype=np.float32)
        if len(self._shards()) >= _COMPACT_AT:
            self.compact()

    def compact(self) -> None:
        shards = self._shards()
        if len(shards) <= 1:
            return
        store = self._load()
        keys = np.frombuffer(b"".join(store), dtype=np.uint8).reshape(len(store), 32)
        vectors = np.stack(list(store.values())) if store else np.zeros((0, self.dimension))
        self._write_shard(keys, vectors.astype(np.float32))
        for shard in shards:
            shutil.rmtree(shard, ignore_errors=True)
        logger.debug("compacted %d embedding-cache shards into one", len(shards))

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        self._vectors = None

    def _ensure_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "cache.json"
        if not meta.exists():
            recorded = {"model_name": self.model_name, "dimension": self.dimension}
            meta.write_text(json.dumps(recorded))
        else:
            recorded = json.loads(meta.read_text())
            if recorded.get("model_name") != self.model_name:
                raise ValueError(
                    f"{self.directory} caches {recorded.get('model_name')!r}, not "
                    f"{self.model_name!r}; delete it or choose another cache directory"
                )

    def _shards(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.name.startswith(_SHARD_PREFIX))

    def _write_shard(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        name = f"{_SHARD_PREFIX}{uuid.uuid4().hex}"
        staging = self.directory / f".{name}"
        staging.mkdir()
        np.save(staging / "keys.npy", keys)
        np.save(staging / "vectors.npy", vectors)
        os.replace(staging, self.directory / name)

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._vectors is not None:
            return self._vectors
        store: dict[bytes, np.ndarray] = {}
        meta = self.directory / "cache.json"
        if meta.exists() and json.loads(meta.read_text()).get("model_name") != self.model_name:
            self._vectors = store
            return store
        for shard in self._shards():
            try:
                keys = np.load(shard / "keys.npy")
                vectors = np.load(shard / "vectors.npy")
            except (OSError, ValueError):
                # A shard removed by a concurrent compaction: its vectors live in the new one.
                continue
            if vectors.shape[1:] != (self.dimension,) or len(keys) != len(vectors):
                logger.warning("ignoring malformed embedding-cache shard %s", shard)
                continue
            for key, vector in zip(keys, vectors, strict=True):
                store[key.tobytes()] = vector
        self._vectors = store
        return store
