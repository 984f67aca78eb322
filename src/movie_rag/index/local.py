"""The embedded vector index: exact search over float32 vectors persisted in a directory.

Layout of the index directory::

    CURRENT                 name of the live version (replaced atomically)
    v-<time>-<id>/          vectors.npy, metadata.parquet, manifest.json
    embedding_cache/        vectors keyed by (model name, sha256 of the document)
    .lock                   held by writers

A writer builds a new version in a hidden staging directory, renames it into place and then
swaps ``CURRENT``, all under the lock; readers never lock and never see a partial version.
A version holds the movies_info rows it was built from (``metadata.parquet``), so readers
that take their catalogue from :meth:`LocalVectorIndex.published_table` see the table and
the index of one build, whatever point an interrupted build reached.
The previous version is kept, so a reader that resolved ``CURRENT`` just before a swap can
still load what it found.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import Timeout

from movie_rag._fault import fault_point
from movie_rag._parquet import read_parquet
from movie_rag._snapshots import PointerStat, VersionedDirectory
from movie_rag.index._bm25 import BM25
from movie_rag.index._cache import EmbeddingCache, text_digest
from movie_rag.index._loaded_version import LoadedVersion
from movie_rag.index._mmr import mmr_order, mmr_pool, relevance_from_scores
from movie_rag.index._table import fingerprint, prepare, read_table
from movie_rag.index.base import (
    IndexMismatchError,
    IndexNotReadyError,
    IndexStatus,
    ProgressCallback,
    SearchHit,
    SearchMode,
    SyncReport,
    TableSource,
    UnknownMovieError,
    VectorIndex,
)
from movie_rag.index.filters import SearchFilters

if TYPE_CHECKING:
    from movie_rag.index.embeddings import TextEncoder

__all__ = ["FORMAT_VERSION", "LocalVectorIndex"]

logger = logging.getLogger("movie_rag")

#: Version of the on-disk layout; a reader refuses any other.
FORMAT_VERSION = 1

_MANIFEST = "manifest.json"
_VECTORS = "vectors.npy"
_METADATA = "metadata.parquet"
#: BM25 postings of the version's documents (optional: older versions build them on load).
_BM25 = "bm25.npz"
_CACHE_DIR = "embedding_cache"
# Texts per embedding call between progress reports and cache checkpoints: an interrupted
# build resumes from the last checkpoint instead of re-embedding everything.
_CHUNK = 512
# Texts per encode call inside a chunk: the progress count moves every few seconds.
_PROGRESS_STEP = 128
_LOAD_ATTEMPTS = 3


class LocalVectorIndex(VectorIndex):
    """Exact inner-product search over normalised vectors, persisted under a directory.

    Search computes ``vectors @ query`` with numpy (measured faster here than FAISS
    ``IndexFlatIP`` for one query at catalogue sizes) after masking out movies that fail the
    filters, so filtered searches stay exact and return ``k`` hits whenever ``k`` movies
    match. Hybrid search fuses that ranking with BM25 over ``document`` by reciprocal rank.

    A long-lived index notices a newer version written by another process (a rebuild) on its
    next search and switches to it; searches already running finish on the version they
    started with.

    Args:
        path: Index directory (``Workdir(root).index``).
        embeddings: The embedder for documents and queries; its ``model_name`` and
            ``dimension`` must match those of a stored index.
        use_cache: Keep document vectors in an on-disk cache keyed by (model name, sha256
            of the text), so rebuilds embed only new or changed documents.
        cache_dir: Where that cache lives; default ``<path>/embedding_cache``.
        rrf_k: Constant of reciprocal-rank fusion (hybrid mode).
        lock_timeout: Seconds a writer waits for another writer's lock; negative waits
            forever.

    Example:
        Instantiate:

        >>> from movie_rag import Workdir
        >>> from movie_rag.index import LocalEmbeddings, LocalVectorIndex, SearchFilters
        >>> wd = Workdir("/tmp/movie_rag_example")
        >>> index = LocalVectorIndex(wd.index, LocalEmbeddings())

        Build from the movies_info table (then ``sync`` after the table changes):

        >>> report = index.build(wd.table("movies_info"))  # doctest: +SKIP
        >>> report.embedded, report.total  # doctest: +SKIP
        (9742, 9742)

        Search:

        >>> hits = index.search("mind-bending heist in dreams", k=5)  # doctest: +SKIP
        >>> hits[0].metadata["title"]  # doctest: +SKIP
        'Inception'

        Search with filters, hybrid ranking and diversity:

        >>> filters = SearchFilters(genres_any=["Horror"], year_min=1990, min_rating=7)
        >>> hits = index.search("haunted house", k=5, filters=filters,
        ...                     mode="hybrid", mmr=0.7)  # doctest: +SKIP
        >>> more = index.similar_to(hits[0].movie_id, k=5)  # doctest: +SKIP
    """

    backend = "local"

    def __init__(
        self,
        path: str | os.PathLike[str],
        embeddings: TextEncoder,
        *,
        use_cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        rrf_k: int = 60,
        lock_timeout: float = -1,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.embeddings = embeddings
        self.use_cache = use_cache
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.path / _CACHE_DIR
        self.rrf_k = rrf_k
        self.lock_timeout = lock_timeout
        self._versions = VersionedDirectory(self.path, keep=2, lock_timeout=lock_timeout)
        self._loaded: tuple[PointerStat, LoadedVersion] | None = None
        self._reload_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"LocalVectorIndex(path={str(self.path)!r}, "
            f"model_name={self.embeddings.model_name!r}, use_cache={self.use_cache})"
        )

    # -- writing ---------------------------------------------------------------------------

    def build(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Build a new index version from ``movies_info``, replacing the current one.

        Vectors come from the embedding cache where it has them; everything else is embedded.
        The stored index may have been built with another model.

        Args:
            table: An Arrow table, or a movies_info directory (parquet, or Delta with the
                ``deltalake`` package).
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts relative to the previous version (all ``added`` without one).
        """
        started = time.perf_counter()
        data = prepare(read_table(table), _origin(table))
        with self._write_lock():
            previous = self._stored_hashes()
            vectors, embedded = self._vectors_for(data, reuse={}, progress=progress)
            self._publish(data, vectors, fingerprint(data))
        report = _report(previous or {}, data, embedded, time.perf_counter() - started)
        logger.info("built index at %s: %s", self.path, _summary(report))
        return report

    def sync(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Bring the index up to date with ``movies_info``, embedding only what changed.

        Movies whose document is unchanged keep their stored vector; new and changed ones
        are embedded (or found in the cache); movies gone from the table are removed. An
        unchanged table writes nothing. Without a stored index this is :meth:`build`.

        Args:
            table: An Arrow table, or a movies_info directory.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts of added, updated, deleted and unchanged movies.

        Raises:
            IndexMismatchError: The stored index comes from another model or format; run
                :meth:`build` instead.
        """
        started = time.perf_counter()
        data = prepare(read_table(table), _origin(table))
        with self._write_lock():
            current = self._current_version()
            if current is None:
                previous: LoadedVersion | None = None
            else:
                previous = self._load_version(current)
            table_fingerprint = fingerprint(data)
            if previous is not None and previous.manifest["table_fingerprint"] == table_fingerprint:
                report = SyncReport(unchanged=previous.size, seconds=time.perf_counter() - started)
                logger.info("index at %s already matches the table", self.path)
                return report
            reuse = previous.vectors_by_digest() if previous is not None else {}
            vectors, embedded = self._vectors_for(data, reuse=reuse, progress=progress)
            self._publish(data, vectors, table_fingerprint)
        old_hashes = previous.hashes() if previous is not None else {}
        report = _report(old_hashes, data, embedded, time.perf_counter() - started)
        logger.info("synced index at %s: %s", self.path, _summary(report))
        return report

    def delete(self) -> None:
        """Remove every index version, and this model's embedding cache."""
        with self._write_lock():
            self._versions.clear()
            # Only this model's entries: a cache_dir outside the index may be shared.
            cache = self._cache()
            if cache is not None:
                cache.clear()
        self._loaded = None
        logger.info("deleted index at %s", self.path)

    def _vectors_for(
        self,
        data: pa.Table,
        *,
        reuse: dict[bytes, np.ndarray],
        progress: ProgressCallback | None,
    ) -> tuple[np.ndarray, int]:
        documents: list[str] = data.column("document").to_pylist()
        digests = [text_digest(doc) for doc in documents]
        vectors = np.empty((len(documents), self.embeddings.dimension), dtype=np.float32)
        cache = self._cache()
        cached = cache.get_many(digests) if cache is not None else [None] * len(digests)

        todo: dict[bytes, list[int]] = {}
        for row, (digest, from_cache) in enumerate(zip(digests, cached, strict=True)):
            known = reuse.get(digest)
            if known is None:
                known = from_cache
            if known is None:
                todo.setdefault(digest, []).append(row)
            else:
                vectors[row] = known

        pending = list(todo)
        if progress is not None:
            progress(0, len(pending))
        for start in range(0, len(pending), _CHUNK):
            chunk = pending[start : start + _CHUNK]
            texts = [documents[todo[d][0]] for d in chunk]
            parts = []
            for offset in range(0, len(texts), _PROGRESS_STEP):
                parts.append(self.embeddings.encode(texts[offset : offset + _PROGRESS_STEP]))
                if progress is not None and offset + _PROGRESS_STEP < len(texts):
                    progress(start + offset + len(parts[-1]), len(pending))
            fresh = np.concatenate(parts)
            for digest, vector in zip(chunk, fresh, strict=True):
                vectors[todo[digest]] = vector
            if cache is not None:
                cache.put_many(chunk, fresh)
            fault_point("embedding")
            if progress is not None:
                progress(start + len(chunk), len(pending))
        return vectors, len(pending)

    def _cache(self) -> EmbeddingCache | None:
        if not self.use_cache:
            return None
        return EmbeddingCache(self.cache_dir, self.embeddings.model_name, self.embeddings.dimension)

    def _publish(self, data: pa.Table, vectors: np.ndarray, table_fingerprint: str) -> None:
        with self._versions.stage() as staged:
            np.save(staged.path / _VECTORS, vectors)
            pq.write_table(data, staged.path / _METADATA)
            BM25(data.column("document").to_pylist()).save(staged.path / _BM25)
            manifest = {
                "format_version": FORMAT_VERSION,
                "backend": self.backend,
                "model_name": self.embeddings.model_name,
                "dimension": int(self.embeddings.dimension),
                "row_count": data.num_rows,
                "created_at": datetime.now(UTC).isoformat(),
                "table_fingerprint": table_fingerprint,
                "normalized": True,
                "metric": "inner_product",
            }
            (staged.path / _MANIFEST).write_text(json.dumps(manifest, indent=2))
        fault_point("index_swap")
        self._versions.publish(staged.name)

    def published_table(self) -> Path | None:
        """The movies_info rows the live version was built from (``metadata.parquet``).

        They are published with the vectors by the same pointer swap, so a reader that takes
        its catalogue from here never pairs one build's table with another build's index.
        ``user_tags`` is not among them (it is never stored in the index).

        Returns:
            The parquet file, or None when no version is published.
        """
        current = self._current_version()
        if current is None:
            return None
        path = self.path / current / _METADATA
        return path if path.is_file() else None

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        try:
            with self._versions.lock():
                yield
        except Timeout as exc:
            raise IndexNotReadyError(
                f"another process has been writing the index at {self.path} for more "
                f"than {self.lock_timeout} s (lock {exc.lock_file}); wait for it to "
                "finish, or remove the lock file if that process is gone"
            ) from exc

    def _stored_hashes(self) -> dict[int, str] | None:
        current = self._current_version()
        if current is None:
            return None
        try:
            stored = pq.read_table(
                self.path / current / _METADATA, columns=["movie_id", "content_hash"]
            )
        except (OSError, pa.ArrowInvalid, KeyError):
            return None
        return dict(
            zip(
                stored.column("movie_id").to_pylist(),
                stored.column("content_hash").to_pylist(),
                strict=True,
            )
        )

    # -- reading ---------------------------------------------------------------------------

    def load(self) -> None:
        """Load the current version now (searches otherwise load it on first use).

        Raises:
            IndexNotReadyError: No index has been built at :attr:`path`.
            IndexMismatchError: The index was built with another model, dimension or
                format version than this reader's.
        """
        self._read_snapshot()

    def _search(
        self,
        query: str,
        k: int,
        filters: SearchFilters | None,
        *,
        mode: SearchMode,
        mmr: float | None,
    ) -> list[SearchHit]:
        # Dense: cosine similarity; hybrid: dense and BM25 over ``document``, fused by
        # reciprocal rank. Raises IndexNotReadyError / IndexMismatchError from the load.
        snapshot = self._read_snapshot()
        candidates = snapshot.candidates(filters)
        if k == 0 or candidates.size == 0:
            return []
        query_vector = self.embeddings.encode_query(query)
        dense = snapshot.vectors @ query_vector
        pool = k if mmr is None else mmr_pool(k)
        if mode == "dense":
            rows, scores = _top(candidates, dense[candidates], pool)
        else:
            keyword = snapshot.bm25().scores(query)
            rows, scores = self._fuse(candidates, dense, keyword, max(pool, 4 * k, 100))
            rows, scores = rows[:pool], scores[:pool]
        if mmr is not None:
            rows, scores = _mmr(snapshot.vectors, query_vector, rows, scores, k, mmr, mode)
        return snapshot.hits(rows[:k], scores[:k])

    def _similar_to(self, movie_id: int, k: int, filters: SearchFilters | None) -> list[SearchHit]:
        # Nearest to the seed's stored vector.
        snapshot = self._read_snapshot()
        seed = snapshot.row_of.get(movie_id)
        if seed is None:
            raise UnknownMovieError(movie_id)
        candidates = snapshot.candidates(filters)
        candidates = candidates[candidates != seed]
        if k == 0 or candidates.size == 0:
            return []
        scores = snapshot.vectors[candidates] @ snapshot.vectors[seed]
        rows, top_scores = _top(candidates, scores, k)
        return snapshot.hits(rows, top_scores)

    def describe(self) -> IndexStatus:
        """State of the stored index, read from its manifest (vectors are not loaded)."""
        current = self._current_version()
        manifest: dict[str, Any] = {}
        if current is not None:
            with contextlib.suppress(OSError, ValueError):
                manifest = json.loads((self.path / current / _MANIFEST).read_text())
        created = manifest.get("created_at")
        return IndexStatus(
            backend=self.backend,
            location=str(self.path),
            ready=bool(manifest) and self._mismatch(manifest) is None,
            model_name=manifest.get("model_name"),
            dimension=manifest.get("dimension"),
            row_count=int(manifest.get("row_count", 0)),
            created_at=datetime.fromisoformat(created) if created else None,
            table_fingerprint=manifest.get("table_fingerprint"),
            format_version=manifest.get("format_version"),
        )

    def _fuse(
        self, candidates: np.ndarray, dense: np.ndarray, keyword: np.ndarray, pool: int
    ) -> tuple[np.ndarray, np.ndarray]:
        fused: dict[int, float] = {}
        dense_rows, _ = _top(candidates, dense[candidates], pool)
        matched = candidates[keyword[candidates] > 0]
        keyword_rows, _ = _top(matched, keyword[matched], pool)
        for ranking in (dense_rows, keyword_rows):
            for rank, row in enumerate(ranking.tolist(), start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank)
        rows = np.fromiter(fused, dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        # Equal fused scores (one list each, same rank) fall back to the dense similarity.
        order = np.lexsort((-dense[rows], -scores))
        return rows[order], scores[order]

    def _current_version(self) -> str | None:
        return self._versions.live()

    def _read_snapshot(self) -> LoadedVersion:
        pointer = self._versions.pointer_stat()
        # One tuple, swapped in one assignment: concurrent searches never pair the pointer
        # state of one version with the snapshot of another.
        loaded = self._loaded
        if loaded is not None and loaded[0] == pointer:
            return loaded[1]
        with self._reload_lock:
            loaded = self._loaded
            if loaded is not None and loaded[0] == pointer:
                return loaded[1]
            snapshot = self._load_current(loaded[1] if loaded is not None else None)
            self._loaded = (pointer, snapshot)
            return snapshot

    def _load_current(self, held: LoadedVersion | None) -> LoadedVersion:
        for attempt in range(_LOAD_ATTEMPTS):
            current = self._current_version()
            if current is None:
                if held is not None:
                    # Deleted underneath a running reader: keep serving what it has.
                    return held
                raise IndexNotReadyError(
                    f"no index at {self.path}; build it with `movie-rag build` or "
                    "VectorIndexManager(settings).build()"
                )
            if held is not None and held.version == current:
                return held
            try:
                return self._load_version(current)
            except FileNotFoundError:
                # Pruned by a writer between reading CURRENT and opening the files.
                if attempt == _LOAD_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _load_version(self, version: str) -> LoadedVersion:
        directory = self.path / version
        manifest = json.loads((directory / _MANIFEST).read_text())
        problem = self._mismatch(manifest)
        if problem is not None:
            raise IndexMismatchError(f"index at {directory}: {problem}")
        vectors = np.load(directory / _VECTORS)
        metadata = read_parquet(directory / _METADATA)
        if vectors.shape != (metadata.num_rows, manifest["dimension"]):
            raise IndexMismatchError(
                f"index at {directory} is inconsistent: {vectors.shape[0]} vectors of "
                f"dimension {vectors.shape[1] if vectors.ndim == 2 else '?'} for "
                f"{metadata.num_rows} movies; rebuild it with `movie-rag build`"
            )
        logger.debug("loaded index version %s (%d movies)", version, metadata.num_rows)
        return LoadedVersion.create(
            version, manifest, vectors, metadata, bm25_file=directory / _BM25
        )

    def _mismatch(self, manifest: dict[str, Any]) -> str | None:
        if manifest.get("format_version") != FORMAT_VERSION:
            return (
                f"format version {manifest.get('format_version')} is not the version "
                f"{FORMAT_VERSION} this movie_rag reads; rebuild it with `movie-rag build`"
            )
        model, dimension = manifest.get("model_name"), manifest.get("dimension")
        if model != self.embeddings.model_name or dimension != self.embeddings.dimension:
            return (
                f"built with model {model!r} ({dimension}-d) but the embedder is "
                f"{self.embeddings.model_name!r} ({self.embeddings.dimension}-d); set "
                "embedding_model (MOVIE_RAG_EMBEDDING_MODEL) to the index's model, or "
                "rebuild the index with `movie-rag build`"
            )
        return None


def _top(rows: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best of ``rows`` by ``scores`` (aligned arrays), best first."""
    part = np.argpartition(-scores, n - 1)[:n] if n < scores.size else np.arange(scores.size)
    order = part[np.argsort(-scores[part], kind="stable")]
    return rows[order], scores[order]


def _mmr(
    vectors: np.ndarray,
    query: np.ndarray,
    rows: np.ndarray,
    scores: np.ndarray,
    k: int,
    trade_off: float,
    mode: SearchMode,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximal marginal relevance over a candidate pool ranked best first."""
    pool = vectors[rows]
    relevance = pool @ query if mode == "dense" else relevance_from_scores(scores)
    picked = np.array(mmr_order(pool, relevance, k, trade_off), dtype=np.int64)
    return rows[picked], scores[picked]


def _report(previous: dict[int, str], data: pa.Table, embedded: int, seconds: float) -> SyncReport:
    added = updated = unchanged = 0
    current = dict(
        zip(
            data.column("movie_id").to_pylist(),
            data.column("content_hash").to_pylist(),
            strict=True,
        )
    )
    for movie_id, content_hash in current.items():
        if movie_id not in previous:
            added += 1
        elif previous[movie_id] != content_hash:
            updated += 1
        else:
            unchanged += 1
    deleted = sum(1 for movie_id in previous if movie_id not in current)
    return SyncReport(
        added=added,
        updated=updated,
        deleted=deleted,
        unchanged=unchanged,
        embedded=embedded,
        seconds=seconds,
    )


def _summary(report: SyncReport) -> str:
    return (
        f"{report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged, {report.embedded} embedded in {report.seconds:.1f} s"
    )


def _origin(table: TableSource) -> str:
    return "movies_info" if isinstance(table, pa.Table) else str(table)
