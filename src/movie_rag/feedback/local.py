"""Feedback kept in the workdir: an append-only JSON-lines file, one event per line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from movie_rag.errors import DataValidationError
from movie_rag.feedback.events import FeedbackEvent
from movie_rag.workdir import Workdir

__all__ = ["LocalFeedbackStore"]

FILE_NAME = "events.jsonl"


class LocalFeedbackStore:
    """Append-only feedback file under ``<workdir>/feedback/``.

    Writers (several UI workers) serialise on a lock file and fsync every line, so a vote
    is on disk once ``record`` returns and survives a restart. Readers see every event
    recorded so far.

    Args:
        workdir: The workdir (or its root path).
    """

    def __init__(self, workdir: Workdir | str | Path) -> None:
        self.workdir = workdir if isinstance(workdir, Workdir) else Workdir(workdir)
        self.path = self.workdir.feedback / FILE_NAME
        self._lock = FileLock(str(self.path) + ".lock")

    def __repr__(self) -> str:
        return f"LocalFeedbackStore({str(self.path)!r})"

    def record(self, event: FeedbackEvent) -> None:
        """Append one event and fsync it.

        Args:
            event: The click to keep.
        """
        line = event.model_dump_json() + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def events(self, user_id: str | None = None) -> list[FeedbackEvent]:
        """Every recorded event, oldest first.

        Args:
            user_id: Only this user's events (compared after stripping spaces).

        Returns:
            The events.

        Raises:
            DataValidationError: A line is not a valid event (names the file and line).
        """
        if not self.path.exists():
            return []
        wanted = user_id.strip() if user_id is not None else None
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        found: list[FeedbackEvent] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = FeedbackEvent.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise DataValidationError(
                    f"not a feedback event: {_first_line(exc)}", path=self.path, row=number
                ) from exc
            if wanted is None or event.user_id == wanted:
                found.append(event)
        return found

    def movie_votes(self, user_id: str) -> dict[int, int]:
        """The user's latest vote on each movie they voted on.

        Args:
            user_id: Whose votes.

        Returns:
            movie_id → ``1`` (thumbs up) or ``-1`` (thumbs down); a later click on the same
            movie replaces an earlier one, and a withdrawn vote (``0``) removes the movie.
            Votes on whole answers are not per movie and are left out.
        """
        votes: dict[int, int] = {}
        for event in self.events(user_id):
            if event.target == "movie" and event.movie_id is not None:
                votes[event.movie_id] = event.vote
        return {movie: vote for movie, vote in votes.items() if vote != 0}


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "event"
        return f"{field}: {error['msg']}"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
