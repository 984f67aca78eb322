"""One loaded version of the embedded index: vectors, metadata and filter columns in memory.

:class:`~movie_rag.index.local.LocalVectorIndex` loads a version from its directory into a
:class:`LoadedVersion` and answers every search from it; a version never changes once
written, so a loaded one is shared by readers without locking.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from movie_rag.index._bm25 import BM25
from movie_rag.index._cache import text_digest
from movie_rag.index.base import SearchHit
from movie_rag.index.filters import SearchFilters, normalise_name

__all__ = ["LoadedVersion"]


@dataclass
class LoadedVersion:
    """One loaded, immutable index version with its filter columns pre-extracted."""

    version: str
    manifest: dict[str, Any]
    vectors: np.ndarray
    metadata: pa.Table
    ids: np.ndarray
    row_of: dict[int, int]
    numeric: dict[str, np.ndarray]
    _genres: tuple[dict[str, int], np.ndarray] | None = None
    _people: dict[str, np.ndarray] | None = None
    bm25_file: Path | None = None
    _bm25: BM25 | None = None
    _bm25_lock: threading.Lock = field(default_factory=threading.Lock)
    _columns_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(
        cls,
        version: str,
        manifest: dict[str, Any],
        vectors: np.ndarray,
        metadata: pa.Table,
        *,
        bm25_file: Path | None = None,
    ) -> LoadedVersion:
        ids = np.asarray(metadata.column("movie_id").to_numpy(), dtype=np.int64)
        numeric = {name: _float_column(metadata, name) for name in ("year", "rating", "votes")}
        # The genre matrix and the people postings are built on the first filter that needs
        # them: a cold query without those filters (most of them) never pays for them.
        return cls(
            version=version,
            manifest=manifest,
            vectors=vectors,
            metadata=metadata,
            ids=ids,
            row_of={int(movie_id): row for row, movie_id in enumerate(ids.tolist())},
            numeric=numeric,
            bm25_file=bm25_file,
        )

    @property
    def genre_columns(self) -> dict[str, int]:
        """Column of each (normalised) genre in :attr:`genre_matrix`."""
        return self._genre_index()[0]

    @property
    def genre_matrix(self) -> np.ndarray:
        """Rows x genres, True where the movie has the genre."""
        return self._genre_index()[1]

    def _genre_index(self) -> tuple[dict[str, int], np.ndarray]:
        if self._genres is None:
            with self._columns_lock:
                if self._genres is None:
                    self._genres = _genre_matrix(_list_column(self.metadata, "genres"))
        return self._genres

    @property
    def people(self) -> dict[str, np.ndarray]:
        """Rows crediting each (normalised) director or cast member, ascending."""
        if self._people is None:
            with self._columns_lock:
                if self._people is None:
                    self._people = _people_rows(self.metadata)
        return self._people

    @property
    def size(self) -> int:
        return len(self.ids)

    def candidates(self, filters: SearchFilters | None) -> np.ndarray:
        """Rows passing ``filters``, ascending (the same semantics as ``matches``)."""
        if filters is None or filters.is_empty:
            return np.arange(self.size)
        mask = np.ones(self.size, dtype=bool)
        if filters.include_ids is not None:
            mask &= np.isin(self.ids, np.fromiter(filters.include_ids, dtype=np.int64))
        if filters.exclude_ids is not None:
            mask &= ~np.isin(self.ids, np.fromiter(filters.exclude_ids, dtype=np.int64))
        if filters.genres_any is not None:
            mask &= self._genre_hits(filters.genres_any).any(axis=1)
        if filters.genres_all is not None:
            mask &= self._genre_hits(filters.genres_all).all(axis=1)
        # NaN (unknown) compares False, so unknown values fail every bound.
        with np.errstate(invalid="ignore"):
            if filters.year_min is not None:
                mask &= self.numeric["year"] >= filters.year_min
            if filters.year_max is not None:
                mask &= self.numeric["year"] <= filters.year_max
            if filters.min_rating is not None:
                mask &= self.numeric["rating"] >= filters.min_rating
            if filters.min_votes is not None:
                mask &= self.numeric["votes"] >= filters.min_votes
        for person in filters.people or ():
            credited = np.zeros(self.size, dtype=bool)
            credited[self.people.get(normalise_name(person), np.empty(0, dtype=np.int64))] = True
            mask &= credited
        return np.flatnonzero(mask)

    def _genre_hits(self, genres: Sequence[str]) -> np.ndarray:
        hits = np.zeros((self.size, len(genres)), dtype=bool)
        for position, genre in enumerate(genres):
            column = self.genre_columns.get(normalise_name(genre))
            if column is not None:
                hits[:, position] = self.genre_matrix[:, column]
        return hits

    def bm25(self) -> BM25:
        # Read (or built) on first hybrid query rather than at load: dense-only readers never
        # pay. A version written since the postings are saved with it reads them.
        if self._bm25 is None:
            with self._bm25_lock:
                if self._bm25 is None:
                    saved = None
                    if self.bm25_file is not None and self.bm25_file.is_file():
                        saved = BM25.load(self.bm25_file, size=self.size)
                    self._bm25 = saved or BM25(self.metadata.column("document").to_pylist())
        return self._bm25

    def hits(self, rows: np.ndarray, scores: np.ndarray) -> list[SearchHit]:
        records = self.metadata.take(pa.array(rows, type=pa.int64())).to_pylist()
        return [
            SearchHit(movie_id=int(record["movie_id"]), score=float(score), metadata=record)
            for record, score in zip(records, scores.tolist(), strict=True)
        ]

    def hashes(self) -> dict[int, str]:
        return dict(
            zip(self.ids.tolist(), self.metadata.column("content_hash").to_pylist(), strict=True)
        )

    def vectors_by_digest(self) -> dict[bytes, np.ndarray]:
        documents = self.metadata.column("document").to_pylist()
        return {text_digest(doc): self.vectors[row] for row, doc in enumerate(documents)}


def _float_column(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    # Nulls become NaN, which fails every comparison: unknown values never pass a bound.
    return np.asarray(table.column(name).cast(pa.float64()).to_numpy(), dtype=np.float64)


def _list_column(table: pa.Table, name: str) -> list[list[str]]:
    if name not in table.column_names:
        return [[] for _ in range(table.num_rows)]
    return [[v for v in values or () if v] for values in table.column(name).to_pylist()]


def _people_rows(table: pa.Table) -> dict[str, np.ndarray]:
    people: dict[str, list[int]] = {}
    for column in ("directors", "cast"):
        for row, names in enumerate(_list_column(table, column)):
            for name in names:
                rows = people.setdefault(normalise_name(name), [])
                if not rows or rows[-1] != row:
                    rows.append(row)
    return {name: np.unique(rows) for name, rows in people.items()}


def _genre_matrix(genres: list[list[str]]) -> tuple[dict[str, int], np.ndarray]:
    columns: dict[str, int] = {}
    for names in genres:
        for name in names:
            columns.setdefault(normalise_name(name), len(columns))
    matrix = np.zeros((len(genres), len(columns)), dtype=bool)
    for row, names in enumerate(genres):
        for name in names:
            matrix[row, columns[normalise_name(name)]] = True
    return columns, matrix
