"""The LLM providers a chain can write answers with: one registration entry per provider.

A provider is an :class:`LLMProvider`: how to build its chat model from the settings, the
MLflow judge URI for the same model, the pip requirements a served model needs for it, the
settings that hold its secrets (they come from the serving environment, never a logged
config), the environment an MLflow judge reads, and the Databricks serving endpoints a
published model reaches through it (for automatic auth passthrough). Adding a provider is one
entry in :data:`LLM_PROVIDERS` (and its name in ``MovieRagSettings.llm_provider``).

Databricks chat endpoints are reached through their OpenAI-compatible API
(``{host}/serving-endpoints``) with langchain-openai, never databricks-langchain, which
pulls databricks-connect and breaks a pyspark install. langchain-openai is imported only
when a chat model is built (``pip install "movie-rag[llm]"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydantic import SecretStr

from movie_rag.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from movie_rag.settings import MovieRagSettings

__all__ = [
    "DEFAULT_DATABRICKS_ENDPOINT",
    "LLM_PROVIDERS",
    "LLMProvider",
    "chat_model_from_settings",
    "databricks_chat_model",
    "llm_provider_for",
    "openai_compatible_chat_model",
]

DEFAULT_DATABRICKS_ENDPOINT = "databricks-meta-llama-3-3-70b-instruct"


@dataclass(frozen=True)
class LLMProvider:
    """Everything the package needs to know about one LLM provider.

    Attributes:
        name: The ``llm_provider`` setting value.
        chat_model: Builds the LangChain chat model from the settings (no retries of its
            own: :class:`~movie_rag.chain.generators.llm.LLMGenerator` retries).
        judge_uri: The MLflow judge model URI for the same model.
        requirements: pip distributions a served model needs to call the provider.
        secret_settings: Settings fields that hold the provider's secrets.
        judge_environment: Environment variables an MLflow judge of this provider reads.
        serving_endpoints: Databricks serving endpoints a published model calls.
    """

    name: str
    chat_model: Callable[[MovieRagSettings], BaseChatModel]
    judge_uri: Callable[[MovieRagSettings], str]
    requirements: tuple[str, ...] = ("langchain-openai",)
    secret_settings: tuple[str, ...] = ()
    judge_environment: Callable[[MovieRagSettings], dict[str, str]] = field(
        default=lambda settings: {}
    )
    serving_endpoints: Callable[[MovieRagSettings], tuple[str, ...]] = field(
        default=lambda settings: ()
    )


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


def _databricks_from_settings(settings: MovieRagSettings) -> BaseChatModel:
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


def _openai_from_settings(settings: MovieRagSettings) -> BaseChatModel:
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


def _openai_judge_environment(settings: MovieRagSettings) -> dict[str, str]:
    # MLflow's OpenAI judge provider reads its endpoint and key from the environment.
    wanted: dict[str, str] = {}
    if settings.llm_base_url:
        wanted["OPENAI_API_BASE"] = settings.llm_base_url
    if settings.llm_api_key is not None:
        wanted["OPENAI_API_KEY"] = settings.llm_api_key.get_secret_value()
    return wanted


#: The registered providers, by ``llm_provider`` value (``none`` is the grounded generator).
LLM_PROVIDERS: Mapping[str, LLMProvider] = MappingProxyType(
    {
        provider.name: provider
        for provider in (
            LLMProvider(
                name="databricks",
                chat_model=_databricks_from_settings,
                judge_uri=lambda settings: f"databricks:/{settings.llm_endpoint}",
                secret_settings=("databricks_token", "databricks_client_secret"),
                serving_endpoints=lambda settings: (settings.llm_endpoint,),
            ),
            LLMProvider(
                name="openai",
                chat_model=_openai_from_settings,
                judge_uri=lambda settings: f"openai:/{settings.llm_endpoint}",
                secret_settings=("llm_api_key",),
                judge_environment=_openai_judge_environment,
            ),
        )
    }
)


def llm_provider_for(settings: MovieRagSettings) -> LLMProvider | None:
    """The provider ``settings.llm_provider`` names, or None for ``none`` (no LLM).

    Args:
        settings: Settings naming the provider.

    Returns:
        The provider's entry, or None.

    Raises:
        ConfigurationError: The name is not registered.
    """
    name = settings.llm_provider
    if name == "none":
        return None
    provider = LLM_PROVIDERS.get(name)
    if provider is None:
        raise ConfigurationError(
            f"llm_provider is {name!r}, which no provider registers; set "
            f"MOVIE_RAG_LLM_PROVIDER to one of {sorted(LLM_PROVIDERS)} or 'none'"
        )
    return provider


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
    provider = llm_provider_for(settings)
    if provider is None:
        raise ConfigurationError(
            f"llm_provider is {settings.llm_provider!r}, so there is no chat model to build; "
            f"set MOVIE_RAG_LLM_PROVIDER to one of {sorted(LLM_PROVIDERS)} "
            "(or use the grounded generator)"
        )
    return provider.chat_model(settings)


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
