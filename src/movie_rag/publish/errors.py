"""The errors of publishing and serving, in one place so every serving backend shares them."""

from __future__ import annotations

from movie_rag.errors import ConfigurationError, MovieRagError

__all__ = [
    "LocalServerError",
    "ModelNotFoundError",
    "PublishError",
    "ServingConfigError",
    "ServingError",
    "ServingTimeoutError",
]


class PublishError(MovieRagError):
    """Logging, registering or serving a model failed."""


class ModelNotFoundError(PublishError):
    """The registry has no such model, version or alias."""


class LocalServerError(PublishError):
    """A model server did not start, or stopped."""


class ServingError(MovieRagError):
    """Databricks refused or failed a serving, secrets or grants request.

    Attributes:
        endpoint: The serving endpoint concerned, when there is one.
        error_code: The Databricks ``error_code`` behind the failure, when there was one.
    """

    def __init__(
        self, message: str, *, endpoint: str | None = None, error_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.error_code = error_code


class ServingTimeoutError(ServingError):
    """The endpoint did not become READY (or Databricks kept failing) within the timeout."""


class ServingConfigError(ServingError, ConfigurationError):
    """An argument cannot make a valid endpoint config, secret or grant."""
