"""The one Databricks workspace seam: credentials, clients and the retry policy.

Every part of movie_rag that talks to a Databricks workspace — the Vector Search index, model
publishing and serving, UI feedback through SQL statements, the LLM on Model Serving —
builds its client here, so credentials are resolved one way and never copied around.

Credentials follow databricks-sdk's *unified auth* chain (``databricks.sdk.core.Config()``
with nothing set), which picks the first of these it finds:

* ``DATABRICKS_HOST`` + ``DATABRICKS_TOKEN`` (a personal access token);
* ``DATABRICKS_HOST`` + ``DATABRICKS_CLIENT_ID`` + ``DATABRICKS_CLIENT_SECRET`` (OAuth M2M, a
  service principal; this is also how a Databricks App's own service principal signs in);
* a profile of ``~/.databrickscfg`` (``DATABRICKS_CONFIG_PROFILE``, else ``DEFAULT``), the
  Databricks CLI's login, Azure and Google identities;
* inside a notebook or job (``DATABRICKS_RUNTIME_VERSION`` set): the notebook's own host and
  short-lived token;
* inside Model Serving (``IS_IN_DB_MODEL_SERVING_ENV=true``): the host from
  ``DATABRICKS_MODEL_SERVING_HOST_URL`` (or ``DB_MODEL_SERVING_HOST_URL``) and the OAuth token
  Databricks mounts for the model's declared resources (automatic auth passthrough), read
  from ``$SERVING_CREDENTIALS_DIR/model-dependencies-oauth-token`` or
  ``/var/credentials-secret/model-dependencies-oauth-token`` and re-read as it rotates.

Explicit settings override the chain: ``MOVIE_RAG_DATABRICKS_HOST``,
``MOVIE_RAG_DATABRICKS_TOKEN`` (PAT), ``MOVIE_RAG_DATABRICKS_CLIENT_ID`` +
``MOVIE_RAG_DATABRICKS_CLIENT_SECRET`` (OAuth M2M), ``MOVIE_RAG_DATABRICKS_PROFILE``.

Every client built here asks the resolved :class:`~databricks.sdk.core.Config` for a fresh
``Authorization`` header per request (``Config.authenticate()``), so OAuth tokens refresh
and the Model Serving token is re-read; no token is stored in a setting, an artifact or a
log line.

Example:
    >>> from movie_rag.workspace import is_transient
    >>> is_transient(ConnectionError("reset by peer"))
    True
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from movie_rag.errors import ConfigurationError
from movie_rag.platform import platform_for

if TYPE_CHECKING:
    import tenacity
    from databricks.ai_search.client import AISearchClient
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config
    from langchain_core.language_models import BaseChatModel
    from openai import OpenAI

    from movie_rag.settings import MovieRagSettings

__all__ = [
    "TRANSIENT_STATUSES",
    "WorkspaceAuthError",
    "bearer_token",
    "chat_model",
    "describe_auth",
    "in_model_serving",
    "is_transient",
    "openai_client",
    "retrying",
    "serving_base_url",
    "status_of",
    "vector_search_client",
    "workspace_client",
    "workspace_config",
]

logger = logging.getLogger("movie_rag")

#: HTTP statuses worth another try: rate limits and the gateway/server family.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Databricks ``error_code`` values that mean the same.
_TRANSIENT_CODES = frozenset(
    {
        "BAD_GATEWAY",
        "DEADLINE_EXCEEDED",
        "INTERNAL_ERROR",
        "REQUEST_LIMIT_EXCEEDED",
        "TEMPORARILY_UNAVAILABLE",
        "TOO_MANY_REQUESTS",
    }
)
#: Seconds the SDK keeps retrying 429/503 and lost connections for one call.
DEFAULT_RETRY_TIMEOUT = 300

_CHAIN_HELP = (
    "set DATABRICKS_HOST with DATABRICKS_TOKEN (a personal access token) or with "
    "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal, OAuth M2M), "
    "or MOVIE_RAG_DATABRICKS_HOST/_TOKEN/_CLIENT_ID/_CLIENT_SECRET, or a profile in "
    "~/.databrickscfg (DATABRICKS_CONFIG_PROFILE or MOVIE_RAG_DATABRICKS_PROFILE); inside a "
    "Databricks notebook, job, App or Model Serving endpoint nothing needs setting"
)


class WorkspaceAuthError(ConfigurationError):
    """No usable Databricks credentials, or the workspace refused the ones found."""


# -- configuration ---------------------------------------------------------------------------


def workspace_config(
    settings: MovieRagSettings | None = None, *, retry_timeout_seconds: int | None = None
) -> Config:
    """The resolved databricks-sdk configuration: unified auth, settings as overrides.

    Args:
        settings: ``databricks_host``, ``databricks_token``, ``databricks_client_id`` /
            ``databricks_client_secret`` and ``databricks_profile`` override the chain; None
            (or unset fields) leaves everything to the chain.
        retry_timeout_seconds: How long the SDK retries 429/503 and lost connections per
            call (default 300 s).

    Returns:
        A ``Config`` whose ``authenticate()`` gives a fresh ``Authorization`` header.

    Raises:
        ConfigurationError: databricks-sdk is not installed.
        WorkspaceAuthError: The chain found no credentials (the message lists where it
            looked), or the settings name half a credential.
    """
    try:
        from databricks.sdk.core import Config
    except ImportError as exc:
        raise ConfigurationError(
            "talking to a Databricks workspace needs databricks-sdk; install the databricks "
            'extra: pip install "movie-rag[databricks]"'
        ) from exc
    options = _overrides(settings)
    options["retry_timeout_seconds"] = retry_timeout_seconds or DEFAULT_RETRY_TIMEOUT
    # Say why a workspace is wanted at all when the backend setting is what asked for it.
    why = (
        "MOVIE_RAG_BACKEND=databricks needs a Databricks workspace "
        "(MOVIE_RAG_BACKEND=local runs offline): "
        if settings is not None and not platform_for(settings).is_local
        else ""
    )
    try:
        config = Config(**options)
    except ValueError as exc:
        raise WorkspaceAuthError(
            f"{why}no usable Databricks workspace credentials ({_first_line(exc)}): {_CHAIN_HELP}"
        ) from exc
    if not config.host:
        raise WorkspaceAuthError(f"{why}no Databricks workspace URL was found: {_CHAIN_HELP}")
    logger.debug("Databricks workspace %s, auth %s", config.host, config.auth_type)
    return config


def _overrides(settings: MovieRagSettings | None) -> dict[str, Any]:
    if settings is None:
        return {}
    options: dict[str, Any] = {}
    if settings.databricks_host:
        options["host"] = settings.databricks_host
    if settings.databricks_profile:
        options["profile"] = settings.databricks_profile
    if settings.databricks_token is not None and settings.databricks_token.get_secret_value():
        options.update(token=settings.databricks_token.get_secret_value(), auth_type="pat")
        return options
    client_id = settings.databricks_client_id
    secret = settings.databricks_client_secret
    secret_value = secret.get_secret_value() if secret is not None else ""
    if bool(client_id) != bool(secret_value):
        raise WorkspaceAuthError(
            "OAuth M2M needs both MOVIE_RAG_DATABRICKS_CLIENT_ID and "
            "MOVIE_RAG_DATABRICKS_CLIENT_SECRET (the service principal's application id and "
            "an OAuth secret of it); only one is set"
        )
    if client_id:
        options.update(client_id=client_id, client_secret=secret_value, auth_type="oauth-m2m")
    return options


def workspace_client(
    settings: MovieRagSettings | None = None, *, retry_timeout_seconds: int | None = None
) -> WorkspaceClient:
    """A databricks-sdk ``WorkspaceClient`` on the credentials of :func:`workspace_config`.

    Args:
        settings: Explicit overrides of the unified auth chain (see :func:`workspace_config`).
        retry_timeout_seconds: The SDK's own retry budget per call.

    Returns:
        The client (its requests authenticate afresh each time).
    """
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(
        config=workspace_config(settings, retry_timeout_seconds=retry_timeout_seconds)
    )


def describe_auth(config: Config) -> str:
    """``host (auth type)`` for messages; never a credential."""
    return f"{config.host} ({config.auth_type or 'unknown'} auth)"


def bearer_token(config: Config) -> str:
    """The current bearer token of ``config`` (refreshed by the SDK when it nears expiry).

    Raises:
        WorkspaceAuthError: The credential gives no bearer token (basic auth).
    """
    header = config.authenticate().get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise WorkspaceAuthError(
            f"the Databricks credentials of {describe_auth(config)} give no bearer token; "
            "use a personal access token, OAuth or a runtime identity"
        )
    return token


# -- Vector Search ---------------------------------------------------------------------------


def vector_search_client(
    settings: MovieRagSettings | None = None, *, config: Config | None = None
) -> AISearchClient:
    """A databricks-ai-search client on the workspace credentials, refreshed per request.

    ``AISearchClient`` itself knows PATs, service principal secrets and the notebook
    token; this one takes the bearer from the unified auth chain on every request instead
    (also on the index handles it returns), so every identity the SDK knows works —
    including Model Serving's rotating token and a Databricks App's service principal.

    Args:
        settings: Explicit overrides of the unified auth chain.
        config: An already resolved configuration (wins over ``settings``).

    Returns:
        The client.

    Raises:
        ConfigurationError: databricks-ai-search is not installed.
        WorkspaceAuthError: No credentials.
    """
    try:
        from databricks.ai_search.client import AISearchClient
    except ImportError as exc:
        raise ConfigurationError(
            "the Vector Search index needs databricks-ai-search; install the databricks "
            'extra: pip install "movie-rag[databricks]"'
        ) from exc
    config = config or workspace_config(settings)
    return _refreshing_client_class(AISearchClient)(config)


_CLIENT_CLASSES: dict[type, type] = {}


def _refreshing_client_class(base: type) -> type:
    """``AISearchClient`` whose bearer (and its index handles' bearer) follow a ``Config``."""
    if base in _CLIENT_CLASSES:
        return _CLIENT_CLASSES[base]

    class RefreshingAISearchClient(base):
        """The client reads ``personal_access_token`` per request; we keep it fresh."""

        def __init__(self, config: Config) -> None:
            self._workspace_config = config
            super().__init__(
                workspace_url=config.host,
                personal_access_token=bearer_token(config),
                disable_notice=True,
            )

        def __repr__(self) -> str:
            return f"RefreshingAISearchClient({describe_auth(self._workspace_config)})"

        def _get_token_for_request(self, *args: Any, **kwargs: Any) -> str:
            self.personal_access_token = bearer_token(self._workspace_config)
            return str(self.personal_access_token)

        def get_index(self, endpoint_name: str | None = None, index_name: str | None = None) -> Any:
            self._get_token_for_request()
            handle = super().get_index(endpoint_name=endpoint_name, index_name=index_name)
            return _FreshBearerIndex(handle, self._workspace_config)

    _CLIENT_CLASSES[base] = RefreshingAISearchClient
    return RefreshingAISearchClient


class _FreshBearerIndex:
    """An index handle whose ``personal_access_token`` is renewed before each use."""

    def __init__(self, handle: Any, config: Config) -> None:
        self._handle = handle
        self._config = config

    def __getattr__(self, name: str) -> Any:
        self._handle.personal_access_token = bearer_token(self._config)
        return getattr(self._handle, name)

    def __repr__(self) -> str:
        return f"{type(self._handle).__name__}({getattr(self._handle, 'name', '?')!r})"


# -- the LLM through the OpenAI-compatible API -------------------------------------------------


def _httpx() -> Any:
    """The httpx module the installed openai client speaks (``httpx2`` from openai 3 on)."""
    from openai import _base_client

    return getattr(_base_client, "httpx2", None) or getattr(_base_client, "httpx")  # noqa: B009


def _http_clients(config: Config, timeout: float) -> tuple[Any, Any]:
    """Sync and async httpx clients that put the current workspace bearer on each request.

    Connections are not kept alive between calls (one handshake is nothing next to an LLM
    answer), so a client built per model and dropped leaves no open socket behind.
    """
    httpx = _httpx()
    limits = httpx.Limits(max_keepalive_connections=0)
    shared_sync = httpx.HTTPTransport(limits=limits)
    shared_async = httpx.AsyncHTTPTransport(limits=limits)

    def authorise(request: Any) -> None:
        request.headers["Authorization"] = config.authenticate()["Authorization"]

    class _Sync(httpx.BaseTransport):  # type: ignore[name-defined]
        def handle_request(self, request: Any) -> Any:
            authorise(request)
            return shared_sync.handle_request(request)

        def close(self) -> None:
            shared_sync.close()

    class _Async(httpx.AsyncBaseTransport):  # type: ignore[name-defined]
        async def handle_async_request(self, request: Any) -> Any:
            authorise(request)
            return await shared_async.handle_async_request(request)

        async def aclose(self) -> None:
            await shared_async.aclose()

    return (
        httpx.Client(transport=_Sync(), timeout=timeout),
        httpx.AsyncClient(transport=_Async(), timeout=timeout),
    )


def serving_base_url(config: Config) -> str:
    """``{host}/serving-endpoints``: the OpenAI-compatible API of the workspace's endpoints."""
    return f"{str(config.host).rstrip('/')}/serving-endpoints"


def openai_client(
    settings: MovieRagSettings | None = None,
    *,
    config: Config | None = None,
    timeout: float = 30.0,
    max_retries: int = 0,
) -> OpenAI:
    """An ``openai.OpenAI`` client for the workspace's serving endpoints.

    The same construction as databricks-sdk's ``serving_endpoints.get_open_ai_client()``
    (an ``httpx`` auth hook that asks the SDK for the header per request, so tokens
    refresh), without that method's deprecation warning.

    Args:
        settings: Explicit overrides of the unified auth chain.
        config: An already resolved configuration (wins over ``settings``).
        timeout: Seconds per request.
        max_retries: The OpenAI client's own retries (callers with their own policy pass 0).

    Returns:
        The client; ``model`` is the serving endpoint's name.
    """
    from openai import OpenAI

    config = config or workspace_config(settings)
    return OpenAI(
        base_url=serving_base_url(config),
        # The placeholder passes the client's check; the auth hook sets the real header.
        api_key="unused",
        timeout=timeout,
        max_retries=max_retries,
        http_client=_http_clients(config, timeout)[0],
    )


def chat_model(
    endpoint: str,
    settings: MovieRagSettings | None = None,
    *,
    config: Config | None = None,
    temperature: float = 0.0,
    timeout: float = 30.0,
    max_tokens: int = 1024,
) -> BaseChatModel:
    """A LangChain ``ChatOpenAI`` for a Databricks chat endpoint, on workspace credentials.

    Args:
        endpoint: The serving endpoint's name (``databricks-meta-llama-3-3-70b-instruct``).
        settings: Explicit overrides of the unified auth chain.
        config: An already resolved configuration (wins over ``settings``).
        temperature: Sampling temperature.
        timeout: Seconds per request.
        max_tokens: Longest answer in tokens.

    Returns:
        The chat model, without retries of its own (callers retry with :func:`retrying`).

    Raises:
        ConfigurationError: langchain-openai is not installed.
    """
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ConfigurationError(
            "an LLM needs langchain-openai: pip install 'movie-rag[llm]' "
            "(or 'movie-rag[databricks]')"
        ) from exc
    from pydantic import SecretStr

    config = config or workspace_config(settings)
    sync_client, async_client = _http_clients(config, timeout)
    return ChatOpenAI(
        base_url=serving_base_url(config),
        api_key=SecretStr("unused"),
        model=endpoint,
        temperature=temperature,
        timeout=timeout,
        max_retries=0,
        http_client=sync_client,
        http_async_client=async_client,
        # ChatOpenAI renames max_tokens to max_completion_tokens, which Databricks does not
        # read; the body field it accepts is max_tokens.
        extra_body={"max_tokens": max_tokens},
    )


# -- transient errors and retries ----------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (SDK, ai-search, OpenAI, requests, httpx)."""
    for name in ("status_code", "status", "http_status"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def is_transient(exc: BaseException) -> bool:
    """Whether another try may succeed: 429/5xx, a Databricks transient code, a lost link.

    Args:
        exc: What a workspace call raised.

    Returns:
        True for rate limits, server and gateway errors, timeouts and dropped connections.
    """
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    try:
        import requests

        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return True
    except ImportError:  # pragma: no cover - requests comes with databricks-sdk
        pass
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover
        pass
    status = status_of(exc)
    if status is not None:
        return status in TRANSIENT_STATUSES
    return getattr(exc, "error_code", None) in _TRANSIENT_CODES


def retrying(
    *,
    attempts: int,
    backoff: float = 1.0,
    max_backoff: float = 30.0,
    deadline: float | None = None,
    what: str = "a workspace call",
    retry_if: Callable[[BaseException], bool] = is_transient,
) -> tenacity.Retrying:
    """The retry policy of every workspace call: transient errors, exponential backoff.

    Waits ``backoff * 2**n`` seconds (with up to 25 % jitter, capped at ``max_backoff``)
    between tries, logs each retry as a warning, and re-raises the last error when the
    tries (or the ``deadline``, a ``time.monotonic()`` value) run out.

    Args:
        attempts: Tries in all (1: no retry).
        backoff: First wait in seconds.
        max_backoff: Longest wait.
        deadline: Give up once ``time.monotonic()`` passes it.
        what: What is being done, for the log line.
        retry_if: Which errors are worth another try.

    Returns:
        A ``tenacity.Retrying``; use ``for attempt in retrying(...): with attempt: ...``
        or ``retrying(...)(fn, *args)`` (calls ``fn`` and returns its result).
    """
    import time

    import tenacity

    stop: Any = tenacity.stop_after_attempt(max(1, attempts))
    if deadline is not None:
        stop = stop | (lambda state: time.monotonic() >= deadline)

    def log(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        logger.warning(
            "%s failed (%s); retry %d of %d in %.2f s",
            what,
            _first_line(exc) if exc is not None else "no answer",
            state.attempt_number,
            attempts - 1,
            state.upcoming_sleep,
        )

    return tenacity.Retrying(
        stop=stop,
        wait=tenacity.wait_exponential(multiplier=backoff, max=max_backoff)
        + tenacity.wait_random(0, backoff / 4),
        retry=tenacity.retry_if_exception(retry_if),
        before_sleep=log,
        reraise=True,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def in_model_serving() -> bool:
    """Whether this process runs inside Databricks Model Serving."""
    value = os.environ.get("IS_IN_DB_MODEL_SERVING_ENV") or os.environ.get(
        "IS_IN_DATABRICKS_MODEL_SERVING_ENV", "false"
    )
    return value.lower() in ("true", "1")
