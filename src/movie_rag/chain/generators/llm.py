"""Generate recommendations with an LLM: any LangChain chat model, Databricks or local.

:class:`LLMGenerator` sends the prompt of :mod:`movie_rag.chain.prompts`, retries transient
failures (429, 5xx, dropped connections) with backoff, enforces a timeout and parses whatever
the model wrote into a :class:`~movie_rag.chain.types.GeneratedAnswer` — structured JSON,
fenced or embedded JSON, JSON with trailing commas or cut short, or a numbered list as a last
resort. Malformed output never raises; a model that keeps failing raises
:class:`GenerationError` so the chain can fall back to the grounded generator. Titles are
*not* verified here: :class:`~movie_rag.chain.grounding.GroundingGuard` does that.

Databricks chat endpoints are reached through their OpenAI-compatible API
(``{host}/serving-endpoints``) with langchain-openai, never databricks-langchain, which
pulls databricks-connect and breaks a pyspark install. langchain-openai is imported only
when a preset is called (``pip install "movie-rag[llm]"``).
"""

from __future__ import annotations

import ast
import concurrent.futures
import contextvars
import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from movie_rag.chain.prompts import build_messages
from movie_rag.chain.types import Candidate, GeneratedAnswer, HistoryTurn, ParsedQuery, Pick
from movie_rag.errors import ConfigurationError, MovieRagError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from movie_rag.settings import MovieRagSettings

__all__ = [
    "DEFAULT_DATABRICKS_ENDPOINT",
    "GenerationError",
    "LLMGenerator",
    "chat_model_from_settings",
    "databricks_chat_model",
    "openai_compatible_chat_model",
    "parse_answer",
]

logger = logging.getLogger("movie_rag")

DEFAULT_DATABRICKS_ENDPOINT = "databricks-meta-llama-3-3-70b-instruct"

_TRANSIENT_STATUS = {408, 409, 425, 429}
_MAX_WORKERS = 8
_executor: concurrent.futures.ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class GenerationError(MovieRagError):
    """The LLM gave no answer: it kept failing, timed out or rejected the request.

    The chain catches this and answers with the grounded (LLM-free) generator instead.

    Attributes:
        attempts: How many calls were made.
        status: The last HTTP status the model's server answered with, if any.
    """

    def __init__(self, message: str, *, attempts: int, status: int | None = None) -> None:
        self.attempts = attempts
        self.status = status
        super().__init__(message)


