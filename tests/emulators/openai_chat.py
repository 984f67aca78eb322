"""An OpenAI-compatible chat-completions server on loopback that serves scripted replies.

LLMs are out of reach in tests, so the real LangChain/OpenAI client talks to this server
instead. Routes, each following its documentation:

* ``POST /v1/chat/completions`` — OpenAI chat completions
  (https://platform.openai.com/docs/api-reference/chat/create), including ``stream: true``
  as server-sent events (https://platform.openai.com/docs/api-reference/chat-streaming).
* ``GET /v1/models`` — https://platform.openai.com/docs/api-reference/models/list
* ``POST /serving-endpoints/chat/completions`` — Databricks' OpenAI-compatible surface: the
  OpenAI client with ``base_url=f"{host}/serving-endpoints"`` and ``model`` = the serving
  endpoint's name
  (https://docs.databricks.com/aws/en/machine-learning/model-serving/score-foundation-models).
* ``POST /serving-endpoints/{name}/invocations`` — Databricks' query-a-serving-endpoint route
  with a chat payload (https://docs.databricks.com/api/workspace/servingendpoints/query).

Requests are checked as the real services check them: a bearer token is required (401),
the body must be a JSON object (400), ``model`` must be present and known (400/404),
``messages`` must be a non-empty list of well-formed messages with known roles (400), and
``response_format`` / ``stream_options`` follow their documented rules (400).

Replies are scripted per test, either as a queue (:meth:`OpenAIChatEmulator.script`) or as a
function of the request (:attr:`OpenAIChatEmulator.responder`); the helpers at the bottom of
this module build the contents the chain must survive: JSON answers, titles in odd forms,
prompt-injection echoes, malformed JSON, slow replies and failures.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "DATABRICKS_ENDPOINT",
    "DEFAULT_MODEL",
    "OpenAIChatEmulator",
    "RecordedRequest",
    "Reply",
    "dump_internals",
    "echo_system_prompt",
    "fenced",
    "json_answer",
    "numbered_list",
    "odd_title_forms",
    "trailing_commas",
    "truncated",
    "with_prose",
]

DEFAULT_MODEL = "emulated-llama-3"
DATABRICKS_ENDPOINT = "databricks-meta-llama-3-3-70b-instruct"
#: Foundation Model endpoints Databricks retired: workspaces no longer have them, so a
#: request names an endpoint that does not exist (404), as for any unknown name.
RETIRED_ENDPOINTS = frozenset({"databricks-meta-llama-3-70b-instruct"})

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
# The documented request body of chat completions; anything else is rejected by the API.
_KNOWN_PARAMS = {
    "model",
    "messages",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
}
_DATABRICKS_INVOCATION = re.compile(r"^/serving-endpoints/(?P<name>[^/]+)/invocations$")


@dataclass
class Reply:
    """One scripted reply.

    Attributes:
        content: The assistant message's content (None sends ``"content": null``).
        status: HTTP status; anything but 200 sends the API's error body instead.
        delay: Seconds to wait before answering (slow models, client timeouts).
        error: The error message for a non-200 status.
        headers: Extra response headers (``Retry-After`` on a 429, say).
        finish_reason: ``stop``, ``length`` (a truncated answer), ...
    """

    content: str | None = ""
    status: int = 200
    delay: float = 0.0
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"

    @classmethod
    def failure(cls, status: int, message: str = "", **kwargs: Any) -> Reply:
        """An error reply (429 rate limit, 500, 503, ...)."""
        default = {
            429: "Rate limit reached for requests",
            500: "The server had an error while processing your request.",
            503: "The engine is currently overloaded, please try again later.",
        }.get(status, "error")
        return cls(content=None, status=status, error=message or default, **kwargs)


@dataclass
class RecordedRequest:
    """A request the emulator received, as the client sent it.

    Attributes:
        method: HTTP method.
        path: Request path.
        headers: Headers, names lower-cased.
        body: The parsed JSON body, or None when it was not JSON.
        status: The status the emulator answered with.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request (empty when there were none)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return self.body["messages"]
        return []

    @property
    def prompt_text(self) -> str:
        """Every message's text joined: what the model was shown."""
        return "\n".join(_message_text(message) for message in self.messages)

    def message_text(self, role: str) -> str:
        """The joined text of the messages with one role."""
        return "\n".join(
            _message_text(message) for message in self.messages if message.get("role") == role
        )


