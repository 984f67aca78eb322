"""What a generator is: ranked candidates in, an introduction and picks out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from movie_rag.chain.types import Candidate, GeneratedAnswer, HistoryTurn, ParsedQuery

__all__ = ["Generator"]


@runtime_checkable
class Generator(Protocol):
    """Anything that turns ranked candidates into an answer and picks.

    The chain gives a generator at most ``2 * k`` candidates, best first, and verifies every
    title it writes (:class:`~movie_rag.chain.grounding.GroundingGuard`) before a user sees
    it. A generator that fails with a :class:`~movie_rag.errors.MovieRagError` is replaced
    by the grounded generator for that answer. The grounded generator also takes the "like
    X" movie's record (``seed_record``): its reasons cite what the picks share with it.
    """

    def generate(
        self,
        parsed: ParsedQuery,
        candidates: list[Candidate],
        k: int,
        history: list[HistoryTurn] | None = None,
    ) -> GeneratedAnswer:
        """Choose up to ``k`` movies among ``candidates`` and say why."""
        ...