class LLMGenerator:
    """Pick movies from the candidates with a chat model.

    Args:
        chat_model: Any LangChain chat model (see :func:`databricks_chat_model` and
            :func:`openai_compatible_chat_model`). Give it no retries of its own
            (``max_retries=0`` on ChatOpenAI, as the presets do) so that ``max_retries``
            here is the real bound.
        max_retries: Extra attempts after a transient failure (429, 5xx, connection lost).
        timeout: Seconds one attempt may take; a timed-out call is not retried (a slow model
            is rarely fast the second time, and the grounded fallback is waiting). None
            leaves timeouts to the model's client.
        backoff: First wait between attempts in seconds; it doubles each retry, with jitter,
            and a server's ``Retry-After`` wins when it says more.
        max_backoff: Longest wait between attempts.
        json_mode: Ask the server for a JSON object (``response_format``); only for servers
            that support it (OpenAI, vLLM, llama.cpp; check your Databricks endpoint).
        overview_chars: Longest overview shown to the model per movie.

    Example:
        >>> model = databricks_chat_model(host, SecretStr(token))  # doctest: +SKIP
        >>> generator = LLMGenerator(model, timeout=20)  # doctest: +SKIP
        >>> answer = generator.generate(parsed, candidates, k=5)  # doctest: +SKIP
        >>> [pick.title for pick in answer.picks]  # doctest: +SKIP
        ['Heat', 'Collateral', 'Thief']
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        max_retries: int = 2,
        timeout: float | None = 30.0,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        json_mode: bool = False,
        overview_chars: int = 600,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive seconds or None, got {timeout}")
        self.chat_model = chat_model
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.json_mode = json_mode
        self.overview_chars = overview_chars
        self._runnable: Runnable[Any, Any] = (
            chat_model.bind(response_format={"type": "json_object"}) if json_mode else chat_model
        )

    @classmethod
    def from_settings(cls, settings: MovieRagSettings) -> LLMGenerator:
        """A generator with the chat model, timeout and retries the settings ask for.

        Args:
            settings: See :func:`chat_model_from_settings`; ``llm_max_retries`` and
                ``llm_timeout`` bound the calls.

        Returns:
            The generator.

        Raises:
            ConfigurationError: No LLM is configured (``llm_provider`` is ``none``) or a
                setting the provider needs is missing.
        """
        return cls(
            chat_model_from_settings(settings),
            max_retries=settings.llm_max_retries,
            timeout=settings.llm_timeout,
        )

    def __repr__(self) -> str:
        return (
            f"LLMGenerator(chat_model={type(self.chat_model).__name__}, "
            f"max_retries={self.max_retries}, timeout={self.timeout}, "
            f"json_mode={self.json_mode})"
        )

    def generate(
        self,
        parsed: ParsedQuery,
        candidates: list[Candidate],
        k: int,
        history: list[HistoryTurn] | None = None,
    ) -> GeneratedAnswer:
        """Ask the model for up to ``k`` picks among ``candidates``.

        Args:
            parsed: The parsed, PII-redacted query.
            candidates: Retrieved movies, best first. With none, the model is not called.
            k: The most picks wanted.
            history: Earlier conversation turns (redacted), oldest first.

        Returns:
            The model's intro and picks as written (titles unverified), at most ``k``
            picks; empty when the output held nothing usable.

        Raises:
            ValueError: ``k`` is not positive.
            GenerationError: The model failed after the allowed retries, timed out, or
                rejected the request (authentication, bad request).
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if not candidates:
            return GeneratedAnswer()
        messages = build_messages(
            parsed, candidates, k, history, overview_chars=self.overview_chars
        )
        message = self._call(messages)
        text = _message_text(message)
        answer, how = _parse(text)
        finish = _finish_reason(message)
        if finish == "length":
            logger.warning("LLM answer was cut short by its token limit (finish_reason=length)")
        if how != "json":
            logger.warning(
                "LLM answer was not clean JSON (%d characters); recovered %d picks from %s",
                len(text),
                len(answer.picks),
                how,
            )
        if len(answer.picks) > k:
            answer = answer.model_copy(update={"picks": answer.picks[:k]})
        return answer

    # -- calling the model -----------------------------------------------------------------

    def _call(self, messages: Sequence[tuple[str, str]]) -> Any:
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._invoke_once(list(messages))
            except Exception as exc:
                status = _status_of(exc)
                if _is_timeout(exc):
                    limit = f"{self.timeout}s" if self.timeout else "the client's timeout"
                    raise GenerationError(
                        f"the LLM did not answer within {limit} (attempt {attempts}); raise "
                        "llm_timeout or check the endpoint's load",
                        attempts=attempts,
                        status=status,
                    ) from exc
                if not _is_transient(exc, status):
                    problem = "rejected the request" if status else "call failed"
                    raise GenerationError(
                        f"the LLM {problem} ({_describe(exc, status)}); check the endpoint "
                        "name, credentials and the server's logs",
                        attempts=attempts,
                        status=status,
                    ) from exc
                if attempts > self.max_retries:
                    raise GenerationError(
                        f"the LLM kept failing ({_describe(exc, status)}) after {attempts} "
                        "attempts; try again later or raise llm_max_retries",
                        attempts=attempts,
                        status=status,
                    ) from exc
                wait = self._wait(attempts, exc)
                logger.warning(
                    "LLM call failed (%s), attempt %d of %d; retrying in %.2fs",
                    _describe(exc, status),
                    attempts,
                    self.max_retries + 1,
                    wait,
                )
                time.sleep(wait)

    def _invoke_once(self, messages: list[tuple[str, str]]) -> Any:
        if self.timeout is None:
            return self._runnable.invoke(messages)
        # Run in a worker so the timeout holds for any chat model, copying the context so
        # tracing callbacks (MLflow, LangSmith) still see the call as part of this request.
        context = contextvars.copy_context()
        future = _worker_pool().submit(context.run, self._runnable.invoke, messages)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise TimeoutError(f"no answer within {self.timeout}s") from exc

    def _wait(self, attempt: int, exc: BaseException) -> float:
        wait = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        retry_after = _retry_after(exc)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_backoff)


