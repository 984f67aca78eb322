"""Where the chat's thumbs go: the workdir always, a Unity Catalog table when configured."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from movie_rag.feedback import FeedbackEvent, FeedbackSink, LocalFeedbackStore
from movie_rag.settings import MovieRagSettings

__all__ = ["FeedbackRecorder"]

logger = logging.getLogger("movie_rag")


class FeedbackRecorder:
    """Record each feedback event in every sink; one failing sink does not stop the others.

    Args:
        sinks: Where events go, in order (the workdir store first).
    """

    def __init__(self, sinks: Sequence[FeedbackSink]) -> None:
        self.sinks = list(sinks)

    def __repr__(self) -> str:
        return f"FeedbackRecorder({self.sinks!r})"

    @classmethod
    def from_settings(cls, settings: MovieRagSettings) -> FeedbackRecorder:
        """The workdir store, plus the Unity Catalog table when ``sql_warehouse_id`` is set."""
        sinks: list[FeedbackSink] = [LocalFeedbackStore(settings.workdir)]
        if settings.sql_warehouse_id:
            from movie_rag.feedback.databricks import UnityCatalogFeedbackStore

            sinks.append(UnityCatalogFeedbackStore.from_settings(settings))
        return cls(sinks)

    def record(self, event: FeedbackEvent) -> list[str]:
        """Store ``event`` everywhere.

        Args:
            event: The click.

        Returns:
            One short problem description per sink that failed (empty when all stored it).
        """
        problems = []
        for sink in self.sinks:
            try:
                sink.record(event)
            except Exception as exc:  # a sink's failure must not lose the vote elsewhere
                logger.warning("feedback sink %r failed: %s", sink, exc)
                problems.append(f"{type(sink).__name__}: {exc}")
        return problems
