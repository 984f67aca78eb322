"""Databricks SQL Statement Execution API on loopback, backed by sqlite, for databricks-sdk.

``WorkspaceClient(host=emulator.url, token=emulator.token).statement_execution`` talks to this
server. Routes, following the REST reference
(https://docs.databricks.com/api/workspace/statementexecution) and databricks-sdk
``service/sql.py`` (``StatementExecutionAPI``, whose docstrings carry the same text):

* ``GET /.well-known/databricks-config`` — the SDK's host-metadata probe, unauthenticated
* ``POST /api/2.0/sql/statements`` — statementexecution/executestatement
* ``GET /api/2.0/sql/statements/{statement_id}`` — statementexecution/getstatement
* ``POST /api/2.0/sql/statements/{statement_id}/cancel`` — statementexecution/cancelexecution
* ``POST /api/2.1/unity-catalog/volumes`` — volumes/create; ``GET
  /api/2.1/unity-catalog/volumes/{full_name}`` — volumes/read. A created volume is a
  directory ``<volumes_root>/<catalog>/<schema>/<volume>`` (what ``/Volumes/...`` shows on
  a driver); creating one needs its schema to exist (404), a new name (409
  RESOURCE_ALREADY_EXISTS), ``volume_type`` MANAGED or EXTERNAL (EXTERNAL with a
  ``storage_location``), and CREATE VOLUME on the schema (403 PERMISSION_DENIED "User does
  not have CREATE VOLUME on Schema '<c.s>'." when ``can_create_volumes`` is False).

Statements really run: tables live in an in-memory sqlite database, so a test reads back what
an ``INSERT`` stored (:meth:`SqlStatementsEmulator.rows`, or a ``SELECT`` through the API).
The SQL understood is the subset a feedback table needs: ``CREATE TABLE [IF NOT EXISTS]``,
``INSERT INTO ... (cols) VALUES (...)``, ``SELECT ... FROM ...`` with three-part names
(``catalog.schema.table``, optionally back-quoted), Databricks column types and named
parameter markers (``:name``).

Rejected with an HTTP error, as the reference describes request validation (400
INVALID_PARAMETER_VALUE unless said otherwise; error bodies ``{"error_code", "message"}``):

* a missing bearer token (401 UNAUTHENTICATED) or a wrong one (403 PERMISSION_DENIED);
* no ``statement`` or ``warehouse_id`` (both "Required"); statement text over 16 MiB ("The
  maximum query text size is 16 MiB");
* ``wait_timeout`` other than ``Ns`` with N = 0 or 5..50 ("``Ns``, where ``N`` can be set to
  0 or to a value between 5 and 50");
* ``on_wait_timeout`` other than CONTINUE/CANCEL, ``disposition`` other than
  INLINE/EXTERNAL_LINKS, ``format`` other than JSON_ARRAY/ARROW_STREAM/CSV, and ARROW_STREAM or
  CSV with INLINE ("supported only with ``EXTERNAL_LINKS`` disposition");
* positional ``?`` markers ("positional parameters denoted by a ``?`` marker are not
  supported"); parameters without a name, with a non-string value ("represented as a
  string"), or of a complex type ("Complex types, such as ``ARRAY``, ``MAP``, and ``STRUCT``
  are not supported");
* an unknown warehouse (404 RESOURCE_DOES_NOT_EXIST; modelled, the reference does not quote
  the body) and unknown statement ids (404).

Failures of the statement itself are answered 200 with ``status.state = FAILED`` and
``status.error`` ("If the SQL warehouse fails to execute the provided statement, a 200
response is returned with ``status.state`` set to ``FAILED``"), with the SQL error class in
the message as the warehouse words it: ``[UNBOUND_SQL_PARAMETER]`` for a marker without a
parameter, ``[CAST_INVALID_INPUT]`` for a value its declared type cannot cast ("checked for
type correctness ... using the ``cast`` function"), ``[SCHEMA_NOT_FOUND]``,
``[TABLE_OR_VIEW_NOT_FOUND]``, ``[TABLE_OR_VIEW_ALREADY_EXISTS]``, ``[PARSE_SYNTAX_ERROR]``.

Timing: with ``wait_timeout = 0s`` a statement answers PENDING and runs on the first GET;
with a wait of 5..50 s it answers SUCCEEDED or FAILED at once, unless ``slow_polls`` makes
statements outlast the wait: then ``on_wait_timeout = CONTINUE`` answers RUNNING (the
statement completes after that many GETs) and CANCEL answers CANCELED without running it.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from emulators._workspace import ApiError, WorkspaceEmulator, bad, missing

__all__ = ["DEFAULT_TOKEN", "DEFAULT_WAREHOUSE", "SqlStatementsEmulator"]

DEFAULT_TOKEN = "dapi-sql-emulator-0123456789abcdef"
DEFAULT_WAREHOUSE = "0123456789abcdef"
MAX_STATEMENT_BYTES = 16 * 1024 * 1024

_SCALAR_TYPES = {
    "STRING": "TEXT",
    "VARCHAR": "TEXT",
    "CHAR": "TEXT",
    "BOOLEAN": "INTEGER",
    "TINYINT": "INTEGER",
    "BYTE": "INTEGER",
    "SMALLINT": "INTEGER",
    "SHORT": "INTEGER",
    "INT": "INTEGER",
    "INTEGER": "INTEGER",
    "BIGINT": "INTEGER",
    "LONG": "INTEGER",
    "FLOAT": "REAL",
    "DOUBLE": "REAL",
    "DECIMAL": "TEXT",
    "DATE": "TEXT",
    "TIMESTAMP": "TEXT",
    "TIMESTAMP_NTZ": "TEXT",
    "BINARY": "BLOB",
}
_COMPLEX = ("ARRAY", "MAP", "STRUCT")
_NAME = r"(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"
_THREE_PART = re.compile(rf"({_NAME})\.({_NAME})\.({_NAME})")
_MARKER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_WAIT = re.compile(r"^(\d+)s$")


class _SqlError(Exception):
    """A statement failure: the warehouse's error class and message."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(f"[{error_class}] {message}")


