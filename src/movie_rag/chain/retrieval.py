"""Retrieval as traced child runs: what the chain's ranker searches the index through."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableLambda

if TYPE_CHECKING:
    from movie_rag.index.base import SearchHit
    from movie_rag.index.manager import VectorIndexManager

__all__ = ["RetrievalRuns"]


class RetrievalRuns:
    """The index manager, with each search and similar_to call as a ``retrieve`` child run.

    The ranker searches through this, so a tracer sees every retrieval (query, k, filters
    in; hits out) nested in the chain's ``rank`` step; anything else goes to the manager.

    Args:
        manager: The index manager searched.
    """

    def __init__(self, manager: VectorIndexManager) -> None:
        self._manager = manager
        self._step: Runnable[dict[str, Any], list[SearchHit]] = RunnableLambda(
            self._retrieve, name="retrieve"
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    def search(self, query: str, k: int = 10, filters: Any = None, **kwargs: Any) -> Any:
        """``manager.search`` as a ``retrieve`` run."""
        return self._step.invoke({"query": query, "k": k, "filters": filters, **kwargs})

    def similar_to(self, movie_id: int, k: int = 10, filters: Any = None, **kwargs: Any) -> Any:
        """``manager.similar_to`` as a ``retrieve`` run."""
        return self._step.invoke({"movie_id": movie_id, "k": k, "filters": filters, **kwargs})

    def _retrieve(self, request: dict[str, Any]) -> list[SearchHit]:
        arguments = dict(request)
        if "movie_id" in arguments:
            return self._manager.similar_to(arguments.pop("movie_id"), **arguments)
        return self._manager.search(arguments.pop("query"), **arguments)
