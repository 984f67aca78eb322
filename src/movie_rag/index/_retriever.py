"""LangChain retriever over any VectorIndex (imported only by ``as_retriever``)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from movie_rag.index.base import SearchMode, VectorIndex
from movie_rag.index.documents import to_document
from movie_rag.index.filters import SearchFilters


class MovieIndexRetriever(BaseRetriever):
    """Retrieves movies as LangChain Documents: ``page_content`` is the movie's document.

    Metadata carries the movie's columns plus ``movie_id`` and ``score``; internal columns
    (``user_tags``) never appear. ``k``, ``filters``, ``mode`` and ``mmr`` set defaults that
    one call can override: ``retriever.invoke("query", filters=SearchFilters(...), k=3)``.

    Example:
        >>> retriever = manager.as_retriever(k=5)  # doctest: +SKIP
        >>> docs = retriever.invoke("feel-good heist comedy")  # doctest: +SKIP
        >>> docs[0].metadata["title"], docs[0].metadata["score"]  # doctest: +SKIP
        ('The Sting', 0.61)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: VectorIndex
    k: int = Field(4, ge=0)
    filters: SearchFilters | None = None
    mode: SearchMode = "dense"
    mmr: float | None = Field(None, ge=0.0, le=1.0)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: SearchFilters | dict[str, Any] | None = None,
        mode: SearchMode | None = None,
        mmr: float | None = None,
    ) -> list[Document]:
        if isinstance(filters, dict):
            filters = SearchFilters.model_validate(filters)
        hits = self.index.search(
            query,
            k=self.k if k is None else k,
            filters=self.filters if filters is None else filters,
            mode=mode or self.mode,
            mmr=self.mmr if mmr is None else mmr,
        )
        return [to_document(hit) for hit in hits]
