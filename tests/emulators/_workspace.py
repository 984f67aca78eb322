"""What every Databricks workspace REST emulator shares: loopback server, auth, faults, records.

A subclass of :class:`WorkspaceEmulator` implements ``_route`` for its own API; this module
answers as the platform does around it (REST reference under
https://docs.databricks.com/api/workspace/ and databricks-sdk ``errors/platform.py``):

* the body of every error is ``{"error_code": ..., "message": ...}`` with the HTTP status
  the SDK's error tables give that code;
* a request without a bearer token is 401 UNAUTHENTICATED, a wrong token 403
  PERMISSION_DENIED; a body that is not JSON is 400 MALFORMED_REQUEST;
* ``GET /.well-known/databricks-config`` (databricks-sdk's unauthenticated host-metadata
  probe, ``Config._resolve_host_metadata``) answers as a workspace on AWS;
* OAuth machine-to-machine (https://docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m):
  ``GET /oidc/.well-known/oauth-authorization-server`` names the token endpoint, and
  ``POST /oidc/v1/token`` (form-encoded ``grant_type=client_credentials``, the service
  principal's client id and secret as HTTP basic auth or form fields) answers
  ``{"access_token", "token_type": "Bearer", "expires_in"}``; an unknown client or a wrong
  secret is 401 ``invalid_client``, another grant type 400 ``unsupported_grant_type``.

Every bearer belongs to an :class:`Identity` (which principal, which kind of credential:
``pat``, ``oauth-m2m``, ``model-serving``, ``notebook``); each recorded request says who sent
it, and subclasses read the caller of the request they answer from ``self.caller``.

Tests inject faults (an error status, a dropped connection, a delay, or a write that takes
effect but whose answer is lost) and read back every request the emulator received.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

ERROR_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    502: "BAD_GATEWAY",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error answer: HTTP status plus the Databricks ``error_code``/``message`` body."""

    def __init__(self, status: int, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code or ERROR_CODES.get(status, "INTERNAL_ERROR")


def bad(message: str) -> ApiError:
    """400 INVALID_PARAMETER_VALUE."""
    return ApiError(400, message, "INVALID_PARAMETER_VALUE")


def missing(message: str) -> ApiError:
    """404 RESOURCE_DOES_NOT_EXIST."""
    return ApiError(404, message, "RESOURCE_DOES_NOT_EXIST")


@dataclass
class RecordedRequest:
    """One request as the emulator received it.

    Attributes:
        method: HTTP method.
        path: URL path, percent-decoded.
        query: Parsed query string.
        raw: The request body as sent (text), for checks that a value never travelled.
        body: The parsed JSON body, or None.
        status: The status the emulator answered with (-1: connection dropped).
        principal: Who sent it (None: no valid credential).
        credential: The kind of credential (``pat``, ``oauth-m2m``, ...).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    raw: str = ""
    body: Any = None
    status: int = 0
    principal: str | None = None
    credential: str | None = None
    credential_token: str = field(default="", repr=False)

    @property
    def text(self) -> str:
        """Path, query and body together: everything the request carried but headers."""
        return f"{self.path}?{json.dumps(self.query)}\n{self.raw}"


@dataclass
class Fault:
    """An injected failure: matching requests fail ``times`` times, then pass.

    Attributes:
        path: Regular expression searched in the request path.
        method: Only this HTTP method (any when None).
        status: HTTP status to answer (None: no error answer, see ``drop``/``delay``).
        drop: Close the connection without answering (a timeout/reset as the client sees it).
        delay: Seconds to wait before handling the request.
        times: How many matching requests fail.
        retry_after: Value of a ``Retry-After`` header on the error answer.
        after: Let the request take effect, then answer the error (a lost answer).
        hits: Requests this fault has affected so far.
    """

    path: str
    method: str | None = None
    status: int | None = 503
    drop: bool = False
    delay: float = 0.0
    times: int = 1
    retry_after: str | None = None
    after: bool = False
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return re.search(self.path, path) is not None


@dataclass(frozen=True)
class Identity:
    """Who a bearer token belongs to.

    Attributes:
        principal: A user's e-mail or a service principal's application id.
        credential: ``pat``, ``oauth-m2m``, ``model-serving`` or ``notebook``.
    """

    principal: str
    credential: str = "pat"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    emulator: WorkspaceEmulator


class WorkspaceEmulator:
    """A Databricks workspace API on an ephemeral 127.0.0.1 port; subclasses add routes.

    Use it as a context manager; ``url`` and ``token`` are what clients are given.

    Args:
        token: A personal access token the workspace accepts (of ``principal``).
        principal: Whose token it is.
    """

    thread_name: ClassVar[str] = "workspace-emulator"
    #: Lifetime of an issued OAuth token, as Databricks gives them (one hour).
    oauth_lifetime: ClassVar[int] = 3600

    def __init__(self, *, token: str, principal: str = "deployer@example.com") -> None:
        self.token = token
        self.identities: dict[str, Identity] = {token: Identity(principal, "pat")}
        self.service_principals: dict[str, str] = {}
        self._local = threading.local()
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the workspace URL clients are given."""
        if self._server is None:
            raise RuntimeError("the emulator is not started; use it in a `with` block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- test controls -----------------------------------------------------------------------

    def inject(
        self,
        path: str,
        *,
        status: int | None = 503,
        method: str | None = None,
        times: int = 1,
        drop: bool = False,
        delay: float = 0.0,
        retry_after: str | None = None,
        after: bool = False,
    ) -> Fault:
        """Make the next ``times`` requests whose path matches ``path`` fail.

        Args:
            path: Regular expression searched in the request path (``"/config$"``).
            status: The HTTP error to answer (429, 500, 502, 503, 504, ...), or None.
            method: Restrict the fault to one HTTP method.
            times: Number of requests to fail.
            drop: Close the connection without an answer instead.
            delay: Wait this long first (then answer normally unless status/drop say so).
            retry_after: Send this ``Retry-After`` header with the error.
            after: Apply the request first, then answer the error: the client never
                learns that its write took effect.

        Returns:
            The fault; its ``hits`` counts the requests it affected.
        """
        fault = Fault(
            path=path,
            method=method,
            status=None if drop else status,
            drop=drop,
            delay=delay,
            times=times,
            retry_after=retry_after,
            after=after,
        )
        with self._lock:
            self.faults.append(fault)
        return fault

    def add_identity(self, token: str, principal: str, credential: str = "pat") -> None:
        """Accept ``token`` as ``principal``'s credential of kind ``credential``."""
        with self._lock:
            self.identities[token] = Identity(principal, credential)

    def add_service_principal(self, client_id: str, secret: str) -> None:
        """A service principal (application id ``client_id``) with an OAuth secret."""
        with self._lock:
            self.service_principals[client_id] = secret

    def identity(self, token: str) -> Identity | None:
        """The identity of a bearer token (None: the workspace does not know it)."""
        with self._lock:
            if token == self.token and token not in self.identities:
                return Identity("deployer@example.com", "pat")
            return self.identities.get(token)

    def calls(self, method: str | None = None, path_pattern: str = "") -> list[RecordedRequest]:
        """Recorded requests with this method (any when None) whose path matches."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and re.search(path_pattern, r.path)
            ]

    # -- dispatch ----------------------------------------------------------------------------

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    @property
    def caller(self) -> Identity | None:
        """Who sent the request being answered (each request has its own thread)."""
        return getattr(self._local, "identity", None)

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        """Answer one authorised request (raises :class:`ApiError` for error answers)."""
        with self._lock:
            return self._route(method, path, query, body)

    def _issue_token(self, header: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The OAuth client-credentials grant (``POST /oidc/v1/token``)."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except ValueError:
                client_id, secret = "", ""
        if form.get("grant_type") != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "Only client_credentials is supported here.",
            }
        with self._lock:
            known = self.service_principals.get(client_id)
            if known is None or known != secret:
                return 401, {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                }
            token = f"oauth-{uuid.uuid4().hex}"
            self.identities[token] = Identity(client_id, "oauth-m2m")
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.oauth_lifetime,
            "scope": form.get("scope") or "all-apis",
        }

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        raise ApiError(404, f"No API found for '{method} {path}'", "ENDPOINT_NOT_FOUND")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits for
    # its delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest output clean: the emulator records requests instead."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        emulator = self.server.emulator
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        record = RecordedRequest(method, unquote(split.path), parse_qs(split.query), raw)
        with emulator._lock:
            emulator.requests.append(record)
        if record.path == "/oidc/.well-known/oauth-authorization-server" and method == "GET":
            self._send(
                record,
                200,
                {
                    "issuer": f"{emulator.url}/oidc",
                    "authorization_endpoint": f"{emulator.url}/oidc/v1/authorize",
                    "token_endpoint": f"{emulator.url}/oidc/v1/token",
                },
            )
            return
        if record.path == "/oidc/v1/token" and method == "POST":
            form = {
                unquote_plus(k): unquote_plus(v)
                for k, _, v in (pair.partition("=") for pair in raw.split("&") if pair)
            }
            status, answer = emulator._issue_token(self.headers.get("Authorization") or "", form)
            self._send(record, status, answer)
            return
        try:
            record.body = json.loads(raw) if raw else None
        except ValueError:
            self._error(record, ApiError(400, "Malformed JSON request body.", "MALFORMED_REQUEST"))
            return
        if record.path == "/.well-known/databricks-config" and method == "GET":
            self._send(record, 200, {"oidc_endpoint": f"{emulator.url}/oidc", "cloud": "aws"})
            return
        if not self._authorised(record):
            return
        fault = emulator._fault_for(method, record.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                record.status = -1
                self.close_connection = True
                return
            if fault.status is not None and not fault.after:
                self._fault(record, fault)
                return
        try:
            emulator._local.identity = emulator.identity(record.credential_token)
            answer = emulator.handle(method, record.path, record.query, record.body)
        except ApiError as exc:
            self._error(record, exc)
            return
        if fault is not None and fault.status is not None:
            self._fault(record, fault)
            return
        self._send(record, 200, answer)

    def _fault(self, record: RecordedRequest, fault: Fault) -> None:
        assert fault.status is not None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self._error(record, ApiError(fault.status, f"Injected fault: HTTP {fault.status}"), headers)

    def _authorised(self, record: RecordedRequest) -> bool:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Bearer "):
            self._error(
                record,
                ApiError(
                    401,
                    "Credential was not sent or was of an unsupported type for this API.",
                    "UNAUTHENTICATED",
                ),
            )
            return False
        identity = self.server.emulator.identity(header.removeprefix("Bearer "))
        if identity is None:
            self._error(record, ApiError(403, "Invalid access token.", "PERMISSION_DENIED"))
            return False
        record.principal, record.credential = identity.principal, identity.credential
        record.credential_token = header.removeprefix("Bearer ")
        return True

    def _error(
        self, record: RecordedRequest, error: ApiError, headers: Mapping[str, str] | None = None
    ) -> None:
        self._send(
            record,
            error.status,
            {"error_code": error.error_code, "message": error.message},
            headers,
        )

    def _send(
        self,
        record: RecordedRequest,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        record.status = status
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
