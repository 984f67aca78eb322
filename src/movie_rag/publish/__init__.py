"""Publishing: the chain as an MLflow model, a registry, local and Databricks serving.

Names are imported lazily: ``import movie_rag.publish`` does not import MLflow.

- :class:`ModelPublisher`: log, register, alias, serve (``mlflow models serve`` locally, a
  Databricks serving endpoint through :class:`DatabricksServing`).
- :class:`ModelRegistry`: names, versions, aliases; :class:`ServedModelAccess`: what the
  served model's identity needs (grants and MLflow resources, declared once).
- :class:`Serving`: deploy/status/teardown, implemented by :class:`LocalServing` and
  :class:`DatabricksServing`.
- :class:`InferenceLog`: the request/response log of local serving.
- ``movie_rag/publish/model.py``: the "models from code" entry module MLflow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_ALIAS": "movie_rag.publish.registry",
    "DEFAULT_MODEL_NAME": "movie_rag.publish.registry",
    "DatabricksServing": "movie_rag.publish.databricks",
    "EndpointStatus": "movie_rag.publish.serving",
    "InferenceLog": "movie_rag.publish.inference_log",
    "InferenceRecord": "movie_rag.publish.inference_log",
    "InferenceTableConfig": "movie_rag.publish.databricks_checks",
    "Grant": "movie_rag.publish.access",
    "LocalServer": "movie_rag.publish.local_serving",
    "LocalServerError": "movie_rag.publish.errors",
    "LocalServing": "movie_rag.publish.local_serving",
    "LoggedModel": "movie_rag.publish.registry",
    "ModelNotFoundError": "movie_rag.publish.errors",
    "ModelPublisher": "movie_rag.publish.publisher",
    "ModelRegistry": "movie_rag.publish.registry",
    "PublishError": "movie_rag.publish.errors",
    "RegisteredVersion": "movie_rag.publish.registry",
    "ServedModelAccess": "movie_rag.publish.access",
    "Serving": "movie_rag.publish.serving",
    "ServingConfigError": "movie_rag.publish.errors",
    "ServingError": "movie_rag.publish.errors",
}

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "DatabricksServing",
    "EndpointStatus",
    "Grant",
    "InferenceLog",
    "InferenceRecord",
    "InferenceTableConfig",
    "LocalServer",
    "LocalServerError",
    "LocalServing",
    "LoggedModel",
    "ModelNotFoundError",
    "ModelPublisher",
    "ModelRegistry",
    "PublishError",
    "RegisteredVersion",
    "ServedModelAccess",
    "Serving",
    "ServingConfigError",
    "ServingError",
]

if TYPE_CHECKING:
    from movie_rag.publish.access import Grant, ServedModelAccess
    from movie_rag.publish.databricks import DatabricksServing
    from movie_rag.publish.databricks_checks import InferenceTableConfig
    from movie_rag.publish.errors import (
        LocalServerError,
        ModelNotFoundError,
        PublishError,
        ServingConfigError,
        ServingError,
    )
    from movie_rag.publish.inference_log import InferenceLog, InferenceRecord
    from movie_rag.publish.local_serving import LocalServer, LocalServing
    from movie_rag.publish.publisher import ModelPublisher
    from movie_rag.publish.registry import (
        DEFAULT_ALIAS,
        DEFAULT_MODEL_NAME,
        LoggedModel,
        ModelRegistry,
        RegisteredVersion,
    )
    from movie_rag.publish.serving import EndpointStatus, Serving


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
