"""Feedback kept in the workdir: an append-only JSON-lines file, one event per line."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from movie_rag.errors import DataValidationError
from movie_rag.feedback.events import FeedbackEvent
from movie_rag.privacy import redact_user_id
from movie_rag.workdir import Workdir

__all__ = ["LocalFeedbackStore"]

logger = logging.getLogger("movie_rag")

FILE_NAME = "events.jsonl"


class LocalFeedbackStore:
    """Append-only feedback file under ``<workdir>/feedback/``.

    Writers (several UI workers, several processes) serialise on a lock file and fsync every
    line, so a vote is on disk once ``record`` returns and survives a restart. A writer killed
    mid-line leaves a torn last line: the next writer starts on a fresh line, and readers skip
    a line that is not a valid event, log a warning naming the file and line, and count it in
    :attr:`skipped`, so one bad line never makes personalisation fail.

    Args:
        workdir: The workdir (or its root path).

    Attributes:
        skipped: ``(line number, reason)`` of the lines the last read skipped.
    """

    def __init__(self, workdir: Workdir | str | Path) -> None:
        self.workdir = workdir if isinstance(workdir, Workdir) else Workdir(workdir)
        self.path = self.workdir.feedback / FILE_NAME
        self._lock = FileLock(str(self.path) + ".lock")
        self.skipped: list[tuple[int, str]] = []
        self._reported: set[tuple[int, str]] = set()

    def __repr__(self) -> str:
        return f"LocalFeedbackStore({str(self.path)!r})"

    def record(self, event: FeedbackEvent) -> None:
        """Append one event and fsync it.

        Args:
            event: The click to keep.
        """
        line = event.model_dump_json() + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a+b") as handle:
            if handle.tell() > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    # A writer died mid-line: end its torn line so this event stays whole.
                    handle.write(b"\n")
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def events(self, user_id: str | None = None) -> list[FeedbackEvent]:
        """Every recorded event, oldest first.

        Args:
            user_id: Only this user's events (compared after stripping spaces).

        Returns:
            The valid events; a line that is not one (torn by a crash, edited by hand) is
            skipped, recorded in :attr:`skipped` and logged once at WARNING with the file
            and line.
        """
        self.skipped = []
        if not self.path.exists():
            return []
        wanted = redact_user_id(user_id.strip()) if user_id is not None else None
        with self._lock:
            data = self.path.read_bytes()
        found: list[FeedbackEvent] = []
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                event = FeedbackEvent.model_validate(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
                self._skip(number, _first_line(exc))
                continue
            if wanted is None or event.user_id == wanted:
                found.append(event)
        return found

    def _skip(self, number: int, reason: str) -> None:
        self.skipped.append((number, reason))
        if (number, reason) not in self._reported:
            self._reported.add((number, reason))
            error = DataValidationError(
                f"skipping a line that is not a feedback event: {reason}",
                path=self.path,
                row=number,
            )
            logger.warning("%s", error)

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
