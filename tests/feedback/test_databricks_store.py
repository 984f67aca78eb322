"""The Unity Catalog feedback store, driving the real databricks-sdk against the SQL emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementParameterListItem

from emulators.sql_statements import SqlStatementsEmulator
from movie_rag.errors import ConfigurationError
from movie_rag.feedback import FeedbackEvent, FeedbackSink
from movie_rag.feedback.databricks import FeedbackTableError, UnityCatalogFeedbackStore
from movie_rag.settings import MovieRagSettings

TABLE = "movie_rag.silver.feedback"


@pytest.fixture
def sql() -> Iterator[SqlStatementsEmulator]:
    with SqlStatementsEmulator(schemas=["movie_rag.silver"]) as emulator:
        yield emulator


def client(sql: SqlStatementsEmulator, token: str | None = None) -> WorkspaceClient:
    return WorkspaceClient(host=sql.url, token=token or sql.token, auth_type="pat")


def event(**overrides: object) -> FeedbackEvent:
    values: dict[str, object] = {
        "user_id": "ana",
        "query": "a film about a shark; it's 'scary'",
        "vote": 1,
        "target": "movie",
        "movie_id": 1387,
        "title": "Jaws",
        "answer": "Here are 2 movies.",
        "recommended_ids": [1387, 2288],
        "created_at": datetime(2026, 11, 24, 2, 30, 15, 123456, tzinfo=UTC),
    }
    values.update(overrides)
    return FeedbackEvent.model_validate(values)


def test_record_creates_the_table_and_stores_every_field(sql: SqlStatementsEmulator) -> None:
    store = UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, TABLE, poll_interval=0.01)
    assert isinstance(store, FeedbackSink)
    first, second = event(), event(vote=-1, target="answer", movie_id=None, title=None)
    store.record(first)
    store.record(second)
    rows = sql.rows(TABLE)
    assert len(rows) == 2
    assert rows[0] == {
        "event_id": first.event_id,
        "created_at": "2026-11-24T02:30:15.123456+00:00",
        "user_id": "ana",
        "query": "a film about a shark; it's 'scary'",
        "vote": 1,
        "target": "movie",
        "movie_id": 1387,
        "title": "Jaws",
        "answer": "Here are 2 movies.",
        "recommended_ids": "[1387, 2288]",
        "source": "ui",
    }
    assert rows[1]["vote"] == -1 and rows[1]["movie_id"] is None and rows[1]["title"] is None
    assert sql.column_types(TABLE)["created_at"] == "TIMESTAMP"
    # Values travel as typed named parameters, never inside the SQL text.
    inserts = [r.body for r in sql.calls("POST") if r.body and "INSERT" in r.body["statement"]]
    assert len(inserts) == 2
    assert "shark" not in inserts[0]["statement"]
    assert {"name": "vote", "type": "INT", "value": "1"} in inserts[0]["parameters"]
    # CREATE TABLE IF NOT EXISTS runs once per store.
    creates = [r.body for r in sql.calls("POST") if r.body and "CREATE" in r.body["statement"]]
    assert len(creates) == 1


def test_a_second_store_reuses_the_existing_table(sql: SqlStatementsEmulator) -> None:
    UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, TABLE).record(event())
    UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, TABLE).record(event(vote=-1))
    assert [row["vote"] for row in sql.rows(TABLE)] == [1, -1]


def test_rows_read_back_through_the_api(sql: SqlStatementsEmulator) -> None:
    store = UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, TABLE)
    store.record(event(user_id="bo", movie_id=2288, title="The Thing"))
    w = client(sql)
    response = w.statement_execution.execute_statement(
        f"SELECT title, vote FROM {TABLE} WHERE user_id = :user",
        sql.warehouse_id,
        parameters=[StatementParameterListItem(name="user", value="bo")],
        wait_timeout="5s",
    )
    assert response.status is not None and response.status.state is not None
    assert response.status.state.value == "SUCCEEDED"
    assert response.result is not None and response.result.data_array == [["The Thing", "1"]]


def test_a_slow_warehouse_is_polled_until_the_row_is_stored() -> None:
    with SqlStatementsEmulator(slow_polls=3) as sql:
        store = UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, TABLE, poll_interval=0.01)
        store.record(event())
        assert len(sql.rows(TABLE)) == 1
        gets = [r.path for r in sql.calls("GET", "/statements/")]
        assert len(gets) >= 6  # three polls for the CREATE, three for the INSERT


def test_a_statement_that_never_finishes_is_cancelled_and_reported() -> None:
    with SqlStatementsEmulator(slow_polls=10_000) as sql:
        store = UnityCatalogFeedbackStore(
            client(sql), sql.warehouse_id, TABLE, timeout=0.2, poll_interval=0.02
        )
        with pytest.raises(FeedbackTableError, match=r"took longer than 0\.2 s"):
            store.record(event())
        assert sql.calls("POST", "/cancel$")


def test_a_missing_schema_fails_with_the_warehouse_message(sql: SqlStatementsEmulator) -> None:
    store = UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, "other.silver.feedback")
    with pytest.raises(FeedbackTableError, match=r"FAILED: \[SCHEMA_NOT_FOUND\]"):
        store.record(event())


def test_wrong_token_and_unknown_warehouse_are_refused(sql: SqlStatementsEmulator) -> None:
    with pytest.raises(FeedbackTableError, match="Invalid access token"):
        UnityCatalogFeedbackStore(client(sql, token="dapi-wrong"), sql.warehouse_id, TABLE).record(
            event()
        )
    with pytest.raises(FeedbackTableError, match="does not exist"):
        UnityCatalogFeedbackStore(client(sql), "nope", TABLE).record(event())
    assert sql.statements == {}  # neither request ran anything


def test_bad_table_names_and_missing_warehouse_are_configuration_errors(
    sql: SqlStatementsEmulator,
) -> None:
    for name in ("feedback", "a.b", "a.b.c; DROP TABLE x", "a.b-c.d"):
        with pytest.raises(ConfigurationError, match=r"catalog\.schema\.table"):
            UnityCatalogFeedbackStore(client(sql), sql.warehouse_id, name)
    with pytest.raises(ConfigurationError, match="warehouse"):
        UnityCatalogFeedbackStore(client(sql), " ", TABLE)
    with pytest.raises(ConfigurationError, match="MOVIE_RAG_SQL_WAREHOUSE_ID"):
        UnityCatalogFeedbackStore.from_settings(MovieRagSettings())


def test_from_settings_uses_the_default_table_name(sql: SqlStatementsEmulator) -> None:
    settings = MovieRagSettings(
        catalog="main",
        sql_warehouse_id=sql.warehouse_id,
        databricks_host=sql.url,
        databricks_token=sql.token,
    )
    store = UnityCatalogFeedbackStore.from_settings(settings)
    assert store.table == "main.silver.feedback"
    sql.schemas.add("main.silver")
    store.record(event())
    assert json.loads(sql.rows("main.silver.feedback")[0]["recommended_ids"]) == [1387, 2288]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"wait_timeout": "3s"}, "wait_timeout"),
        ({"wait_timeout": "51s"}, "wait_timeout"),
        ({"on_wait_timeout": "WAIT"}, "on_wait_timeout"),
        ({"disposition": "INLINE", "format": "CSV"}, "EXTERNAL_LINKS"),
        ({"statement": "SELECT * FROM movie_rag.silver.feedback WHERE vote = ?"}, "Positional"),
        ({"parameters": [{"name": "ids", "value": "[1]", "type": "ARRAY<INT>"}]}, "complex"),
        ({"parameters": [{"name": "n", "value": 1, "type": "INT"}]}, "string"),
    ],
)
def test_the_emulator_rejects_what_the_api_rejects(
    sql: SqlStatementsEmulator, body: dict[str, object], message: str
) -> None:
    from databricks.sdk.errors import DatabricksError

    w = client(sql)
    request = {"statement": "SELECT 1", "warehouse_id": sql.warehouse_id, **body}
    with pytest.raises(DatabricksError, match=message):
        w.api_client.do("POST", "/api/2.0/sql/statements", body=request)


def test_statement_errors_are_failed_states(sql: SqlStatementsEmulator) -> None:
    w = client(sql)
    UnityCatalogFeedbackStore(w, sql.warehouse_id, TABLE).ensure_table()
    cases = {
        "SELECT * FROM movie_rag.silver.feedback WHERE vote = :vote": "UNBOUND_SQL_PARAMETER",
        "SELECT * FROM movie_rag.silver.nothing": "TABLE_OR_VIEW_NOT_FOUND",
    }
    for statement, error_class in cases.items():
        response = w.statement_execution.execute_statement(statement, sql.warehouse_id)
        assert response.status is not None and response.status.state is not None
        assert response.status.state.value == "FAILED"
        assert response.status.error is not None
        assert f"[{error_class}]" in str(response.status.error.message)
    response = w.statement_execution.execute_statement(
        f"INSERT INTO {TABLE} (event_id, vote) VALUES (:id, :vote)",
        sql.warehouse_id,
        parameters=[
            StatementParameterListItem(name="id", value="x"),
            StatementParameterListItem(name="vote", value="lots", type="INT"),
        ],
    )
    assert response.status is not None and response.status.error is not None
    assert "[CAST_INVALID_INPUT]" in str(response.status.error.message)
    assert sql.rows(TABLE) == []
