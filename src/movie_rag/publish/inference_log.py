"""The local inference log: every request and response of local serving, partitioned by date.

The columns follow a Databricks inference table (``databricks_request_id`` is ``request_id``
here), so the same analysis works on both::

    <Workdir.inference_logs>/date=2025-01-31/part-<host>-<pid>.jsonl

Each serving process appends to its own file (no two writers share one), one JSON object per
line, flushed per request; :meth:`InferenceLog.read` gathers every partition into an Arrow
table.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

__all__ = ["INFERENCE_LOG_DIR_ENV", "INFERENCE_LOG_SCHEMA", "InferenceLog", "InferenceRecord"]

logger = logging.getLogger("movie_rag")

#: Environment variable through which a server tells the served model where to log.
INFERENCE_LOG_DIR_ENV = "MOVIE_RAG_INFERENCE_LOG_DIR"

INFERENCE_LOG_SCHEMA = pa.schema(
    [
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("client_request_id", pa.string()),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("timestamp_ms", pa.int64(), nullable=False),
        pa.field("status_code", pa.int32(), nullable=False),
        pa.field("execution_time_ms", pa.int64(), nullable=False),
        pa.field("request", pa.string(), nullable=False),
        pa.field("response", pa.string(), nullable=False),
        pa.field("request_metadata", pa.map_(pa.string(), pa.string())),
    ]
)


class InferenceRecord(BaseModel):
    """One served request.

    Attributes:
        request_id: Our id for the request (also the chat completion's ``id`` suffix).
        client_request_id: The caller's id (``params.client_request_id``), if given.
        timestamp_ms: When the request reached the model, in ms since the epoch (UTC).
        status_code: The HTTP status the request was answered with.
        execution_time_ms: Time spent in the model.
        request: The request body as the model received it (JSON).
        response: The response body (JSON), or the error.
        request_metadata: Model URI, request kind and the like.
    """

    request_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    client_request_id: str | None = None
    timestamp_ms: int
    status_code: int
    execution_time_ms: int
    request: str
    response: str
    request_metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def date(self) -> date:
        """The (UTC) day of the request: its partition."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC).date()


class InferenceLog:
    """Append-only request/response log of local serving.

    Args:
        directory: Where the partitions live (``Workdir(root).inference_logs``).

    Example:
        >>> from movie_rag import Workdir
        >>> from movie_rag.publish.inference_log import InferenceLog
        >>> log = InferenceLog(Workdir("/tmp/movie_rag_example").inference_logs)
        >>> log.read().column_names[:4]  # doctest: +SKIP
        ['request_id', 'client_request_id', 'date', 'timestamp_ms']
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser().resolve()
        self._lock = threading.Lock()
        self._part = f"part-{_safe(socket.gethostname())}-{os.getpid()}.jsonl"

    def __repr__(self) -> str:
        return f"InferenceLog({str(self.directory)!r})"

    @classmethod
    def from_env(cls) -> InferenceLog | None:
        """The log named by ``MOVIE_RAG_INFERENCE_LOG_DIR``, or None when it is unset."""
        directory = os.environ.get(INFERENCE_LOG_DIR_ENV, "").strip()
        return cls(directory) if directory else None

    def append(self, record: InferenceRecord) -> Path:
        """Append one record to today's partition of this process.

        Returns:
            The file written.
        """
        partition = self.directory / f"date={record.date.isoformat()}"
        path = partition / self._part
        line = record.model_dump_json() + "\n"
        with self._lock:
            partition.mkdir(parents=True, exist_ok=True)
            # One write per line on a file only this process appends to: a crash can cut
            # the last line short, never interleave two.
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
        return path

    def files(self) -> list[Path]:
        """Every partition file, oldest day first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("date=*/*.jsonl"))

    def read(self, *, since: date | None = None) -> pa.Table:
        """Every logged request (from ``since`` on), ordered by time.

        A line cut short by a crashed server is skipped (and logged at WARNING).

        Args:
            since: First day to include (UTC); None reads everything.

        Returns:
            A table with :data:`INFERENCE_LOG_SCHEMA`.
        """
        rows: list[dict[str, Any]] = []
        for path in self.files():
            day = date.fromisoformat(path.parent.name.removeprefix("date="))
            if since is not None and day < since:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = InferenceRecord.model_validate_json(line)
                except ValueError:
                    logger.warning("%s:%d: skipping an incomplete inference log line", path, number)
                    continue
                row = record.model_dump()
                row["date"] = day
                row["request_metadata"] = list(record.request_metadata.items())
                rows.append(row)
        rows.sort(key=lambda row: (row["timestamp_ms"], row["request_id"]))
        return pa.Table.from_pylist(rows, schema=INFERENCE_LOG_SCHEMA)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "host"
