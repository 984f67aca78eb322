"""Where the chat's answers come from: the chain in this process, or a served endpoint.

Both backends yield the same events, so the app streams cards the same way:
``("recommendation", Recommendation)`` one at a time, ``("answer", str)``, then
``("done", RecommendationResponse)``. Failures surface as :class:`AnswerError`, whose message
is fit for the chat.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from movie_rag.chain.types import Recommendation, RecommendationRequest, RecommendationResponse
from movie_rag.errors import DataValidationError, MovieRagError

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.ui.client import EndpointClient

__all__ = ["AnswerError", "AnswerEvent", "Backend", "LocalBackend", "RemoteBackend"]

logger = logging.getLogger("movie_rag")

AnswerEvent = tuple[str, Any]


class AnswerError(MovieRagError):
    """An answer could not be produced; the message is short and meant for the user."""


class Backend(Protocol):
    """Something that answers a question as a stream of events."""

    #: Shown under the chat: where answers come from.
    label: str
    #: Questions answered at once (others wait in the app's queue).
    concurrency: int

    def answer(
        self,
        query: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        filters: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        k: int | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer one question.

        Args:
            query: The question.
            history: Earlier turns (``role``, ``content``, ``recommendations`` movie ids).
            filters: SearchFilters fields from the sidebar.
            user_id: Who is asking.
            k: How many recommendations.

        Yields:
            ``("recommendation", Recommendation)`` events, then ``("answer", text)``, then
            ``("done", RecommendationResponse)``.

        Raises:
            AnswerError: With a message for the chat.
        """
        ...


class LocalBackend:
    """Answers from a :class:`~movie_rag.chain.recommender.RecommenderChain` in this process.

    Cards stream as the chain ranks and grounds them (``chain.stream_progress`` events).

    Args:
        chain: A ready chain (e.g. ``RecommenderChain.from_settings(settings)``).
    """

    label = "in-process chain"
    # One question at a time: the chain shares one embedding model and index in memory.
    concurrency = 1

    def __init__(self, chain: RecommenderChain) -> None:
        self.chain = chain

    def __repr__(self) -> str:
        return f"LocalBackend({self.chain!r})"

    def answer(
        self,
        query: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        filters: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        k: int | None = None,
    ) -> Iterator[AnswerEvent]:
        """Answer with the chain; see :meth:`Backend.answer`."""
        try:
            request = RecommendationRequest.from_input(
                {
                    "query": query,
                    "history": list(history),
                    "filters": dict(filters) if filters else None,
                    "user_id": user_id or None,
                    "k": k,
                }
            )
            for event in self.chain.stream_progress(request):
                if event["event"] in ("recommendation", "answer", "done"):
                    yield event["event"], event["data"]
        except DataValidationError as exc:
            raise AnswerError(f"That request could not be used: {exc}") from None
        except MovieRagError as exc:
            logger.warning("the chain failed: %s", exc)
            raise AnswerError(f"The recommender could not answer: {exc}") from None


class RemoteBackend:
    """Answers from a served model through an :class:`~movie_rag.ui.client.EndpointClient`.

    The endpoint answers in one piece; its cards are then shown one after another.

    Args:
        client: The endpoint client.
    """

    def __init__(self, client: EndpointClient) -> None:
        self.client = client
        self.label = f"endpoint {client.host}"
        # The endpoint scales on its own; the app only waits on the network.
        self.concurrency = 8

    def __repr__(self) -> str:
        return f"RemoteBackend({self.client!r})"

    def answer(
        self,
        query: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        filters: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        k: int | None = None,
    ) -> Iterator[AnswerEvent]:
        """Ask the endpoint; see :meth:`Backend.answer`."""
        from movie_rag.ui.client import EndpointError

        try:
            response = self.client.ask(
                query, history=history, filters=filters, user_id=user_id, k=k
            )
        except EndpointError as exc:
            logger.warning("endpoint %s failed (%s): %s", self.client.host, exc.kind, exc.detail)
            raise AnswerError(str(exc)) from None
        yield from replay(response)


def replay(response: RecommendationResponse) -> Iterator[AnswerEvent]:
    """The events of a complete response, in the order the chain streams them."""
    recommendation: Recommendation
    for recommendation in response.recommendations:
        yield "recommendation", recommendation
    yield "answer", response.answer
    yield "done", response
