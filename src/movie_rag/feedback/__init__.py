"""User feedback: thumbs up/down on answers and on single movies, and where it is kept.

The UI records a :class:`FeedbackEvent` for every click into one or more sinks. The workdir
store (:class:`LocalFeedbackStore`) is always there: an append-only JSON-lines file that
survives restarts and that personalisation reads on every request, so a vote counts at once
without a rebuild.
"""

from __future__ import annotations

from movie_rag.feedback.events import FeedbackEvent, FeedbackSink
from movie_rag.feedback.local import LocalFeedbackStore

__all__ = ["FeedbackEvent", "FeedbackSink", "LocalFeedbackStore"]