# -- presets ---------------------------------------------------------------------------------


def databricks_chat_model(
    host: str,
    token: SecretStr,
    endpoint: str = DEFAULT_DATABRICKS_ENDPOINT,
    *,
    temperature: float = 0.0,
    timeout: float = 30.0,
    max_tokens: int = 1024,
) -> BaseChatModel:
    """A chat model for a Databricks serving endpoint (Foundation Model API or external).

    Uses the endpoint's OpenAI-compatible API, ``{host}/serving-endpoints``, with the
    endpoint name as the model.

    Args:
        host: Workspace URL (``https://adb-123.azuredatabricks.net``; a bare host name gets
            ``https://``).
        token: A personal access or service-principal token.
        endpoint: The serving endpoint's name.
        temperature: Sampling temperature (0 keeps answers repeatable).
        timeout: Seconds per request.
        max_tokens: Longest answer in tokens.

    Returns:
        A ``ChatOpenAI`` pointed at the workspace, without retries of its own.

    Raises:
        ConfigurationError: langchain-openai is not installed, or the host is empty.
    """
    if not host.strip():
        raise ConfigurationError(
            "databricks host is empty; set MOVIE_RAG_DATABRICKS_HOST to the workspace URL"
        )
    base = host.strip().rstrip("/")
    if "://" not in base:
        base = f"https://{base}"
    base_url = f"{base}/serving-endpoints"
    return _chat_openai(base_url, token, endpoint, temperature, timeout, max_tokens)


def openai_compatible_chat_model(
    base_url: str,
    api_key: SecretStr | None,
    model: str,
    *,
    temperature: float = 0.0,
    timeout: float = 30.0,
    max_tokens: int = 1024,
) -> BaseChatModel:
    """A chat model for any OpenAI-compatible server (Ollama, vLLM, llama.cpp, OpenAI).

    Args:
        base_url: The API base, e.g. ``http://localhost:11434/v1`` (Ollama),
            ``http://localhost:8000/v1`` (vLLM).
        api_key: The server's key; local servers that need none may get None.
        model: The model name the server knows.
        temperature: Sampling temperature.
        timeout: Seconds per request.
        max_tokens: Longest answer in tokens.

    Returns:
        A ``ChatOpenAI`` pointed at the server, without retries of its own.

    Raises:
        ConfigurationError: langchain-openai is not installed.
    """
    # The OpenAI client refuses to start without a key; keyless local servers ignore it.
    key = api_key if api_key is not None else SecretStr("not-needed")
    return _chat_openai(base_url.rstrip("/"), key, model, temperature, timeout, max_tokens)


