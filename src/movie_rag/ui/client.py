"""A client for the served movie_rag model, with failures told in short human messages.

The endpoint is a local ``mlflow models serve`` or a Databricks Model Serving endpoint.

Both payload styles of the served contract are spoken (see :mod:`movie_rag.publish._io`):

- ``dataframe_split`` with ``params: {"format": "json"}``: predictions are
  RecommendationResponse objects, so the UI can show movie cards;
- plain ``dataframe_split`` with a ``query`` column (the original endpoint's contract):
  predictions are answer strings.

The client asks for the structured answer first and remembers when an endpoint only gives
text (an older model ignores ``params`` and answers strings, or refuses the extra columns).
Once an endpoint has answered structurally, a conversation is sent as a chat request
(``{"messages": [...]}``) so that follow-ups ("more like the second one") resolve on the
server.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from movie_rag.chain.types import RecommendationRequest, RecommendationResponse
from movie_rag.errors import ConfigurationError, MovieRagError

if TYPE_CHECKING:
    from movie_rag.settings import MovieRagSettings

__all__ = ["EndpointClient", "EndpointError"]

logger = logging.getLogger("movie_rag")


class EndpointError(MovieRagError):
    """The endpoint could not answer; ``str(error)`` is a short message for the user.

    Attributes:
        kind: ``unreachable``, ``timeout``, ``auth``, ``not_found``, ``bad_request``,
            ``busy``, ``server`` or ``bad_answer``.
        status: The HTTP status, when there was one.
        detail: What the server said (for logs, not for the chat).
    """

    def __init__(self, message: str, kind: str, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.detail = detail


class EndpointClient:
    """Ask a served movie_rag model for recommendations over HTTP.

    Args:
        url: The full invocations URL: ``http://127.0.0.1:5000/invocations`` for
            ``mlflow models serve``, ``https://<host>/serving-endpoints/<name>/invocations``
            for Databricks.
        token: Bearer token (a Databricks personal access or service-principal token); None
            sends no ``Authorization`` header.
        timeout: Seconds to wait for an answer.
        auth: Gives a fresh bearer token per request (wins over ``token``); see
            :meth:`from_workspace`, which takes it from the workspace's unified auth.

    Raises:
        ConfigurationError: The URL is not an http(s) URL.

    Example:
        >>> client = EndpointClient("http://127.0.0.1:5000/invocations")  # doctest: +SKIP
        >>> client.ask("a feel-good comedy", k=3).recommendations  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        auth: Callable[[], str] | None = None,
    ) -> None:
        url = (url or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"the endpoint must be an http(s) URL such as "
                f"https://<host>/serving-endpoints/<name>/invocations, got {url!r}"
            )
        self.url = url
        self.token = token.strip() if token and token.strip() else None
        self._auth = auth
        self.timeout = timeout
        #: None until the endpoint has answered; False when it only answers text.
        self.structured: bool | None = None

    def __repr__(self) -> str:
        auth = "workspace" if self._auth else ("set" if self.token else "none")
        return f"EndpointClient({self.url!r}, token={auth})"

    @classmethod
    def from_workspace(
        cls,
        endpoint_name: str,
        settings: MovieRagSettings | None = None,
        *,
        timeout: float = 60.0,
    ) -> EndpointClient:
        """A client for a Databricks serving endpoint, on the workspace's own credentials.

        The credentials follow databricks-sdk's unified auth chain (notebook, Model
        Serving, Databricks App service principal, OAuth M2M, profile, PAT; the
        ``databricks_*`` settings override it, see :mod:`movie_rag.workspace`); each request
        asks it for a fresh bearer, so OAuth tokens refresh and no token is kept.

        Args:
            endpoint_name: The serving endpoint's name.
            settings: Overrides of the chain.
            timeout: Seconds to wait for an answer.

        Raises:
            WorkspaceAuthError: No usable workspace credentials.
        """
        from movie_rag.workspace import bearer_token, serving_base_url, workspace_config

        config = workspace_config(settings)
        url = f"{serving_base_url(config)}/{endpoint_name}/invocations"
        return cls(url, timeout=timeout, auth=lambda: bearer_token(config))

    @property
    def host(self) -> str:
        """The endpoint's host and port, for messages."""
        return urlsplit(self.url).netloc

    def ask(
        self,
        query: str | RecommendationRequest,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        filters: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        k: int | None = None,
    ) -> RecommendationResponse:
        """Ask one question.

        Args:
            query: The question, or a whole request (whose fields win over the keywords).
            history: Earlier turns (``role``, ``content``, ``recommendations`` movie ids).
            filters: SearchFilters fields to apply on top of the question.
            user_id: Who is asking (personalisation on the server).
            k: How many recommendations.

        Returns:
            The answer; ``recommendations`` is empty when the endpoint answers text only.

        Raises:
            EndpointError: The endpoint is down, slow, refused the request or answered
                something unreadable; the message says so in a sentence.
        """
        if isinstance(query, RecommendationRequest):
            # The request model's own JSON form; the server validates plain keywords.
            payload = query.to_payload()
            history = payload.get("history", [])
            filters, user_id, k = payload.get("filters"), payload.get("user_id"), payload.get("k")
            query = query.query
        extras: dict[str, Any] = {}
        if user_id:
            extras["user_id"] = user_id
        if filters:
            extras["filters"] = json.dumps(dict(filters))
        if k is not None:
            extras["k"] = k
        if self.structured and history:
            return self._chat(query, history, extras)
        if self.structured is not False:
            try:
                reply = self._post(_dataframe(query, extras, structured=True))
            except EndpointError as exc:
                if exc.kind != "bad_request" or self.structured:
                    raise
                # An endpoint that predates the structured contract may refuse the extra
                # columns or params: ask the original way before giving up.
                logger.info("structured request refused (%s); trying text only", exc.detail)
                self.structured = False
            else:
                return self._read_prediction(query, reply)
        reply = self._post(_dataframe(query, {}, structured=False))
        return self._read_prediction(query, reply)

    # -- requests -------------------------------------------------------------------------

    def _chat(
        self, query: str, history: Sequence[Mapping[str, Any]], extras: dict[str, Any]
    ) -> RecommendationResponse:
        messages = [
            {
                "role": turn.get("role", "user"),
                "content": turn.get("content", ""),
                "recommendations": list(turn.get("recommendations") or []),
            }
            for turn in history
        ]
        messages.append({"role": "user", "content": query})
        reply = self._post({"messages": messages, **extras})
        outputs = reply.get("custom_outputs") if isinstance(reply, Mapping) else None
        if not isinstance(outputs, Mapping):
            raise self._bad_answer("a chat reply without custom_outputs")
        return self._response(outputs)

    def _read_prediction(self, query: str, reply: Any) -> RecommendationResponse:
        predictions = reply.get("predictions") if isinstance(reply, Mapping) else None
        if not isinstance(predictions, list) or not predictions:
            raise self._bad_answer("no 'predictions' list in the reply")
        prediction = predictions[0]
        if isinstance(prediction, str):
            self.structured = False
            return RecommendationResponse(query=query, answer=prediction)
        if isinstance(prediction, Mapping):
            self.structured = True
            return self._response(prediction)
        raise self._bad_answer(f"a prediction of type {type(prediction).__name__}")

    def _response(self, data: Mapping[str, Any]) -> RecommendationResponse:
        try:
            return RecommendationResponse.model_validate(data)
        except ValidationError as exc:
            raise self._bad_answer(str(exc).splitlines()[0]) from None

    def _bad_answer(self, detail: str) -> EndpointError:
        return EndpointError(
            "The recommendation service sent an answer this app cannot read. "
            "Check that the endpoint serves the movie_rag model.",
            "bad_answer",
            detail=detail,
        )

    def _post(self, body: Mapping[str, Any]) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = self._auth() if self._auth is not None else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc.code, _error_text(exc)) from None
        except TimeoutError:
            raise self._timeout() from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout() from None
            raise EndpointError(
                f"The recommendation service at {self.host} is not reachable "
                "right now. Please try again in a moment.",
                "unreachable",
                detail=str(exc.reason),
            ) from None
        except (ConnectionError, OSError) as exc:
            raise EndpointError(
                f"The connection to the recommendation service at {self.host} broke off. "
                "Please try again.",
                "unreachable",
                detail=str(exc),
            ) from None
        try:
            return json.loads(raw)
        except ValueError:
            raise self._bad_answer("the reply is not JSON") from None

    def _timeout(self) -> EndpointError:
        return EndpointError(
            f"The recommendation service took longer than {self.timeout:g} s to answer. "
            "Please try again.",
            "timeout",
        )

    def _http_error(self, status: int, detail: str) -> EndpointError:
        if status == 403 and "CAN_QUERY" in detail.upper().replace(" ", "_"):
            # The credential is valid but lacks the endpoint permission.
            name = self.url.rstrip("/").split("/")[-2] if "/serving-endpoints/" in self.url else ""
            message = (
                "This identity may not query the recommendation service (HTTP 403): it needs "
                f"CAN QUERY on serving endpoint {name or self.host!r}."
            )
            return EndpointError(message, "auth", status, detail)
        if status in (401, 403):
            message = (
                f"The recommendation service refused the access token (HTTP {status}). "
                "Check API_TOKEN."
            )
            return EndpointError(message, "auth", status, detail)
        if status == 404:
            message = (
                "There is no recommendation endpoint at this address (HTTP 404). "
                "Check the endpoint name in API_END_POINT."
            )
            return EndpointError(message, "not_found", status, detail)
        if status == 429:
            message = "The recommendation service is busy (HTTP 429). Please try again shortly."
            return EndpointError(message, "busy", status, detail)
        if 400 <= status < 500:
            said = f": {_short(detail)}" if detail else ""
            message = f"The recommendation service could not use this request (HTTP {status}){said}"
            return EndpointError(message, "bad_request", status, detail)
        message = (
            f"The recommendation service had a problem (HTTP {status}). "
            "Please try again in a moment."
        )
        return EndpointError(message, "server", status, detail)


def _dataframe(query: str, extras: Mapping[str, Any], *, structured: bool) -> dict[str, Any]:
    columns = ["query", *extras]
    body: dict[str, Any] = {
        "dataframe_split": {"columns": columns, "data": [[query, *extras.values()]]}
    }
    if structured:
        body["params"] = {"format": "json"}
    return body


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read().decode("utf-8", "replace")
    except OSError:
        return ""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.strip()[:500]
    if isinstance(body, Mapping):
        return str(body.get("message") or body.get("error") or body)[:500]
    return str(body)[:500]


def _short(text: str, limit: int = 160) -> str:
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1] + "…"
