"""A served movie_rag model on loopback: Databricks Model Serving invocations and the
``mlflow models serve`` scoring route, answered by the real pyfunc model (``MovieRagModel``).

Starting a real ``mlflow models serve`` takes 30-50 s; this server answers through the same
``MovieRagModel.predict`` in-process, so UI and client tests run in seconds. Routes:

* ``POST /serving-endpoints/{name}/invocations`` — Databricks Model Serving scoring
  (https://docs.databricks.com/machine-learning/model-serving/score-custom-model-endpoints.html):
  needs ``Authorization: Bearer <token>``; 401 without a token, 403 with a wrong one, 404
  ``RESOURCE_DOES_NOT_EXIST`` for an endpoint name that is not served; once
  :meth:`ModelInvocationsEmulator.restrict_query` is called, a caller (each token is one
  principal, :meth:`ModelInvocationsEmulator.add_identity`) without the endpoint's CAN QUERY
  permission is 403 ``PERMISSION_DENIED`` (serving endpoint ACLs: CAN QUERY is what querying
  needs);
* ``POST /invocations`` — MLflow's scoring server (no authentication).

Bodies as the scoring server reads them: ``dataframe_split`` (``columns`` + ``data``),
``dataframe_records``, or a chat request ``{"messages": [...]}``; optional ``params``.
A body with none of these, or with two input keys, is 400 ``BAD_REQUEST`` (MLflow: "The
input must be a JSON dictionary with exactly one of the input fields {...}"). The model's own
400/500 answers come from its ``MlflowException`` error codes.

Modes that stand for older or stricter endpoints:

* ``text_only``: the original endpoint — ignores ``params`` and every column but ``query``
  and answers strings;
* ``query_column_only``: an endpoint whose signature has the ``query`` column only — any
  other column is 400 (MLflow enforces the input schema).

Faults (:meth:`ModelInvocationsEmulator.fail`): the next N requests answer an HTTP status,
or wait ``delay`` seconds first (for client timeouts).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain

__all__ = ["DEFAULT_TOKEN", "ModelInvocationsEmulator"]

DEFAULT_TOKEN = "dapi-invocations-emulator-0123456789"
_INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs", "messages")


@dataclass
class _Fault:
    status: int
    times: int
    delay: float = 0.0


class ModelInvocationsEmulator:
    """Serve ``chain`` through ``MovieRagModel.predict`` on an ephemeral loopback port.

    Args:
        chain: The chain the model answers with.
        endpoint_name: The Databricks endpoint name that is served.
        token: The bearer token the Databricks route requires.
        text_only: Answer like the original endpoint (strings; params and extra columns
            ignored).
        query_column_only: Refuse columns other than ``query`` (strict input schema).
    """

    def __init__(
        self,
        chain: RecommenderChain,
        *,
        endpoint_name: str = "movie_rag",
        token: str = DEFAULT_TOKEN,
        text_only: bool = False,
        query_column_only: bool = False,
    ) -> None:
        from movie_rag.publish.model import MovieRagModel

        self.model = MovieRagModel()
        self.model.chain = chain
        self.endpoint_name = endpoint_name
        self.token = token
        self.identities: dict[str, str] = {token: "deployer@example.com"}
        #: Principals with CAN QUERY; None: every valid token may query.
        self.can_query: set[str] | None = None
        self.text_only = text_only
        self.query_column_only = query_column_only
        self.requests: list[dict[str, Any]] = []
        self.faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ModelInvocationsEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (later requests are refused: the port is closed)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("the emulator is not started; use it in a `with` block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The Databricks-style invocations URL of the served endpoint."""
        return f"{self.base_url}/serving-endpoints/{self.endpoint_name}/invocations"

    @property
    def mlflow_url(self) -> str:
        """The ``mlflow models serve``-style invocations URL."""
        return f"{self.base_url}/invocations"

    def add_identity(self, token: str, principal: str) -> None:
        """Accept ``token`` as ``principal``'s credential."""
        self.identities[token] = principal

    def restrict_query(self, *principals: str) -> None:
        """Only these principals hold CAN QUERY on the endpoint from now on."""
        self.can_query = set(principals)

    def fail(self, status: int, times: int = 1, *, delay: float = 0.0) -> None:
        """Answer the next ``times`` requests with ``status`` (0: answer normally after
        ``delay`` seconds)."""
        with self._lock:
            self.faults.append(_Fault(status, times, delay))

    @contextmanager
    def failing(self, status: int, times: int = 1_000_000) -> Iterator[None]:
        """Fail every request with ``status`` inside the block."""
        self.fail(status, times)
        try:
            yield
        finally:
            with self._lock:
                self.faults.clear()

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def answer(self, body: Any) -> tuple[int, Any]:
        """Score one parsed request body: (status, JSON answer)."""
        import pandas as pd
        from mlflow.exceptions import MlflowException

        if not isinstance(body, dict):
            return _error(400, "BAD_REQUEST", "The request body must be a JSON object.")
        present = [key for key in _INPUT_KEYS if key in body]
        if len(present) != 1:
            return _error(
                400,
                "BAD_REQUEST",
                "The input must be a JSON dictionary with exactly one of the input fields "
                f"{set(_INPUT_KEYS)}. Received: {sorted(body)}.",
            )
        params = body.get("params") or {}
        key = present[0]
        try:
            if key == "dataframe_split":
                split = body[key]
                frame = pd.DataFrame(data=split.get("data"), columns=split.get("columns"))
            elif key == "dataframe_records":
                frame = pd.DataFrame(body[key])
            elif key == "messages":
                chat = {k: v for k, v in body.items() if k != "params"}
                if self.text_only:
                    return _error(400, "BAD_REQUEST", "Model does not accept 'messages'.")
                return 200, self.model.predict(None, chat, params)  # type: ignore[arg-type]
            else:
                return _error(400, "BAD_REQUEST", f"'{key}' is not supported by this model.")
        except (TypeError, ValueError, AttributeError) as exc:
            return _error(400, "BAD_REQUEST", f"Failed to parse input as a DataFrame: {exc}")
        extra = [c for c in frame.columns if c != "query"]
        if self.query_column_only and extra:
            return _error(
                400,
                "BAD_REQUEST",
                f"Failed to enforce schema of data: unexpected columns {extra}; the model "
                "signature has only ['query'].",
            )
        if self.text_only:
            frame, params = frame[["query"]] if "query" in frame else frame, {}
        try:
            predictions = self.model.predict(None, frame, params)
        except MlflowException as exc:
            return _error(exc.get_http_status_code(), exc.error_code, exc.message)
        return 200, {"predictions": predictions}


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error_code": code, "message": message}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest output clean: the emulator records requests instead."""

    def do_POST(self) -> None:
        emulator: ModelInvocationsEmulator = self.server.emulator  # type: ignore[attr-defined]
        path = unquote(urlsplit(self.path).path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        record = {"path": path, "raw": raw, "headers": dict(self.headers)}
        emulator.requests.append(record)
        status, answer = self._route(emulator, path, raw)
        record["status"] = status
        self._send(status, answer)

    def _route(self, emulator: ModelInvocationsEmulator, path: str, raw: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "serving-endpoints" and parts[2] == "invocations":
            header = self.headers.get("Authorization") or ""
            if not header.startswith("Bearer "):
                return _error(401, "UNAUTHENTICATED", "Credential was not sent.")
            principal = emulator.identities.get(header.removeprefix("Bearer "))
            if principal is None:
                return _error(403, "PERMISSION_DENIED", "Invalid access token.")
            if emulator.can_query is not None and principal not in emulator.can_query:
                return _error(
                    403,
                    "PERMISSION_DENIED",
                    f"User {principal} does not have permission CAN_QUERY on serving "
                    f"endpoint {parts[1]}.",
                )
            if parts[1] != emulator.endpoint_name:
                return _error(
                    404, "RESOURCE_DOES_NOT_EXIST", f"Endpoint '{parts[1]}' does not exist."
                )
        elif parts != ["invocations"]:
            return _error(404, "ENDPOINT_NOT_FOUND", f"No route for POST {path}")
        fault = emulator._next_fault()
        if fault is not None:
            time.sleep(fault.delay)
            if fault.status:
                return _error(fault.status, "INJECTED", f"Injected fault: HTTP {fault.status}")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return _error(400, "MALFORMED_REQUEST", "Malformed JSON request body.")
        return emulator.answer(body)

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, default=str).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