def chat_model_from_settings(settings: MovieRagSettings) -> BaseChatModel:
    """The chat model the settings ask for (``llm_provider`` and the ``llm_*`` fields).

    Args:
        settings: ``llm_provider`` ``databricks`` (``llm_endpoint`` on the workspace of
            :func:`movie_rag.workspace.workspace_config`: the SDK's unified auth chain,
            ``databricks_*`` settings as overrides) or ``openai`` (``llm_base_url``,
            ``llm_api_key``, ``llm_endpoint`` as the model name); ``llm_timeout`` and
            ``llm_temperature`` apply to both.

    Returns:
        The chat model.

    Raises:
        ConfigurationError: ``llm_provider`` is ``none``, or a setting the provider needs is
            missing.
    """
    provider = settings.llm_provider
    if provider == "databricks":
        from movie_rag.workspace import chat_model, workspace_config

        # The workspace's unified auth chain (notebook, Model Serving, Apps, OAuth M2M,
        # profiles, PAT); the bearer is asked for per request, so tokens refresh.
        config = workspace_config(settings, retry_timeout_seconds=int(settings.llm_timeout))
        return chat_model(
            settings.llm_endpoint,
            config=config,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
        )
    if provider == "openai":
        if not settings.llm_base_url:
            raise ConfigurationError(
                "llm_provider 'openai' needs the server's base URL: set MOVIE_RAG_LLM_BASE_URL "
                "(e.g. http://localhost:11434/v1 for Ollama)"
            )
        return openai_compatible_chat_model(
            settings.llm_base_url,
            settings.llm_api_key,
            settings.llm_endpoint,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
        )
    raise ConfigurationError(
        f"llm_provider is {provider!r}, so there is no chat model to build; set "
        "MOVIE_RAG_LLM_PROVIDER to 'databricks' or 'openai' (or use the grounded generator)"
    )


def _chat_openai(
    base_url: str,
    api_key: SecretStr,
    model: str,
    temperature: float,
    timeout: float,
    max_tokens: int,
) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ConfigurationError(
            "an LLM needs langchain-openai: pip install 'movie-rag[llm]' "
            "(or 'movie-rag[databricks]')"
        ) from exc
    return ChatOpenAI(
        base_url=base_url,
        api_key=api_key,
        model=model,
        temperature=temperature,
        timeout=timeout,
        # LLMGenerator retries with its own bound and backoff.
        max_retries=0,
        # ChatOpenAI renames max_tokens to max_completion_tokens, which Databricks, Ollama
        # and older vLLM do not read; the body field they all accept is max_tokens.
        extra_body={"max_tokens": max_tokens},
    )


# -- errors ----------------------------------------------------------------------------------


def _worker_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=_MAX_WORKERS, thread_name_prefix="movie_rag-llm"
            )
        return _executor


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__


def _is_transient(exc: BaseException, status: int | None) -> bool:
    if status is not None:
        return status in _TRANSIENT_STATUS or status >= 500
    # No status: the connection failed before an answer (openai.APIConnectionError,
    # httpx.ConnectError); the next attempt may well get through.
    return isinstance(exc, ConnectionError) or "Connection" in type(exc).__name__


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _describe(exc: BaseException, status: int | None) -> str:
    name = type(exc).__name__
    return f"{name}, HTTP {status}" if status is not None else name


# -- reading the answer ----------------------------------------------------------------------


def _message_text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
        ]
        return "".join(parts)
    return "" if content is None else str(content)


def _finish_reason(message: Any) -> str | None:
    metadata = getattr(message, "response_metadata", None) or {}
    reason = metadata.get("finish_reason")
    return reason if isinstance(reason, str) else None


_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_PICK_LISTS = ("picks", "recommendations", "movies", "results", "items", "films")
_INTRO_KEYS = ("intro", "introduction", "answer", "message", "summary", "response", "text")
_TITLE_KEYS = ("title", "name", "movie", "movie_title", "film")
_REASON_KEYS = ("reason", "why", "explanation", "because", "justification", "description")
_YEAR = re.compile(r"\b(18[89]\d|19\d{2}|20\d{2})\b")
_TITLE_YEAR = re.compile(r"^(?P<title>.+?)\s*[(\[]\s*(?P<year>(?:18|19|20)\d{2})\s*[)\]]\s*")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}\s*[.):]|[-*•+])\s+(?P<body>\S.*)$")
# Strongest first: "Star Wars: Episode IV - A New Hope — reason" splits at the dash.
_REASON_SEPARATORS = (" — ", " – ", "—", " -- ", " - ", ": ")
_MAX_JSON_STARTS = 20
_MAX_TITLE_CHARS = 200


