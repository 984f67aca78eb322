"""Generate recommendations with an LLM: any LangChain chat model, Databricks or local.

:class:`LLMGenerator` sends the prompt of :mod:`movie_rag.chain.prompts`, retries transient
failures (429, 5xx, dropped connections) with backoff, enforces a timeout and reads whatever
the model wrote with :mod:`movie_rag.chain.generators.parsing`. Malformed output never
raises; a model that keeps failing raises :class:`GenerationError` so the chain can fall back
to the grounded generator. Titles are *not* verified here:
:class:`~movie_rag.chain.grounding.GroundingGuard` does that. The chat models themselves
come from :mod:`movie_rag.chain.llm_providers`.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import logging
import random
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from movie_rag.chain.generators.parsing import parse_with_method
from movie_rag.chain.prompts import build_messages
from movie_rag.chain.types import Candidate, GeneratedAnswer, HistoryTurn, ParsedQuery
from movie_rag.errors import MovieRagError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from movie_rag.settings import MovieRagSettings

__all__ = ["GenerationError", "LLMGenerator"]

logger = logging.getLogger("movie_rag")

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
        chat_model: Any LangChain chat model (see :mod:`movie_rag.chain.llm_providers`).
            Give it no retries of its own (``max_retries=0`` on ChatOpenAI, as the presets
            do) so that ``max_retries`` here is the real bound.
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
            settings: See :func:`~movie_rag.chain.llm_providers.chat_model_from_settings`;
                ``llm_max_retries`` and ``llm_timeout`` bound the calls.

        Returns:
            The generator.

        Raises:
            ConfigurationError: No LLM is configured (``llm_provider`` is ``none``) or a
                setting the provider needs is missing.
        """
        from movie_rag.chain.llm_providers import chat_model_from_settings

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
        answer, how = parse_with_method(text)
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
