"""The errors Vector Search answers turn into, and how a client error is translated."""

from __future__ import annotations

from typing import Any

from movie_rag.errors import ConfigurationError, MovieRagError

__all__ = [
    "DEFAULT_EMBEDDING_ENDPOINT",
    "EmbeddingEndpointNotFoundError",
    "InvalidIndexNameError",
    "VectorSearchError",
    "VectorSearchQuotaError",
    "VectorSearchUnavailableError",
]

#: Serving endpoint that embeds ``document`` in managed mode.
DEFAULT_EMBEDDING_ENDPOINT = "databricks-gte-large-en"


class VectorSearchError(MovieRagError):
    """Vector Search refused or failed a request; the message says what to do.

    Attributes:
        status: HTTP status of the answer, when there was one.
        error_code: The Databricks ``error_code`` (``QUOTA_EXCEEDED``, ...), when given.
    """

    def __init__(
        self, message: str, *, status: int | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class VectorSearchQuotaError(VectorSearchError):
    """The workspace has all the Vector Search endpoints (or an endpoint all the indexes) it may."""


class InvalidIndexNameError(VectorSearchError, ConfigurationError):
    """An index or table name is not a three-part Unity Catalog name."""


class EmbeddingEndpointNotFoundError(VectorSearchError, ConfigurationError):
    """The serving endpoint that should embed ``document`` does not exist."""


class VectorSearchUnavailableError(VectorSearchError):
    """Vector Search kept answering 429/5xx (or not at all) through every retry."""


class _Missing(VectorSearchError):
    """404 from Vector Search; callers turn it into what it means where it happened."""


def translate(
    exc: Any, what: str, *, index_name: str, embedding_endpoint: str
) -> VectorSearchError:
    """The :class:`VectorSearchError` for a non-transient ``AISearchException``."""
    status, code = exc.status_code, exc.error_code
    message = str(exc)
    if status == 404:
        return _Missing(f"{what}: {message}", status=status, error_code=code)
    if code == "QUOTA_EXCEEDED":
        return VectorSearchQuotaError(
            f"{what}: {message}; delete unused indexes or endpoints, or use another endpoint",
            status=status,
            error_code=code,
        )
    if "Invalid index name" in message:
        return InvalidIndexNameError(
            f"{what}: {message} Got {index_name!r}: use catalog.schema.name with "
            "letters, digits and underscores only",
            status=status,
            error_code=code,
        )
    if "Model Serving endpoint" in message:
        return EmbeddingEndpointNotFoundError(
            f"{what}: {message} Create the serving endpoint {embedding_endpoint!r} or "
            f"use a foundation model endpoint such as {DEFAULT_EMBEDDING_ENDPOINT!r}",
            status=status,
            error_code=code,
        )
    if status in (401, 403):
        return VectorSearchError(
            f"{what}: the workspace refused the credentials ({message}); check the token "
            "(MOVIE_RAG_DATABRICKS_TOKEN or DATABRICKS_TOKEN) and its permissions on the "
            "endpoint and the schema",
            status=status,
            error_code=code,
        )
    return VectorSearchError(f"{what}: {message}", status=status, error_code=code)


def summary(exc: BaseException | None) -> str:
    if exc is None:
        return "no answer"
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"