def parse_answer(text: str) -> GeneratedAnswer:
    """Read a model's answer into intro and picks, whatever shape it came in.

    Tries, in order: JSON (whole, fenced in markdown, or embedded in prose; trailing commas
    and single quotes tolerated; an answer cut short keeps its complete picks), then a
    numbered or bulleted ``Title (Year) — reason`` list, then the text as a plain intro.
    ``movie_id`` fields a model writes are ignored: it was never shown any.

    Args:
        text: The model's message content.

    Returns:
        What could be read; never raises.

    Example:
        >>> answer = parse_answer('Sure: {"picks": [{"title": "Heat", "year": 1995,}]} Enjoy!')
        >>> answer.picks[0].title, answer.picks[0].year
        ('Heat', 1995)
    """
    return _parse(text)[0]


def _parse(text: str) -> tuple[GeneratedAnswer, str]:
    text = (text or "").strip()
    if not text:
        return GeneratedAnswer(), "an empty answer"
    try:
        strict: Any = json.loads(text)
    except ValueError:
        strict = None
    answer = _from_json(strict) if strict is not None else None
    if answer is not None:
        return answer, "json"
    for match in _FENCE.finditer(text):
        # Chat models often fence otherwise valid JSON in markdown: not worth a warning.
        try:
            fenced = _from_json(json.loads(match.group(1)))
        except ValueError:
            continue
        if fenced is not None:
            return fenced, "json"
    for candidate in _json_candidates(text):
        value = _loads_lenient(candidate)
        if value is None:
            continue
        answer = _from_json(value)
        if answer is not None:
            return answer, "repaired JSON"
    listed = _from_list(text)
    if listed.picks:
        return listed, "a list"
    return GeneratedAnswer(intro=text), "prose without picks"


def _json_candidates(text: str) -> Iterator[str]:
    """Strings that may hold the JSON answer, most likely first."""
    yield text
    for match in _FENCE.finditer(text):
        inner = match.group(1).strip()
        if inner:
            yield inner
    starts = [i for i, ch in enumerate(text) if ch in "{["][:_MAX_JSON_STARTS]
    for start in starts:
        yield text[start:]


def _loads_lenient(text: str) -> Any:
    if not text or text[0] not in "{[":
        return None
    decoder = json.JSONDecoder()
    without_commas = _drop_trailing_commas(text)
    for attempt in (text, without_commas):
        try:
            return decoder.raw_decode(attempt)[0]
        except ValueError:
            pass
    closed = _close_truncated(without_commas)
    if closed is not None:
        return closed
    return _python_literal(without_commas)


def _drop_trailing_commas(text: str) -> str:
    """Remove commas that directly precede a closing bracket, outside strings."""
    out: list[str] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch == ",":
            rest = text[i + 1 :].lstrip()
            if rest[:1] in {"}", "]"}:
                continue
        out.append(ch)
    return "".join(out)


def _close_truncated(text: str) -> Any:
    """Decode the longest prefix that ends a complete value, closing what is still open.

    A model stopped by its token limit writes ``{"picks": [{...}, {"title": "He``; this
    keeps the complete picks and drops the one cut in half.
    """
    stack: list[str] = []
    ends: list[tuple[int, str]] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack[-1] != ch:
                break
            stack.pop()
            if not stack:
                break  # complete: raw_decode already had its chance
            ends.append((i + 1, "".join(reversed(stack))))
    decoder = json.JSONDecoder()
    for end, closers in reversed(ends[-50:]):
        try:
            return decoder.raw_decode(text[:end] + closers)[0]
        except ValueError:
            continue
    return None


