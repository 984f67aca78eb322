"""Any :class:`~movie_rag.index.base.VectorIndex` as a LangChain ``VectorStore``.

Imported only by :meth:`VectorIndex.as_vectorstore`, so ``import movie_rag.index`` stays
free of LangChain's vector-store machinery.

The store reads: similarity search (with scores and relevance scores), maximal marginal
relevance, ``get_by_ids`` and LangChain's ``as_retriever`` (similarity, MMR and score
threshold). It does not write: an index is a projection of the ``movies_info`` table, so
movies are added, changed and removed in the table and reach the index through
``index.sync(table)``; ``add_texts``, ``add_documents``, ``delete`` and ``from_texts`` say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from movie_rag.index.documents import to_document
from movie_rag.index.filters import FiltersLike, SearchFilters

if TYPE_CHECKING:
    from movie_rag.index.base import VectorIndex

__all__ = ["MovieVectorStore"]

_READ_ONLY = (
    "the movie index is built from the movies_info table and is read-only through LangChain; "
    "add, change or remove the movies in movies_info, then run index.sync(table) "
    "(or `movie-rag build`)"
)


class MovieVectorStore(VectorStore):
    """A LangChain ``VectorStore`` over a movie index (local or Databricks).

    Documents carry ``page_content`` = the movie's ``document``, ``id`` = its ``movie_id``
    (as text) and metadata = its public columns plus ``movie_id`` and ``score``; never
    ``user_tags``. ``filter`` takes a :class:`SearchFilters` or a mapping of its fields;
    ``mode="hybrid"`` may be passed to the search methods.

    Args:
        index: The index searched.

    Example:
        >>> store = index.as_vectorstore()  # doctest: +SKIP
        >>> docs = store.similarity_search(
        ...     "space opera", k=3, filter={"year_min": 1990})  # doctest: +SKIP
        >>> retriever = store.as_retriever(
        ...     search_type="mmr", search_kwargs={"k": 5})  # doctest: +SKIP
    """

    def __init__(self, index: VectorIndex) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"MovieVectorStore({self.index!r})"

    @property
    def embeddings(self) -> Embeddings | None:
        """The index's embedder when it is a LangChain ``Embeddings`` (else None)."""
        inner = getattr(self.index, "embeddings", None)
        if inner is None:
            embedder = getattr(self.index, "_embedder", None)
            inner = getattr(embedder, "inner", None)
        return inner if isinstance(inner, Embeddings) else None

    # -- search ----------------------------------------------------------------------------

    def similarity_search(
        self, query: str, k: int = 4, filter: FiltersLike = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` movies most relevant to ``query`` that pass ``filter``."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: FiltersLike = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """As :meth:`similarity_search`, with the index's score (higher is better)."""
        hits = self.index.search(query, k, filter, mode=kwargs.get("mode", "dense"))
        return [(to_document(hit), hit.score) for hit in hits]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Local scores are cosine similarities in [-1, 1]; Databricks ANN scores are
        # 1 / (1 + L2²) in (0, 1]. Both are monotonic in similarity; clamp into [0, 1].
        return lambda score: min(1.0, max(0.0, float(score)))

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: FiltersLike = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Diversified results: the index's MMR with trade-off ``lambda_mult``.

        ``fetch_k`` is advisory: the index ranks ``max(4 * k, 20)`` candidates.
        """
        hits = self.index.search(
            query, k, filter, mode=kwargs.get("mode", "dense"), mmr=lambda_mult
        )
        return [to_document(hit) for hit in hits]

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The movies with these ids (``movie_id`` as text), in the order asked.

        Unknown ids, and ids that are not integers, are left out.
        """
        wanted: list[int] = []
        for value in ids:
            try:
                wanted.append(int(value))
            except (TypeError, ValueError):
                continue
        if not wanted:
            return []
        found = self.index.search(
            "movie", len(set(wanted)), SearchFilters(include_ids=frozenset(wanted))
        )
        by_id = {hit.movie_id: to_document(hit) for hit in found}
        return [by_id[movie_id] for movie_id in dict.fromkeys(wanted) if movie_id in by_id]

    # -- writing (not through LangChain) ---------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Refused: see the module docs."""
        raise NotImplementedError(_READ_ONLY)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Refused: see the module docs."""
        raise NotImplementedError(_READ_ONLY)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Refused: see the module docs."""
        raise NotImplementedError(_READ_ONLY)

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> MovieVectorStore:
        """Refused: build an index from movies_info (``VectorIndexManager.build``)."""
        raise NotImplementedError(_READ_ONLY)
