"""Search hits as LangChain ``Document``s, shared by the retriever and the vector store.

Kept apart from :mod:`movie_rag.index.base` so the LangChain adapters, which the index
builds on request (:meth:`~movie_rag.index.base.VectorIndex.as_vectorstore`), never need
the module that creates them at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.documents import Document

from movie_rag.catalog.visibility import INTERNAL_COLUMNS

if TYPE_CHECKING:
    from movie_rag.index.base import SearchHit


def to_document(hit: SearchHit) -> Document:
    """One hit as a ``Document``: the indexed text, public metadata, id and score.

    Args:
        hit: A search hit from any index backend.

    Returns:
        A ``Document`` whose ``id`` is the movie id and whose metadata never holds an
        internal column.
    """
    metadata = {
        key: value
        for key, value in hit.metadata.items()
        if key != "document" and key not in INTERNAL_COLUMNS
    }
    metadata["movie_id"] = hit.movie_id
    metadata["score"] = hit.score
    return Document(
        page_content=str(hit.metadata.get("document") or ""),
        metadata=metadata,
        id=str(hit.movie_id),
    )