def _python_literal(text: str) -> Any:
    """Single-quoted, Python-style dicts (``{'title': 'Heat'}``), which some models write."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "{["
        depth -= ch in "}]"
        if depth == 0:
            try:
                return ast.literal_eval(text[: i + 1])
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
    return None


def _from_json(value: Any, depth: int = 0) -> GeneratedAnswer | None:
    if isinstance(value, list):
        picks = [pick for item in value if (pick := _pick_from(item)) is not None]
        return GeneratedAnswer(picks=picks) if picks or not value else None
    if not isinstance(value, dict):
        return None
    keys = {str(key).lower(): key for key in value}
    intro = next(
        (value[keys[k]] for k in _INTRO_KEYS if k in keys and isinstance(value[keys[k]], str)),
        "",
    )
    for name in _PICK_LISTS:
        if name in keys and isinstance(value[keys[name]], list):
            items = value[keys[name]]
            picks = [pick for item in items if (pick := _pick_from(item)) is not None]
            return GeneratedAnswer(intro=intro.strip(), picks=picks)
    single = _pick_from(value)
    if single is not None:
        return GeneratedAnswer(picks=[single])
    if depth == 0:
        for nested in value.values():
            if isinstance(nested, dict | list):
                found = _from_json(nested, depth + 1)
                if found is not None and found.picks:
                    return found.model_copy(update={"intro": found.intro or intro.strip()})
    return GeneratedAnswer(intro=intro.strip()) if intro else None


def _pick_from(item: Any) -> Pick | None:
    if isinstance(item, str):
        return _pick_from_line(item)
    if not isinstance(item, dict):
        return None
    keys = {str(key).lower(): key for key in item}
    title: Any = next((item[keys[k]] for k in _TITLE_KEYS if k in keys), None)
    if isinstance(title, dict):
        return _pick_from({**title, **{k: v for k, v in item.items() if k not in title}})
    if not isinstance(title, str):
        return None
    reason = next(
        (item[keys[k]] for k in _REASON_KEYS if k in keys and isinstance(item[keys[k]], str)),
        "",
    )
    year_key = next((k for k in ("year", "release_year", "released") if k in keys), None)
    year = _year_of(item[keys[year_key]]) if year_key else None
    title = _clean_title(title)
    match = _TITLE_YEAR.match(title + " ")
    if match and match.end() >= len(title):
        title, year = match.group("title").strip(), year or int(match.group("year"))
    if not title or len(title) > _MAX_TITLE_CHARS:
        return None
    return Pick(title=title, year=year, reason=" ".join(reason.split()))


def _pick_from_line(body: str) -> Pick | None:
    body = _strip_markdown(body.strip())
    if not body:
        return None
    match = _TITLE_YEAR.match(body)
    if match:
        title, year = match.group("title"), int(match.group("year"))
        reason = body[match.end() :].lstrip(" —–-:.,")
    else:
        title, reason = _split_reason(body)
        year = None
    title = _clean_title(title)
    if not title or len(title) > 120:
        return None
    return Pick(title=title, year=year, reason=" ".join(reason.split()))


def _from_list(text: str) -> GeneratedAnswer:
    intro: list[str] = []
    picks: list[Pick] = []
    for line in text.splitlines():
        match = _LIST_ITEM.match(line)
        if match:
            pick = _pick_from_line(match.group("body"))
            if pick is not None:
                picks.append(pick)
        elif not picks and line.strip():
            intro.append(line.strip())
    return GeneratedAnswer(intro=" ".join(intro), picks=picks)


def _year_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and 1870 <= value <= 2100:
        return int(value)
    if isinstance(value, str):
        match = _YEAR.search(value)
        return int(match.group(1)) if match else None
    return None


def _split_reason(body: str) -> tuple[str, str]:
    for separator in _REASON_SEPARATORS:
        title, found, reason = body.partition(separator)
        if found and title.strip():
            return title, reason
    return body, ""


def _strip_markdown(text: str) -> str:
    text = re.sub(r"\*\*|__|`", "", text)
    # *Emphasis* and _italics_ around words, not the marks inside them ("Bat*21").
    return re.sub(r"(?<!\w)[*_]|[*_](?!\w)", "", text)


def _clean_title(title: str) -> str:
    title = _strip_markdown(" ".join(title.split()))
    return title.strip(" \"'“”‘’«».,;:")
