"""User feedback: thumbs up/down on answers and on single movies, and where it is kept.

The UI records a :class:`FeedbackEvent` for every click into one or more sinks. The workdir
store (:class:`LocalFeedbackStore`) is always there: an append-only JSON-lines file that
survives restarts and that personalisation reads on every request, so a vote counts at once
without a rebuild.

Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.feedback.databricks import (
        FEEDBACK_COLUMNS,
        FeedbackTableError,
        UnityCatalogFeedbackStore,
    )
    from movie_rag.feedback.events import FeedbackEvent, FeedbackSink
    from movie_rag.feedback.local import LocalFeedbackStore

__all__ = [
    "FEEDBACK_COLUMNS",
    "FeedbackEvent",
    "FeedbackSink",
    "FeedbackTableError",
    "LocalFeedbackStore",
    "UnityCatalogFeedbackStore",
]

_EXPORTS: dict[str, str] = {
    "FEEDBACK_COLUMNS": "movie_rag.feedback.databricks",
    "FeedbackTableError": "movie_rag.feedback.databricks",
    "UnityCatalogFeedbackStore": "movie_rag.feedback.databricks",
    "FeedbackEvent": "movie_rag.feedback.events",
    "FeedbackSink": "movie_rag.feedback.events",
    "LocalFeedbackStore": "movie_rag.feedback.local",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