@dataclass
class _Statement:
    statement_id: str
    sql: str
    parameters: list[dict[str, Any]]
    state: str = "PENDING"
    polls_left: int = 0
    error: str | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)


class SqlStatementsEmulator(WorkspaceEmulator):
    """SQL warehouses of a workspace on an ephemeral loopback port.

    Args:
        token: The personal access token every request must carry.
        warehouses: Warehouse ids that exist.
        schemas: ``catalog.schema`` names that exist (tables can be created in them).
        slow_polls: GETs a statement stays RUNNING after a synchronous wait ran out (0: every
            statement finishes within the wait).
        volumes_root: The directory standing for ``/Volumes`` (volumes are made in it).
        can_create_volumes: Whether the token's user holds CREATE VOLUME on the schemas.

    Example:
        >>> with SqlStatementsEmulator(schemas=["main.movie_rag"]) as sql:  # doctest: +SKIP
        ...     w = WorkspaceClient(host=sql.url, token=sql.token, auth_type="pat")
        ...     w.statement_execution.execute_statement("SELECT 1", sql.warehouse_id)
    """

    thread_name = "sql-statements-emulator"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        warehouses: tuple[str, ...] = (DEFAULT_WAREHOUSE,),
        schemas: tuple[str, ...] | list[str] = ("movie_rag.silver",),
        slow_polls: int = 0,
        volumes_root: str | Path | None = None,
        can_create_volumes: bool = True,
    ) -> None:
        super().__init__(token=token)
        self.warehouses = set(warehouses)
        self.schemas = {name.lower() for name in schemas}
        self.slow_polls = slow_polls
        self.volumes_root = Path(volumes_root) if volumes_root is not None else None
        self.can_create_volumes = can_create_volumes
        self.volumes: dict[str, dict[str, Any]] = {}
        self.statements: dict[str, _Statement] = {}
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._types: dict[str, dict[str, str]] = {}

    @property
    def warehouse_id(self) -> str:
        """One existing warehouse id."""
        return sorted(self.warehouses)[0]

    # -- test controls -------------------------------------------------------------------------

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``catalog.schema.table``, as stored, in insertion order."""
        with self._lock:
            cursor = self._db.execute(f'SELECT * FROM "{_key(table)}" ORDER BY rowid')
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def column_types(self, table: str) -> dict[str, str]:
        """Column name → declared Databricks type of a created table."""
        return dict(self._types[_key(table)])

    # -- routes ---------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = path.strip("/").split("/")
        if parts[:4] == ["api", "2.0", "sql", "statements"]:
            rest = parts[4:]
            if method == "POST" and not rest:
                return self._execute(_object(body))
            if method == "GET" and len(rest) == 1:
                return self._get(rest[0])
            if method == "POST" and len(rest) == 2 and rest[1] == "cancel":
                return self._cancel(rest[0])
        if parts[:4] == ["api", "2.1", "unity-catalog", "volumes"]:
            if method == "POST" and len(parts) == 4:
                return self._create_volume(_object(body))
            if method == "GET" and len(parts) == 5:
                volume = self.volumes.get(parts[4].lower())
                if volume is None:
                    raise missing(f"Volume '{parts[4]}' does not exist.")
                return volume
        return super()._route(method, path, query, body)

    def _create_volume(self, body: dict[str, Any]) -> dict[str, Any]:
        # https://docs.databricks.com/api/workspace/volumes/create
        names = [body.get(k) for k in ("catalog_name", "schema_name", "name")]
        if not all(isinstance(n, str) and n for n in names):
            raise bad("catalog_name, schema_name and name are required")
        catalog, schema, name = (str(n) for n in names)
        volume_type = body.get("volume_type")
        if volume_type not in ("MANAGED", "EXTERNAL"):
            raise bad(f"Invalid volume_type '{volume_type}'. Supported: MANAGED, EXTERNAL.")
        if volume_type == "EXTERNAL" and not body.get("storage_location"):
            raise bad("storage_location is required for an EXTERNAL volume")
        if f"{catalog}.{schema}".lower() not in self.schemas:
            raise missing(f"Schema '{catalog}.{schema}' does not exist.")
        if not self.can_create_volumes:
            raise ApiError(
                403,
                f"User does not have CREATE VOLUME on Schema '{catalog}.{schema}'.",
                "PERMISSION_DENIED",
            )
        full_name = f"{catalog}.{schema}.{name}"
        if full_name.lower() in self.volumes:
            raise ApiError(409, f"Volume '{full_name}' already exists", "RESOURCE_ALREADY_EXISTS")
        if self.volumes_root is not None:
            (self.volumes_root / catalog / schema / name).mkdir(parents=True)
        info = {
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "full_name": full_name,
            "volume_type": volume_type,
            "comment": body.get("comment"),
        }
        self.volumes[full_name.lower()] = info
        return info

    def _execute(self, body: dict[str, Any]) -> dict[str, Any]:
        sql = body.get("statement")
        if not isinstance(sql, str) or not sql.strip():
            raise bad("statement is required")
        if len(sql.encode()) > MAX_STATEMENT_BYTES:
            raise bad("The maximum query text size is 16 MiB.")
        warehouse = body.get("warehouse_id")
        if not isinstance(warehouse, str) or not warehouse:
            raise bad("warehouse_id is required")
        wait = _wait_seconds(body.get("wait_timeout", "10s"))
        on_wait = body.get("on_wait_timeout", "CONTINUE")
        if on_wait not in ("CONTINUE", "CANCEL"):
            raise bad(f"on_wait_timeout must be CONTINUE or CANCEL, got {on_wait!r}")
        disposition = body.get("disposition", "INLINE")
        result_format = body.get("format", "JSON_ARRAY")
        if disposition not in ("INLINE", "EXTERNAL_LINKS"):
            raise bad(f"disposition must be INLINE or EXTERNAL_LINKS, got {disposition!r}")
        if result_format not in ("JSON_ARRAY", "ARROW_STREAM", "CSV"):
            raise bad(f"format must be JSON_ARRAY, ARROW_STREAM or CSV, got {result_format!r}")
        if disposition == "INLINE" and result_format != "JSON_ARRAY":
            raise bad(f"{result_format} is supported only with EXTERNAL_LINKS disposition")
        if re.search(r"\?", _without_literals(sql)):
            raise bad("Positional parameters ('?' markers) are not supported; use :name.")
        parameters = _parameters(body.get("parameters"))
        if warehouse not in self.warehouses:
            raise ApiError(404, f"Warehouse {warehouse} does not exist.", "RESOURCE_DOES_NOT_EXIST")
        statement = _Statement(uuid.uuid4().hex, sql, parameters)
        self.statements[statement.statement_id] = statement
        if wait == 0:
            statement.polls_left = self.slow_polls
        elif self.slow_polls:
            if on_wait == "CANCEL":
                statement.state = "CANCELED"
            else:
                statement.state = "RUNNING"
                statement.polls_left = self.slow_polls - 1
        else:
            self._run(statement)
        return _response(statement)

    def _get(self, statement_id: str) -> dict[str, Any]:
        statement = self._statement(statement_id)
        if statement.state in ("PENDING", "RUNNING"):
            if statement.polls_left > 0:
                statement.polls_left -= 1
                statement.state = "RUNNING"
            else:
                self._run(statement)
        return _response(statement)

    def _cancel(self, statement_id: str) -> dict[str, Any]:
        statement = self._statement(statement_id)
        if statement.state in ("PENDING", "RUNNING"):
            statement.state = "CANCELED"
        return {}

    def _statement(self, statement_id: str) -> _Statement:
        statement = self.statements.get(statement_id)
        if statement is None:
            raise ApiError(
                404, f"Statement {statement_id} does not exist.", "RESOURCE_DOES_NOT_EXIST"
            )
        return statement

    # -- running SQL ----------------------------------------------------------------------------

    def _run(self, statement: _Statement) -> None:
        try:
            self._run_sql(statement)
        except _SqlError as exc:
            statement.state, statement.error = "FAILED", str(exc)
        except sqlite3.Error as exc:
            statement.state, statement.error = "FAILED", f"[PARSE_SYNTAX_ERROR] {exc}"
        else:
            statement.state = "SUCCEEDED"

    def _run_sql(self, statement: _Statement) -> None:
        sql = statement.sql.strip().rstrip(";")
        values = self._bind(sql, statement.parameters)
        create = re.match(
            rf"(?is)^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?({_NAME}\.{_NAME}\.{_NAME})\s*"
            r"\((.*)\)\s*(COMMENT\s+'(?:[^']|'')*')?$",
            sql,
        )
        if create:
            self._create(create.group(2), create.group(3), bool(create.group(1)))
            return
        insert = re.match(rf"(?is)^INSERT\s+INTO\s+({_NAME}\.{_NAME}\.{_NAME})\s*(.*)$", sql)
        if insert:
            table = self._existing(insert.group(1))
            self._db.execute(f'INSERT INTO "{table}" {insert.group(2)}', values)
            return
        select = re.match(r"(?is)^SELECT\s", sql)
        if select:
            names = {m.group(0) for m in _THREE_PART.finditer(sql)}
            for name in names:
                sql = sql.replace(name, f'"{self._existing(name)}"')
            cursor = self._db.execute(sql, values)
            statement.columns = [(d[0], "STRING") for d in cursor.description]
            statement.rows = [[_text(v) for v in row] for row in cursor.fetchall()]
            return
        raise _SqlError(
            "PARSE_SYNTAX_ERROR",
            "Syntax error: this emulator runs CREATE TABLE, INSERT INTO and SELECT only.",
        )

    def _bind(self, sql: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
        given = {p["name"]: p for p in parameters}
        values: dict[str, Any] = {}
        for name in dict.fromkeys(_MARKER.findall(_without_literals(sql))):
            if name not in given:
                raise _SqlError("UNBOUND_SQL_PARAMETER", f"Found the unbound parameter: {name}.")
            values[name] = _cast(given[name])
        return values

    def _create(self, name: str, columns_sql: str, if_not_exists: bool) -> None:
        key = _key(name)
        catalog, schema, _ = key.split(".")
        if f"{catalog}.{schema}" not in self.schemas:
            raise _SqlError(
                "SCHEMA_NOT_FOUND", f"The schema `{catalog}`.`{schema}` cannot be found."
            )
        if key in self._types:
            if if_not_exists:
                return
            raise _SqlError("TABLE_OR_VIEW_ALREADY_EXISTS", f"Cannot create table or view {key}.")
        declared: dict[str, str] = {}
        for column in _split_columns(columns_sql):
            match = re.match(r"^(\w+)\s+([A-Za-z_]+)(\(.*\))?(.*)$", column.strip())
            if not match:
                raise _SqlError("PARSE_SYNTAX_ERROR", f"Syntax error at or near {column!r}.")
            kind = match.group(2).upper()
            if kind not in _SCALAR_TYPES:
                raise _SqlError("UNSUPPORTED_DATATYPE", f"Unsupported data type {kind}.")
            declared[match.group(1)] = kind
        sqlite_columns = ", ".join(f'"{n}" {_SCALAR_TYPES[t]}' for n, t in declared.items())
        self._db.execute(f'CREATE TABLE "{key}" ({sqlite_columns})')
        self._types[key] = declared

    def _existing(self, name: str) -> str:
        key = _key(name)
        if key not in self._types:
            raise _SqlError("TABLE_OR_VIEW_NOT_FOUND", f"The table or view {key} cannot be found.")
        return key


def _key(name: str) -> str:
    match = _THREE_PART.fullmatch(name.strip())
    if not match:
        raise _SqlError("PARSE_SYNTAX_ERROR", f"expected catalog.schema.table, got {name!r}")
    return ".".join(part.strip("`").lower() for part in match.groups())


def _wait_seconds(value: Any) -> int:
    match = _WAIT.match(value) if isinstance(value, str) else None
    seconds = int(match.group(1)) if match else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise bad(f"wait_timeout must be '0s' or between '5s' and '50s' (as Ns), got {value!r}")
    return seconds


def _parameters(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad("parameters must be a list of {name, value, type} objects")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise bad("every parameter needs a name")
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            raise bad(f"parameter {item['name']}: the value must be a string (or null)")
        kind = str(item.get("type") or "STRING").upper()
        base = re.sub(r"\(.*\)$", "", kind).strip()
        if base.split("<")[0] in _COMPLEX:
            raise bad(f"parameter {item['name']}: complex type {kind} is not supported")
        if base not in _SCALAR_TYPES:
            raise bad(f"parameter {item['name']}: unknown type {kind}")
        out.append({"name": item["name"], "value": value, "type": base})
    return out


def _cast(parameter: dict[str, Any]) -> Any:
    value, kind = parameter["value"], parameter["type"]
    if value is None:
        return None
    try:
        if _SCALAR_TYPES[kind] == "INTEGER":
            if kind == "BOOLEAN":
                if value.strip().lower() not in ("true", "false"):
                    raise ValueError(value)
                return int(value.strip().lower() == "true")
            return int(value.strip())
        if _SCALAR_TYPES[kind] == "REAL":
            return float(value)
        if kind == "DECIMAL":
            return str(Decimal(value))
        if kind in ("TIMESTAMP", "TIMESTAMP_NTZ"):
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).isoformat()
        if kind == "DATE":
            return datetime.strptime(value.strip(), "%Y-%m-%d").date().isoformat()
    except (ValueError, InvalidOperation):
        raise _SqlError(
            "CAST_INVALID_INPUT",
            f'The value \'{value}\' of the type "STRING" cannot be cast to "{kind}" '
            f"because it is malformed (parameter :{parameter['name']}).",
        ) from None
    return value


def _without_literals(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def _split_columns(text: str) -> list[str]:
    columns, depth, current = [], 0, ""
    for char in text:
        depth += char in "(<"
        depth -= char in ")>"
        if char == "," and depth == 0:
            columns.append(current)
            current = ""
        else:
            current += char
    return [*columns, current] if current.strip() else columns


def _text(value: Any) -> str | None:
    # JSON_ARRAY results carry "the string representation of a value, or null".
    return None if value is None else str(value)


def _response(statement: _Statement) -> dict[str, Any]:
    status: dict[str, Any] = {"state": statement.state}
    if statement.error:
        status["error"] = {"error_code": "BAD_REQUEST", "message": statement.error}
    body: dict[str, Any] = {"statement_id": statement.statement_id, "status": status}
    if statement.state == "SUCCEEDED":
        body["manifest"] = {
            "format": "JSON_ARRAY",
            "schema": {
                "column_count": len(statement.columns),
                "columns": [
                    {"name": n, "type_name": t, "type_text": t, "position": i}
                    for i, (n, t) in enumerate(statement.columns)
                ],
            },
            "total_row_count": len(statement.rows),
            "total_chunk_count": 1,
            "truncated": False,
        }
        body["result"] = {
            "chunk_index": 0,
            "row_offset": 0,
            "row_count": len(statement.rows),
            "data_array": statement.rows,
        }
    return body


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", "MALFORMED_REQUEST")
    return body
