"""The interface every vector-index backend implements, and the values it returns."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from movie_rag.catalog.visibility import INTERNAL_COLUMNS
from movie_rag.errors import MovieRagError
from movie_rag.index.filters import FiltersLike, SearchFilters, as_filters

if TYPE_CHECKING:
    import pyarrow as pa

    from movie_rag.index.vectorstore import MovieVectorStore

__all__ = [
    "HIDDEN_COLUMNS",
    "IndexMismatchError",
    "IndexNotReadyError",
    "IndexStatus",
    "ProgressCallback",
    "SearchHit",
    "SearchMode",
    "SyncReport",
    "TableSource",
    "UnknownMovieError",
    "VectorIndex",
]

#: Columns of movies_info that an index never stores or returns (internal data).
HIDDEN_COLUMNS: frozenset[str] = INTERNAL_COLUMNS

SearchMode: TypeAlias = Literal["dense", "hybrid"]

#: ``progress(done, total)``: texts embedded so far out of those that need embedding.
ProgressCallback: TypeAlias = Callable[[int, int], None]

#: An Arrow table, or where to read movies_info from (a local directory, or a table name
#: for a remote backend).
TableSource: TypeAlias = "pa.Table | str | os.PathLike[str]"


class IndexNotReadyError(MovieRagError):
    """The index has not been built yet, or was deleted."""


class IndexMismatchError(MovieRagError):
    """The stored index was built with another model, dimension or format version."""


class UnknownMovieError(MovieRagError, LookupError):
    """A movie id is not in the index."""

    def __init__(self, movie_id: int) -> None:
        self.movie_id = movie_id
        super().__init__(
            f"movie_id {movie_id} is not in the index; check the id, or sync the index "
            "if the movie was added to movies_info after the last build"
        )


class SearchHit(BaseModel):
    """One search result.

    Attributes:
        movie_id: The movie's ``movies_info`` key.
        score: Relevance, higher is better (cosine similarity for dense search, the fused
            reciprocal-rank score for hybrid search).
        metadata: The movie's ``movies_info`` columns, ``document`` included and internal
            columns (``user_tags``) left out.
    """

    model_config = ConfigDict(frozen=True)

    movie_id: int
    score: float
    metadata: dict[str, Any] = Field(default_factory=dict)


class SyncReport(BaseModel):
    """What a build or sync changed, by ``movie_id`` and ``content_hash``.

    Attributes:
        added: Movies new to the index.
        updated: Movies whose ``content_hash`` changed.
        deleted: Movies no longer in the table, removed from the index.
        unchanged: Movies with the same ``content_hash`` as before.
        embedded: Documents that went through the embedding model (neither the previous
            index nor the embedding cache had their vector).
        seconds: Wall-clock time of the operation.
    """

    model_config = ConfigDict(frozen=True)

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        """Movies in the index after the operation."""
        return self.added + self.updated + self.unchanged


class IndexStatus(BaseModel):
    """What :meth:`VectorIndex.describe` reports.

    Attributes:
        backend: ``local`` or ``databricks``.
        location: Directory or fully qualified index name.
        ready: Whether searches can be served.
        model_name: Embedding model the vectors come from.
        dimension: Vector dimension.
        row_count: Movies in the index.
        created_at: When the current index version was written (UTC).
        table_fingerprint: Content fingerprint of the table the index was built from.
        format_version: On-disk format version (local backend).
    """

    model_config = ConfigDict(frozen=True)

    backend: str
    location: str
    ready: bool
    model_name: str | None = None
    dimension: int | None = None
    row_count: int = 0
    created_at: datetime | None = None
    table_fingerprint: str | None = None
    format_version: int | None = None


class VectorIndex(ABC):
    """A searchable index of ``movies_info`` documents; one subclass per backend.

    Implementations must keep these promises, which the shared contract tests check:

    - every hit satisfies ``filters``, and ``k`` hits come back whenever at least ``k``
      movies match;
    - hits are ordered best first, and ``score`` is higher-is-better;
    - hit metadata never carries ``user_tags``;
    - :meth:`similar_to` never returns the seed movie.
    """

    backend: str

    @abstractmethod
    def build(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Build the index from ``movies_info``, replacing any previous one.

        Args:
            table: The table, or where to read it.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts relative to the previous index (everything is ``added`` without one).
        """

    @abstractmethod
    def sync(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Bring the index up to date with ``table``, embedding only new or changed rows.

        Args:
            table: The table, or where to read it.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts of added, updated, deleted and unchanged movies.
        """

    def search(
        self,
        query: str,
        k: int = 10,
        filters: FiltersLike = None,
        *,
        mode: SearchMode = "dense",
        mmr: float | None = None,
    ) -> list[SearchHit]:
        """The ``k`` movies most relevant to ``query`` among those passing ``filters``.

        Checks the arguments once for every backend, then asks the backend's
        :meth:`_search`.

        Args:
            query: Free text.
            k: Number of hits wanted.
            filters: Hard constraints (a :class:`SearchFilters` or a mapping of its fields);
                every hit satisfies them.
            mode: ``dense`` (embedding similarity) or ``hybrid`` (dense and keyword ranking
                fused by rank).
            mmr: Maximal-marginal-relevance trade-off in ``[0, 1]`` (1 is pure relevance,
                lower values favour diversity); ``None`` turns it off. With MMR on, hits
                are in diversified order and ``score`` stays the relevance to the query.

        Returns:
            Up to ``k`` hits, best first.

        Raises:
            ValueError: ``k`` is negative, ``mmr`` outside ``[0, 1]`` or ``mode`` unknown.
            IndexNotReadyError: No index has been built.
        """
        check_k(k)
        if mmr is not None and not 0.0 <= mmr <= 1.0:
            raise ValueError(f"mmr is a trade-off in [0, 1] (1 = pure relevance), got {mmr}")
        if mode not in ("dense", "hybrid"):
            raise ValueError(f"mode must be 'dense' or 'hybrid', got {mode!r}")
        if not isinstance(query, str):
            raise TypeError(f"query must be text, got {type(query).__name__}")
        return self._search(query, k, as_filters(filters), mode=mode, mmr=mmr)

    def similar_to(
        self, movie_id: int, k: int = 10, filters: FiltersLike = None
    ) -> list[SearchHit]:
        """Movies closest to a movie already in the index ("more like this").

        Args:
            movie_id: The seed movie; it is never among the hits.
            k: Number of hits wanted.
            filters: Hard constraints; every hit satisfies them.

        Returns:
            Up to ``k`` hits, best first.

        Raises:
            UnknownMovieError: ``movie_id`` is not in the index.
            ValueError: ``k`` is negative.
        """
        check_k(k)
        return self._similar_to(int(movie_id), k, as_filters(filters))

    @abstractmethod
    def _search(
        self,
        query: str,
        k: int,
        filters: SearchFilters | None,
        *,
        mode: SearchMode,
        mmr: float | None,
    ) -> list[SearchHit]:
        """:meth:`search` with checked arguments (``k >= 0``, known ``mode``)."""

    @abstractmethod
    def _similar_to(self, movie_id: int, k: int, filters: SearchFilters | None) -> list[SearchHit]:
        """:meth:`similar_to` with checked arguments."""

    def as_vectorstore(self) -> MovieVectorStore:
        """This index as a LangChain ``VectorStore`` (search, MMR, retrievers).

        Returns:
            A :class:`~movie_rag.index.vectorstore.MovieVectorStore` over this index.
        """
        from movie_rag.index.vectorstore import MovieVectorStore

        return MovieVectorStore(self)

    @abstractmethod
    def describe(self) -> IndexStatus:
        """The index's current state (never raises for a missing index)."""

    @abstractmethod
    def delete(self) -> None:
        """Remove the index and everything it stored."""


def check_k(k: int) -> None:
    """Refuse a negative number of hits."""
    if k < 0:
        raise ValueError(f"k must be zero or more, got {k}")
