"""One feedback click, and the interface every place that keeps clicks implements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from movie_rag.privacy import redact_pii, redact_user_id

__all__ = ["FeedbackEvent", "FeedbackSink"]


class FeedbackEvent(BaseModel):
    """A thumbs up or down on a whole answer or on one recommended movie.

    Attributes:
        event_id: Unique id (a sink may use it to ignore a repeated write).
        created_at: When the click happened (UTC).
        user_id: Who clicked: the UI's user-name field or URL parameter. The UI has no
            authentication of its own; it is meant to sit behind the host's. An id that is
            personal data (an e-mail, a phone number) is kept as a stable pseudonym
            (:func:`movie_rag.privacy.redact_user_id`).
        query: The question the answer was for, with personal data redacted
            (:func:`movie_rag.privacy.redact_pii`): every sink stores events, so none of them
            ever sees the raw question.
        vote: ``1`` for thumbs up, ``-1`` for thumbs down, ``0`` when the user takes an
            earlier vote on the same answer or movie back (the log stays append-only).
        target: ``"answer"`` (the whole reply) or ``"movie"`` (one recommendation).
        movie_id: The movie voted on; required when ``target`` is ``"movie"``.
        title: Its title, for people reading the feedback table.
        answer: The answer text the vote was about (redacted like ``query``).
        recommended_ids: The movies the answer recommended, best first.
        source: What recorded the click (``"ui"`` by default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(default_factory=lambda: uuid4().hex, min_length=1, max_length=64)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    user_id: str = Field(min_length=1, max_length=200)
    query: str = Field(max_length=4000)
    vote: Literal[1, 0, -1]
    target: Literal["answer", "movie"]
    movie_id: int | None = Field(None, gt=0)
    title: str | None = Field(None, max_length=500)
    answer: str | None = Field(None, max_length=20000)
    recommended_ids: list[int] = Field(default_factory=list)
    source: str = Field("ui", min_length=1, max_length=50)

    @field_validator("user_id")
    @classmethod
    def _strip_user(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("user_id must not be blank")
        return redact_user_id(value)

    @field_validator("query", "answer", "title")
    @classmethod
    def _redact(cls, value: str | None) -> str | None:
        return redact_pii(value) if value else value

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Naive times would be read back in whatever zone the reader runs in.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _movie_needs_id(self) -> FeedbackEvent:
        if self.target == "movie" and self.movie_id is None:
            raise ValueError("movie_id is required when target is 'movie'")
        return self


@runtime_checkable
class FeedbackSink(Protocol):
    """Somewhere feedback events are kept (the workdir, a Unity Catalog table, ...)."""

    def record(self, event: FeedbackEvent) -> None:
        """Store one event durably before returning.

        Args:
            event: The click to keep.
        """
        ...