Responder = Callable[[RecordedRequest], "Reply | str"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A handler sleeping through a scripted delay must not hold up close().
    block_on_close = False
    emulator: OpenAIChatEmulator


class OpenAIChatEmulator:
    """The chat-completions server, started by ``with`` on an ephemeral loopback port.

    Args:
        api_key: The bearer token every request must carry.
        models: Model names (OpenAI routes) and serving endpoint names (Databricks routes)
            that exist.
        default: What to answer once the script is exhausted and no responder is set;
            None answers 500 and counts it in :attr:`unscripted`, so a test that sends
            more requests than it scripted notices.

    Example:
        >>> with OpenAIChatEmulator() as server:  # doctest: +SKIP
        ...     server.script(Reply.failure(429), json_answer([("Heat", 1995, "Tense.")]))
        ...     ChatOpenAI(base_url=server.openai_base_url, api_key=server.api_key, ...)
    """

    def __init__(
        self,
        *,
        api_key: str = "sk-emulator-token",
        models: Sequence[str] = (DEFAULT_MODEL, DATABRICKS_ENDPOINT),
        default: Reply | None = None,
    ) -> None:
        self.api_key = api_key
        self.models = list(models)
        self.default = default
        self.responder: Responder | None = None
        self.requests: list[RecordedRequest] = []
        self.unscripted = 0
        self._queue: deque[Reply | str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> OpenAIChatEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.emulator = self
        # A short poll keeps stop() (shutdown waits for the next poll) out of test timings.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="openai-chat-emulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; handlers waiting out a scripted delay give up at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (also the Databricks workspace host)."""
        if self._server is None:
            raise RuntimeError("the emulator is not started; use it in a `with` block")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` an OpenAI client takes (``…/v1``)."""
        return f"{self.url}/v1"

    # -- scripting -----------------------------------------------------------------------

    def script(self, *replies: Reply | str) -> None:
        """Queue replies, answered in order (a str is a 200 reply with that content)."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Queued replies not yet served."""
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The chat requests received (any chat route), oldest first."""
        return [r for r in self.requests if r.method == "POST"]

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        reply: Reply | str | None = queued
        if reply is None and self.responder is not None:
            reply = self.responder(request)
        if reply is None:
            reply = self.default
        if reply is None:
            with self._lock:
                self.unscripted += 1
            return Reply.failure(500, "emulator: no scripted reply left for this request")
        return Reply(content=reply) if isinstance(reply, str) else reply

    def _completion_id(self) -> str:
        with self._lock:
            return f"chatcmpl-emu{next(self._ids):06d}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest output clean: the emulator records requests instead."""

    # -- routing ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        record = self._record(None)
        if self.path == "/.well-known/databricks-config":
            # databricks-sdk's unauthenticated host-metadata probe, answered as a workspace.
            self._send_json(record, 200, {"cloud": "aws"})
            return
        if not self._authorised(record, databricks=False):
            return
        if self.path.rstrip("/") == "/v1/models":
            data = [
                {"id": name, "object": "model", "created": 0, "owned_by": "emulator"}
                for name in self.server.emulator.models
            ]
            self._send_json(record, 200, {"object": "list", "data": data})
            return
        self._openai_error(record, 404, f"Invalid URL (GET {self.path})", "invalid_request_error")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
            parsed = False
        else:
            parsed = isinstance(body, dict)
        record = self._record(body)
        path = self.path.split("?", 1)[0].rstrip("/")
        invocation = _DATABRICKS_INVOCATION.match(path)
        databricks = path.startswith("/serving-endpoints")
        if path not in {"/v1/chat/completions", "/serving-endpoints/chat/completions"} and (
            invocation is None
        ):
            self._error(record, databricks, 404, f"Invalid URL (POST {self.path})")
            return
        if not self._authorised(record, databricks=databricks):
            return
        if not parsed:
            self._error(
                record,
                databricks,
                400,
                "We could not parse the JSON body of your request. The body must be a JSON "
                "object (https://platform.openai.com/docs/api-reference).",
            )
            return
        model = invocation.group("name") if invocation else body.get("model")
        problem = _validate_chat(body, require_model=invocation is None)
        if problem:
            self._error(record, databricks, 400, problem, param=_param_of(problem))
            return
        if model not in self.server.emulator.models or model in RETIRED_ENDPOINTS:
            message = (
                f"Endpoint {model!r} does not exist."
                if databricks
                else f"The model `{model}` does not exist or you do not have access to it."
            )
            self._error(record, databricks, 404, message, code="model_not_found")
            return
        self._answer(record, body, str(model), databricks)

    # -- replies ---------------------------------------------------------------------------

    def _answer(
        self, record: RecordedRequest, body: dict[str, Any], model: str, databricks: bool
    ) -> None:
        emulator = self.server.emulator
        reply = emulator._next_reply(record)
        if reply.delay and emulator._stopping.wait(reply.delay):
            return
        if reply.status != 200:
            self._error(record, databricks, reply.status, reply.error, headers=reply.headers)
            return
        completion_id = emulator._completion_id()
        usage = _usage(record, reply.content or "")
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(record, reply, model, completion_id, usage if include_usage else None)
            return
        payload = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": usage,
        }
        self._send_json(record, 200, payload, reply.headers)

    def _stream(
        self,
        record: RecordedRequest,
        reply: Reply,
        model: str,
        completion_id: str,
        usage: dict[str, int] | None,
    ) -> None:
        record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        events: list[dict[str, Any]] = [chunk({"role": "assistant", "content": ""}, None)]
        events += [chunk({"content": piece}, None) for piece in _pieces(reply.content or "")]
        events.append(chunk({}, reply.finish_reason))
        if usage is not None:
            events.append({**chunk({}, None), "choices": [], "usage": usage})
        try:
            for event in events:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- helpers ---------------------------------------------------------------------------

    def _record(self, body: Any) -> RecordedRequest:
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        emulator = self.server.emulator
        with emulator._lock:
            emulator.requests.append(record)
        return record

    def _authorised(self, record: RecordedRequest, *, databricks: bool) -> bool:
        header = record.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token == self.server.emulator.api_key:
            return True
        if databricks:
            self._send_json(
                record,
                401,
                {
                    "error_code": "401",
                    "message": "Credential was not sent or was of an unsupported type for "
                    "this API.",
                },
            )
        else:
            message = (
                "Incorrect API key provided."
                if header
                else "You didn't provide an API key. Provide it in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            self._openai_error(record, 401, message, "invalid_request_error", "invalid_api_key")
        return False

    def _error(
        self,
        record: RecordedRequest,
        databricks: bool,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if databricks:
            error_code = {
                400: "BAD_REQUEST",
                404: "RESOURCE_DOES_NOT_EXIST",
                429: "REQUEST_LIMIT_EXCEEDED",
                503: "TEMPORARILY_UNAVAILABLE",
            }.get(status, "INTERNAL_ERROR")
            body = {"error_code": error_code, "message": message}
            self._send_json(record, status, body, headers)
            return
        kind = {429: "requests", 500: "server_error", 503: "server_error"}.get(
            status, "invalid_request_error"
        )
        self._openai_error(record, status, message, kind, code, param, headers)

    def _openai_error(
        self,
        record: RecordedRequest,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
        self._send_json(record, status, body, headers)

    def _send_json(
        self,
        record: RecordedRequest,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        record.status = status
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout passed): nothing left to tell it.
            pass


def _validate_chat(body: dict[str, Any], *, require_model: bool) -> str:
    """The API's message for an invalid chat request, or "" when it is valid."""
    unknown = sorted(set(body) - _KNOWN_PARAMS)
    if unknown:
        return f"Unrecognized request argument supplied: {unknown[0]}"
    if require_model and not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if messages is None:
        return "Missing required parameter: 'messages'."
    if not isinstance(messages, list):
        return f"Invalid type for 'messages': expected an array, but got {type(messages)}."
    if not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1."
    for i, message in enumerate(messages):
        problem = _validate_message(i, message)
        if problem:
            return problem
    return _validate_options(body)


def _validate_message(i: int, message: Any) -> str:
    if not isinstance(message, dict):
        return f"Invalid type for 'messages[{i}]': expected an object."
    role = message.get("role")
    if role not in _ROLES:
        return (
            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
            f"'function', 'tool', and 'developer'. (param messages[{i}].role)"
        )
    content = message.get("content")
    if content is None:
        if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            return ""
        return f"Missing required parameter: 'messages[{i}].content'."
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in {"text", "image_url"}:
                return f"Invalid content part in 'messages[{i}].content'."
        return ""
    if not isinstance(content, str):
        return f"Invalid type for 'messages[{i}].content': expected a string or an array."
    return ""


def _validate_options(body: dict[str, Any]) -> str:
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 2
    ):
        return f"Invalid 'temperature': {temperature}. Expected a number between 0 and 2."
    for name in ("max_tokens", "max_completion_tokens", "n"):
        value = body.get(name)
        if value is not None and not (isinstance(value, int) and value >= 1):
            return f"Invalid '{name}': integer below minimum value (1)."
    if "stream" in body and not isinstance(body["stream"], bool):
        return "Invalid type for 'stream': expected a boolean."
    if body.get("stream_options") is not None and not body.get("stream"):
        return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
    return _validate_response_format(body)


def _validate_response_format(body: dict[str, Any]) -> str:
    response_format = body.get("response_format")
    if response_format is None:
        return ""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in {"text", "json_object", "json_schema"}:
        return (
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and "
            "'json_schema'. (param response_format.type)"
        )
    if kind == "json_schema":
        schema = response_format.get("json_schema")
        if not isinstance(schema, dict) or not schema.get("name"):
            return "Missing required parameter: 'response_format.json_schema.name'."
    if kind == "json_object":
        text = "\n".join(_message_text(m) for m in body["messages"]).lower()
        if "json" not in text:
            return (
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'."
            )
    return ""


def _param_of(problem: str) -> str | None:
    match = re.search(r"'([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*)'", problem)
    return match.group(1) if match else None


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _usage(record: RecordedRequest, content: str) -> dict[str, int]:
    prompt = len(record.prompt_text.split())
    completion = len(content.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    """Cut content into stream deltas the way a tokenizer might (a few characters each)."""
    for start in range(0, len(text), size):
        yield text[start : start + size]


# -- scripted contents ---------------------------------------------------------------------

PickSpec = tuple[str, "int | None", str]


def json_answer(
    picks: Iterable[PickSpec | dict[str, Any]], intro: str = "Here are a few picks."
) -> str:
    """A well-formed structured answer: ``{"intro": ..., "picks": [...]}``.

    Args:
        picks: ``(title, year, reason)`` tuples (year None leaves it out) or pick dicts.
        intro: The introduction sentence.
    """
    items: list[dict[str, Any]] = []
    for pick in picks:
        if isinstance(pick, dict):
            items.append(pick)
            continue
        title, year, reason = pick
        item: dict[str, Any] = {"title": title, "reason": reason}
        if year is not None:
            item["year"] = year
        items.append(item)
    return json.dumps({"intro": intro, "picks": items}, ensure_ascii=False)


def fenced(content: str, language: str = "json") -> str:
    """Content inside a markdown code fence, as chat models like to write JSON."""
    return f"```{language}\n{content}\n```"


def with_prose(content: str) -> str:
    """Content between chatty sentences."""
    return f"Sure! Based on your request, here is what I found:\n\n{content}\n\nEnjoy the show!"


def trailing_commas(content: str) -> str:
    """JSON with a trailing comma after every last member (invalid JSON, common in LLMs)."""
    return re.sub(r"(\"|\d|\]|\})(\s*)([\]}])", r"\1,\2\3", content)


def truncated(content: str, keep: float = 0.8) -> str:
    """The first part of a reply, as a model cut off by its token limit writes it."""
    return content[: max(1, int(len(content) * keep))]


def numbered_list(picks: Iterable[PickSpec], intro: str = "You might enjoy:") -> str:
    """The last-resort shape: prose and a numbered ``Title (Year) — reason`` list."""
    lines = [intro, ""]
    for i, (title, year, reason) in enumerate(picks, start=1):
        shown = f"{title} ({year})" if year is not None else title
        lines.append(f"{i}. **{shown}** — {reason}")
    return "\n".join(lines)


def echo_system_prompt(request: RecordedRequest) -> Reply:
    """A responder whose model obeyed an injection: it repeats its instructions and context."""
    dump = request.prompt_text
    picks = [{"title": "Ignore previous instructions", "reason": dump[:400]}]
    return Reply(content=json.dumps({"intro": dump, "picks": picks}))


def dump_internals(title: str, year: int | None, movie_id: int) -> str:
    """A reply that invents internal fields (ids, scores, user tags) around a real title."""
    return json.dumps(
        {
            "intro": f"movie_id={movie_id} score=0.93 user_tags: ['boring', 'seen it'] "
            "genome relevance 0.87 content_hash=ab12cd34",
            "picks": [
                {
                    "title": title,
                    "year": year,
                    "movie_id": movie_id,
                    "reason": f"user_tags: ['must watch'] (relevance 0.91, movie_id {movie_id})",
                }
            ],
        }
    )


_ARTICLES = ("The ", "A ", "An ")


def odd_title_forms(title: str, year: int | None) -> dict[str, str]:
    """Ways people and models write a real title: ``Matrix, The``, no year, typos, caps.

    Args:
        title: The catalogue's display title (``"The Matrix"``).
        year: Its year.

    Returns:
        Form name → written title (the year, when shown, is part of the string).
    """
    forms = {
        "lower_case": title.lower(),
        "all_caps": title.upper(),
        "with_year": f"{title} ({year})" if year else title,
        "quoted_bold": f'**"{title}"**',
    }
    for article in _ARTICLES:
        if title.startswith(article) and len(title) > len(article):
            forms["article_last"] = f"{title[len(article) :]}, {article.strip()}"
            forms["article_last_caps"] = forms["article_last"].upper()
    typo = _typo(title)
    if typo is not None:
        forms["typo"] = typo.lower()
    return forms


def _typo(title: str) -> str | None:
    """Drop one letter of the longest word (``Jurassic`` → ``Jurasic``), if it is long."""
    words = title.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 7 or not word.isalpha():
        return None
    cut = len(word) // 2
    words[longest] = word[:cut] + word[cut + 1 :]
    return " ".join(words)
