"""Publishing: the chain as an MLflow model, a registry, local and Databricks serving.

Names are imported lazily: ``import movie_rag.publish`` does not import MLflow.

- :class:`ModelPublisher`: log, register, alias, serve (``mlflow models serve`` locally, a
  Databricks serving endpoint through :class:`DatabricksServing`).
- :class:`InferenceLog`: the request/response log of local serving.
- ``movie_rag/publish/model.py``: the "models from code" entry module MLflow loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.publish.databricks import DatabricksServing, EndpointStatus, InferenceTableConfig
    from movie_rag.publish.inference_log import InferenceLog, InferenceRecord
    from movie_rag.publish.publisher import (
        DEFAULT_ALIAS,
        DEFAULT_MODEL_NAME,
        LocalServer,
        LocalServerError,
        LoggedModel,
        ModelNotFoundError,
        ModelPublisher,
        PublishError,
        RegisteredVersion,
    )

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "DatabricksServing",
    "EndpointStatus",
    "InferenceLog",
    "InferenceRecord",
    "InferenceTableConfig",
    "LocalServer",
    "LocalServerError",
    "LoggedModel",
    "ModelNotFoundError",
    "ModelPublisher",
    "PublishError",
    "RegisteredVersion",
]

_EXPORTS: dict[str, str] = {
    "DatabricksServing": "movie_rag.publish.databricks",
    "EndpointStatus": "movie_rag.publish.databricks",
    "InferenceTableConfig": "movie_rag.publish.databricks",
    "InferenceLog": "movie_rag.publish.inference_log",
    "InferenceRecord": "movie_rag.publish.inference_log",
    "DEFAULT_ALIAS": "movie_rag.publish.publisher",
    "DEFAULT_MODEL_NAME": "movie_rag.publish.publisher",
    "LocalServer": "movie_rag.publish.publisher",
    "LocalServerError": "movie_rag.publish.publisher",
    "LoggedModel": "movie_rag.publish.publisher",
    "ModelNotFoundError": "movie_rag.publish.publisher",
    "ModelPublisher": "movie_rag.publish.publisher",
    "PublishError": "movie_rag.publish.publisher",
    "RegisteredVersion": "movie_rag.publish.publisher",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
