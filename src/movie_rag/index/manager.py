"""One entry point to the vector index, whichever backend the settings choose."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from movie_rag.errors import ConfigurationError
from movie_rag.index.base import (
    IndexStatus,
    ProgressCallback,
    SearchHit,
    SearchMode,
    SyncReport,
    TableSource,
    VectorIndex,
)
from movie_rag.index.filters import FiltersLike, as_filters
from movie_rag.platform import platform_for
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from langchain_core.retrievers import BaseRetriever

    from movie_rag.index.embeddings import TextEncoder

__all__ = ["VectorIndexManager"]


class VectorIndexManager:
    """Builds, syncs and searches the movie index on the configured backend.

    ``settings.backend`` picks the implementation: ``local`` is a
    :class:`~movie_rag.index.local.LocalVectorIndex` under ``Workdir(settings.workdir).index``
    that reads ``movies_info`` from ``Workdir(settings.workdir).table(...)`` with pyarrow (no
    Spark).

    Args:
        settings: Backend, workdir and model choice; default ``MovieRagSettings()`` (reads
            ``MOVIE_RAG_*`` environment variables).
        embeddings: The embedder of the local backend; default the bundled
            all-MiniLM-L6-v2 (:class:`~movie_rag.index.embeddings.LocalEmbeddings`).
        index: Use this backend instead of building one from the settings.
        batch_size: Embedding batch size of the default embedder.
        use_cache: Whether the local backend keeps the on-disk embedding cache.

    Example:
        Instantiate:

        >>> from movie_rag import MovieRagSettings
        >>> from movie_rag.index import SearchFilters, VectorIndexManager
        >>> manager = VectorIndexManager(MovieRagSettings(workdir="/tmp/movie_rag_example"))

        Build from ``<workdir>/tables/movies_info``, then keep it in step:

        >>> manager.build()  # doctest: +SKIP
        >>> manager.sync().embedded  # doctest: +SKIP
        0

        Search, with filters, and as a LangChain retriever:

        >>> hits = manager.search("space opera", k=5)  # doctest: +SKIP
        >>> hits = manager.search("space opera", k=5,
        ...                       filters={"year_max": 1990, "min_rating": 7})  # doctest: +SKIP
        >>> docs = manager.as_retriever(k=3).invoke("space opera")  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: MovieRagSettings | None = None,
        *,
        embeddings: TextEncoder | None = None,
        index: VectorIndex | None = None,
        batch_size: int = 32,
        use_cache: bool = True,
    ) -> None:
        self.settings = settings if settings is not None else MovieRagSettings()
        self.workdir = Workdir(self.settings.workdir)
        self.index = (
            index
            if index is not None
            else self._create_backend(embeddings, batch_size=batch_size, use_cache=use_cache)
        )

    def __repr__(self) -> str:
        return f"VectorIndexManager(backend={self.index.backend!r}, index={self.index!r})"

    def _create_backend(
        self, embeddings: TextEncoder | None, *, batch_size: int, use_cache: bool
    ) -> VectorIndex:
        platform = platform_for(self.settings)
        if embeddings is None and platform.is_local:
            embeddings = self._default_embeddings(batch_size)
        # Without an embedder Databricks embeds `document` itself (managed embeddings).
        return platform.vector_index(embeddings, batch_size=batch_size, use_cache=use_cache)

    def _default_embeddings(self, batch_size: int) -> TextEncoder:
        from movie_rag.index.embeddings import DEFAULT_MODEL_NAME, ENCODER_DIR, LocalEmbeddings

        wanted = self.settings.embedding_model.removeprefix("sentence-transformers/")
        if wanted != DEFAULT_MODEL_NAME:
            raise ConfigurationError(
                f"settings.embedding_model={self.settings.embedding_model!r} "
                "(MOVIE_RAG_EMBEDDING_MODEL), but the local backend ships only "
                f"{DEFAULT_MODEL_NAME!r}; set MOVIE_RAG_EMBEDDING_MODEL={DEFAULT_MODEL_NAME} "
                "or pass embeddings=LocalEmbeddings(model_path=..., model_name=...)"
            )
        # The ONNX export lives beside the index, so a published model carries it along.
        return LocalEmbeddings(
            model_name=DEFAULT_MODEL_NAME,
            batch_size=batch_size,
            onnx_dir=self.workdir.index / ENCODER_DIR,
            backend=self.settings.embedding_backend,
            query_int8=self.settings.embedding_query_int8,
        )

    @property
    def source_location(self) -> Path:
        """Where ``build``/``sync`` read ``movies_info`` when given no table."""
        return self.workdir.table(self.settings.movies_info_table)

    @property
    def table_location(self) -> Path:
        """Where readers take ``movies_info`` from so that it matches the served index.

        Locally that is the copy of the rows published with the live index version (see
        :meth:`LocalVectorIndex.published_table`): a build interrupted after writing the new
        table but before swapping the index leaves readers on the previous table and index
        together. Without a published index it is the workdir's table
        (:attr:`source_location`).
        """
        from movie_rag.index.local import LocalVectorIndex

        if isinstance(self.index, LocalVectorIndex):
            published = self.index.published_table()
            if published is not None:
                return published
        return self.source_location

    def build(
        self, table: TableSource | None = None, *, progress: ProgressCallback | None = None
    ) -> SyncReport:
        """Build the index from ``movies_info`` (default: the workdir's table).

        Args:
            table: An Arrow table or a movies_info directory instead of the workdir's.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            What changed relative to the previous index.
        """
        return self.index.build(self._table(table), progress=progress)

    def sync(
        self, table: TableSource | None = None, *, progress: ProgressCallback | None = None
    ) -> SyncReport:
        """Update the index to ``movies_info``, embedding only new and changed movies.

        Args:
            table: An Arrow table or a movies_info directory instead of the workdir's.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts of added, updated, deleted and unchanged movies.
        """
        return self.index.sync(self._table(table), progress=progress)

    def search(
        self,
        query: str,
        k: int = 10,
        filters: FiltersLike = None,
        *,
        mode: SearchMode = "dense",
        mmr: float | None = None,
    ) -> list[SearchHit]:
        """The ``k`` movies most relevant to ``query`` that pass ``filters``.

        Args:
            query: Free text.
            k: Number of hits wanted.
            filters: A :class:`SearchFilters` or a mapping of its fields.
            mode: ``dense`` or ``hybrid`` (dense + BM25 keyword ranking).
            mmr: Diversity trade-off in ``[0, 1]`` (1 is pure relevance), or ``None``.

        Returns:
            Up to ``k`` hits, best first.
        """
        return self.index.search(query, k, filters, mode=mode, mmr=mmr)

    def similar_to(
        self, movie_id: int, k: int = 10, filters: FiltersLike = None
    ) -> list[SearchHit]:
        """Movies most like ``movie_id`` (which is never among them).

        Args:
            movie_id: The seed movie.
            k: Number of hits wanted.
            filters: A :class:`SearchFilters` or a mapping of its fields.

        Returns:
            Up to ``k`` hits, best first.
        """
        return self.index.similar_to(movie_id, k, filters)

    def describe(self) -> IndexStatus:
        """The backend's index status."""
        return self.index.describe()

    def delete(self) -> None:
        """Delete the index."""
        self.index.delete()

    def as_retriever(
        self,
        k: int = 4,
        filters: FiltersLike = None,
        *,
        mode: SearchMode = "dense",
        mmr: float | None = None,
    ) -> BaseRetriever:
        """A LangChain retriever over this index.

        Documents carry ``page_content`` = the movie's ``document`` and metadata = its
        columns plus ``movie_id`` and ``score``, never ``user_tags``. ``invoke`` accepts
        ``k``, ``filters``, ``mode`` and ``mmr`` to override these defaults per call.

        Args:
            k: Documents per query.
            filters: Default filters.
            mode: ``dense`` or ``hybrid``.
            mmr: Diversity trade-off, or ``None``.

        Returns:
            A ``BaseRetriever``.
        """
        from movie_rag.index._retriever import MovieIndexRetriever

        return MovieIndexRetriever(
            index=self.index, k=k, filters=as_filters(filters), mode=mode, mmr=mmr
        )

    def _table(self, table: TableSource | None) -> TableSource:
        if table is not None:
            return table
        if platform_for(self.settings).is_local:
            return self.source_location
        return self.settings.table_name(self.settings.movies_info_table)
