"""Feedback kept in a Unity Catalog table, written through the SQL Statement Execution API.

Each click becomes one parameterised ``INSERT`` on a SQL warehouse
(``POST /api/2.0/sql/statements`` through databricks-sdk's ``statement_execution``). Values
travel as named parameters (``:user_id``), never spliced into the SQL text. The table is
created on first use (``CREATE TABLE IF NOT EXISTS``). A statement still running when the
synchronous wait ends is polled (``GET /api/2.0/sql/statements/{id}``) until it finishes.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from movie_rag.errors import ConfigurationError, MovieRagError
from movie_rag.feedback.events import FeedbackEvent

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.sql import StatementResponse

    from movie_rag.settings import MovieRagSettings

__all__ = ["FEEDBACK_COLUMNS", "FeedbackTableError", "UnityCatalogFeedbackStore"]

#: Column name → Databricks SQL type. ``recommended_ids`` is a JSON array in a STRING:
#: statement parameters cannot carry ARRAY values.
FEEDBACK_COLUMNS: dict[str, str] = {
    "event_id": "STRING",
    "created_at": "TIMESTAMP",
    "user_id": "STRING",
    "query": "STRING",
    "vote": "INT",
    "target": "STRING",
    "movie_id": "BIGINT",
    "title": "STRING",
    "answer": "STRING",
    "recommended_ids": "STRING",
    "source": "STRING",
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RUNNING = ("PENDING", "RUNNING")


class FeedbackTableError(MovieRagError):
    """The warehouse did not store a feedback event (or could not create the table)."""


class UnityCatalogFeedbackStore:
    """A feedback sink that appends events to a Unity Catalog table.

    Args:
        client: A ``databricks.sdk.WorkspaceClient``.
        warehouse_id: The SQL warehouse that runs the statements.
        table: ``catalog.schema.table``.
        timeout: Seconds to wait for one statement, polling included.
        poll_interval: Seconds between polls of a statement still running.

    Raises:
        ConfigurationError: The table name is not three valid identifiers or the warehouse id
            is empty.

    Example:
        >>> from databricks.sdk import WorkspaceClient  # doctest: +SKIP
        >>> store = UnityCatalogFeedbackStore(  # doctest: +SKIP
        ...     WorkspaceClient(), "abc123", "main.movie_rag.feedback"
        ... )
        >>> store.record(event)  # doctest: +SKIP
    """

    def __init__(
        self,
        client: WorkspaceClient,
        warehouse_id: str,
        table: str,
        *,
        timeout: float = 60.0,
        poll_interval: float = 1.0,
    ) -> None:
        if not warehouse_id or not warehouse_id.strip():
            raise ConfigurationError("a SQL warehouse id is needed to write feedback to UC")
        parts = table.split(".")
        if len(parts) != 3 or not all(_IDENTIFIER.match(part) for part in parts):
            raise ConfigurationError(
                f"the feedback table must be catalog.schema.table (letters, digits and "
                f"underscores), got {table!r}"
            )
        self.client = client
        self.warehouse_id = warehouse_id.strip()
        self.table = table
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._created = False

    def __repr__(self) -> str:
        return f"UnityCatalogFeedbackStore({self.table!r}, warehouse={self.warehouse_id!r})"

    @classmethod
    def from_settings(cls, settings: MovieRagSettings) -> UnityCatalogFeedbackStore:
        """The store the settings describe (``sql_warehouse_id``, ``feedback_table``).

        Args:
            settings: With ``sql_warehouse_id`` set; the workspace credentials come from
                :func:`movie_rag.workspace.workspace_client` (the unified auth chain, with
                the ``databricks_*`` settings as overrides).

        Returns:
            The store.

        Raises:
            ConfigurationError: ``sql_warehouse_id`` is not set, or databricks-sdk is missing.
            WorkspaceAuthError: No usable workspace credentials.
        """
        if not settings.sql_warehouse_id:
            raise ConfigurationError(
                "set MOVIE_RAG_SQL_WAREHOUSE_ID to write feedback to a Unity Catalog table"
            )
        from movie_rag.workspace import workspace_client

        # The workspace seam: unified auth (notebook, App, OAuth M2M, profile, PAT) with the
        # databricks_* settings as overrides.
        client = workspace_client(settings)
        table = settings.feedback_table or f"{settings.catalog}.{settings.silver_schema}.feedback"
        return cls(client, settings.sql_warehouse_id, table)

    def ensure_table(self) -> None:
        """Create the table when it does not exist yet (once per store)."""
        if self._created:
            return
        columns = ", ".join(f"{name} {kind}" for name, kind in FEEDBACK_COLUMNS.items())
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {self._quoted} ({columns}) "
            "COMMENT 'Thumbs up/down from the movie_rag chat UI'",
            [],
        )
        self._created = True

    def record(self, event: FeedbackEvent) -> None:
        """Insert one event; returns once the warehouse reports it stored.

        Args:
            event: The click to keep.

        Raises:
            FeedbackTableError: The statement failed, was cancelled or timed out.
        """
        from databricks.sdk.service.sql import StatementParameterListItem

        self.ensure_table()
        values = _values(event)
        names = ", ".join(FEEDBACK_COLUMNS)
        markers = ", ".join(f":{name}" for name in FEEDBACK_COLUMNS)
        parameters = [
            StatementParameterListItem(name=name, type=kind, value=values[name])
            for name, kind in FEEDBACK_COLUMNS.items()
        ]
        self._execute(f"INSERT INTO {self._quoted} ({names}) VALUES ({markers})", parameters)

    @property
    def _quoted(self) -> str:
        return ".".join(f"`{part}`" for part in self.table.split("."))

    def _execute(self, statement: str, parameters: list[Any]) -> StatementResponse:
        from databricks.sdk.errors import DatabricksError
        from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout

        deadline = time.monotonic() + self.timeout
        try:
            response = self.client.statement_execution.execute_statement(
                statement,
                self.warehouse_id,
                parameters=parameters or None,
                # Wait synchronously for the usual case; keep running past it (and poll)
                # rather than lose a vote to a slow warehouse start.
                wait_timeout="10s",
                on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
            )
            while _state(response) in _RUNNING:
                if time.monotonic() > deadline:
                    self.client.statement_execution.cancel_execution(str(response.statement_id))
                    raise FeedbackTableError(
                        f"writing feedback to {self.table} took longer than {self.timeout:g} s"
                    )
                time.sleep(self.poll_interval)
                response = self.client.statement_execution.get_statement(str(response.statement_id))
        except DatabricksError as exc:
            raise FeedbackTableError(f"the SQL warehouse refused the statement: {exc}") from None
        state = _state(response)
        if state != "SUCCEEDED":
            error = response.status.error if response.status else None
            detail = f": {error.message}" if error is not None and error.message else ""
            raise FeedbackTableError(f"writing feedback to {self.table} ended {state}{detail}")
        return response


def _state(response: StatementResponse) -> str:
    status = response.status
    return status.state.value if status is not None and status.state is not None else "UNKNOWN"


def _values(event: FeedbackEvent) -> dict[str, str | None]:
    return {
        "event_id": event.event_id,
        # Databricks casts ISO-8601 strings to TIMESTAMP; keep microseconds and UTC.
        "created_at": event.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "user_id": event.user_id,
        "query": event.query,
        "vote": str(event.vote),
        "target": event.target,
        "movie_id": str(event.movie_id) if event.movie_id is not None else None,
        "title": event.title,
        "answer": event.answer,
        "recommended_ids": json.dumps(event.recommended_ids),
        "source": event.source,
    }
