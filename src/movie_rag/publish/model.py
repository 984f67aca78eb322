"""The served movie_rag model: the MLflow "models from code" entry module.

:class:`~movie_rag.publish.publisher.ModelPublisher` logs this file as the model's code
(``mlflow.pyfunc.log_model(python_model=<this file>, model_config=..., artifacts=...)``);
MLflow executes it when the model loads, and :func:`mlflow.models.set_model` at the bottom
hands it the :class:`MovieRagModel`. The model config (:class:`mlflow.models.ModelConfig`)
holds the settings values (never a secret: those come from the serving environment), the
artifacts hold what the chain reads:

- ``movies_info``: the catalogue as parquet (title and people lookups);
- ``index`` (local flavour): the live version of the local vector index;
- ``collab`` (either flavour, when the build trained one): the live version of the
  collaborative model (co-likes, ALS factors, MovieLens histories), so the served chain
  ranks and personalises like ``RecommenderChain.from_settings``;
- ``model_card``: the model card (data licences).

So a local-flavour model answers without a workdir, without Spark; a Databricks-flavour
model queries the Vector Search index its resources declare.

Personalisation: a numeric ``user_id`` names a MovieLens user whose ratings travel in the
``collab`` artifact. UI thumbs live in a workdir's feedback log, which the served model
reads only when the serving environment configures a workdir (``MOVIE_RAG_WORKDIR``);
otherwise only MovieLens histories count.

The I/O contract is described in :mod:`movie_rag.publish._io`. Each request is appended to
the inference log named by ``MOVIE_RAG_INFERENCE_LOG_DIR`` when that is set.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelConfig, set_model
from mlflow.protos.databricks_pb2 import (
    DEADLINE_EXCEEDED,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
)
from mlflow.pyfunc import PythonModel, PythonModelContext

from movie_rag.chain.types import RecommendationRequest
from movie_rag.errors import DataValidationError
from movie_rag.index.manager import VectorIndexManager
from movie_rag.privacy import redact_pii, redact_value
from movie_rag.publish._io import (
    RequestError,
    ServedRequest,
    chat_completion,
    client_request_id_of,
    dataframe_predictions,
    parse_request,
    request_kind,
    request_record,
)
from movie_rag.publish.inference_log import InferenceLog, InferenceRecord

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.index.base import SearchHit

__all__ = ["REQUEST_TIMEOUT_ENV", "SERVED_MODEL_URI_ENV", "MovieRagModel", "build_chain"]

logger = logging.getLogger("movie_rag")

#: Environment variable through which a server tells the model which URI it serves.
SERVED_MODEL_URI_ENV = "MOVIE_RAG_SERVED_MODEL_URI"

#: Environment variable with the seconds one request may take in the model; past it the
#: model stops working on the request (between chain steps and rows) and answers 504.
REQUEST_TIMEOUT_ENV = "MOVIE_RAG_REQUEST_TIMEOUT"


class RequestTimeout(Exception):
    """A request ran past its deadline; the model stopped working on it."""


def build_chain(config: Mapping[str, Any], artifacts: Mapping[str, str]) -> RecommenderChain:
    """The RecommenderChain a model config and its artifacts describe.

    Args:
        config: The model config: ``flavour`` (``local`` or ``databricks``), ``settings``
            (MovieRagSettings values without secrets), ``tracing``.
        artifacts: Local paths of the model's artifacts (``movies_info``; ``index`` for
            the local flavour; ``collab`` when the published workdir had a collaborative
            model: without it the chain ranks on content alone).

    Returns:
        A ready chain; secrets (LLM key, workspace token) come from the environment. UI
        feedback is read from the workdir's feedback log only when the environment sets
        one (``MOVIE_RAG_WORKDIR``): the logged config never carries the publisher's workdir.
    """
    from movie_rag.chain.assembly import assemble_chain
    from movie_rag.chain.catalogue import Catalogue
    from movie_rag.chain.safety import register_settings_secrets
    from movie_rag.settings import MovieRagSettings
    from movie_rag.tables import read_local_table

    settings = MovieRagSettings(**dict(config.get("settings") or {}))
    # The serving environment's keys and tokens never appear in an answer or the log.
    register_settings_secrets(settings)
    manager_class = _TracedIndexManager if config.get("tracing") else VectorIndexManager
    if config.get("flavour", "local") == "local":
        from movie_rag.index.embeddings import ENCODER_DIR, LocalEmbeddings
        from movie_rag.index.local import LocalVectorIndex

        # Serving only reads: no embedding cache to consult or fill.
        # The ONNX export travels in the index artifact: queries are encoded without torch.
        encoder = LocalEmbeddings(
            onnx_dir=Path(artifacts["index"]) / ENCODER_DIR,
            backend=settings.embedding_backend,
            query_int8=settings.embedding_query_int8,
        )
        index = LocalVectorIndex(artifacts["index"], encoder, use_cache=False)
        manager = manager_class(settings, index=index)
    else:
        manager = manager_class(settings)
    collab = None
    if "collab" in artifacts and settings.collab_enabled:
        from movie_rag.collab.model import CollaborativeModel

        collab = CollaborativeModel.load(artifacts["collab"])
    feedback = None
    if "workdir" in settings.model_fields_set:
        from movie_rag.feedback.local import LocalFeedbackStore

        feedback = LocalFeedbackStore(settings.workdir)
    return assemble_chain(
        settings,
        index=manager,
        catalogue=Catalogue(read_local_table(artifacts["movies_info"])),
        collab=collab,
        feedback=feedback,
    )


class MovieRagModel(PythonModel):
    """Movie recommendations over HTTP: the original UI's contract, JSON and chat."""

    chain: RecommenderChain
    model_name: str = "movie_rag"
    tracing: bool = False
    inference_log: InferenceLog | None = None
    served_uri: str = ""
    request_timeout: float | None = None

    def load_context(self, context: PythonModelContext) -> None:
        """Build the chain from the model config and artifacts, and warm it up."""
        config = ModelConfig(development_config=context.model_config).to_dict()
        self.chain = build_chain(config, context.artifacts)
        self.model_name = str(config.get("model_name") or "movie_rag")
        self.tracing = bool(config.get("tracing"))
        self.inference_log = InferenceLog.from_env()
        self.served_uri = os.environ.get(SERVED_MODEL_URI_ENV, "")
        self.request_timeout = _timeout_from_env()
        if config.get("warmup"):
            # Loads the embedding model and the index now, so that the server reports
            # ready only when the first request will be answered at full speed.
            self.chain.invoke({"query": "a good movie", "k": 1})

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Answer a dataframe request (one prediction per row) or a chat request.

        Raises:
            MlflowException: ``INVALID_PARAMETER_VALUE`` (HTTP 400) for a payload that breaks
                the contract (too long, too many rows, bad fields), with what to send
                instead; ``DEADLINE_EXCEEDED`` (HTTP 504) when the request ran past
                ``MOVIE_RAG_REQUEST_TIMEOUT`` (the work stops there); ``INTERNAL_ERROR``
                (HTTP 500) when the chain fails.
        """
        started = time.perf_counter()
        timestamp_ms = int(time.time() * 1000)
        request_id = uuid.uuid4().hex
        kind, client_request_id = request_kind(model_input), client_request_id_of(params)
        deadline = started + self.request_timeout if self.request_timeout else None
        status, body = 200, None
        try:
            request = parse_request(model_input, params)
            body = self._answer(request, request_id, deadline)
            return body
        except (RequestError, DataValidationError) as exc:
            status = 400
            # Error messages may quote what was sent: no personal data in them either.
            message = redact_pii(str(exc))
            error = MlflowException(message, error_code=INVALID_PARAMETER_VALUE)
            body = {"error_code": "INVALID_PARAMETER_VALUE", "message": message}
            raise error from None
        except RequestTimeout as exc:
            status = 504
            message = str(exc)
            body = {"error_code": "DEADLINE_EXCEEDED", "message": message}
            logger.warning("request %s: %s", request_id, message)
            raise MlflowException(message, error_code=DEADLINE_EXCEEDED) from None
        except Exception as exc:
            status = 500
            logger.exception("request %s failed", request_id)
            message = redact_pii(f"the model failed to answer ({type(exc).__name__}: {exc})")
            body = {"error_code": "INTERNAL_ERROR", "message": message}
            raise MlflowException(message, error_code=INTERNAL_ERROR) from None
        finally:
            self._record(
                InferenceRecord(
                    request_id=request_id,
                    client_request_id=redact_pii(client_request_id)
                    if client_request_id is not None
                    else None,
                    timestamp_ms=timestamp_ms,
                    status_code=status,
                    execution_time_ms=round((time.perf_counter() - started) * 1000),
                    # Like the chain, the log never keeps e-mails, phone numbers and such.
                    request=request_record(model_input, params, redact=redact_pii),
                    response=json.dumps(
                        body if kind == "chat" or status != 200 else {"predictions": body},
                        ensure_ascii=False,
                        default=str,
                    ),
                    request_metadata={
                        "kind": kind,
                        "model_name": self.model_name,
                        "model_uri": self.served_uri,
                    },
                )
            )

    def _answer(self, request: ServedRequest, request_id: str, deadline: float | None) -> Any:
        responses = []
        for number, chain_input in enumerate(request.inputs, start=1):
            where = "the chat request" if request.kind == "chat" else f"row {number}"
            try:
                with self._span(chain_input) as record:
                    response = self._invoke(chain_input, deadline, where)
                    record(response)
            except DataValidationError as exc:
                raise RequestError(f"{where}: {exc}") from None
            responses.append(response)
        if request.kind == "chat":
            return chat_completion(responses[0], request_id=request_id, model=self.model_name)
        return dataframe_predictions(responses, request.format)

    def _invoke(self, chain_input: Mapping[str, Any], deadline: float | None, where: str) -> Any:
        """The chain's answer, stopping between its steps once the deadline has passed."""
        request = RecommendationRequest.from_input(chain_input)
        if deadline is None:
            return self.chain.invoke(request)
        response = None
        for event in self.chain.stream_progress(request):
            if time.perf_counter() > deadline:
                raise RequestTimeout(
                    f"{where}: answering took longer than {self.request_timeout:g} s; "
                    "the request was stopped (ask a shorter question or fewer rows)"
                )
            if event["event"] == "done":
                response = event["data"]
        return response

    @contextmanager
    def _span(self, chain_input: Mapping[str, Any]) -> Iterator[Any]:
        if not self.tracing:
            yield lambda response: None
            return
        with mlflow.start_span(name="recommend", span_type="CHAIN") as span:
            # Traces are kept and shown in the MLflow UI: inputs and outputs both redacted.
            span.set_inputs(redact_value(dict(chain_input)))
            yield lambda response: span.set_outputs(redact_value(response.model_dump(mode="json")))

    def _record(self, record: InferenceRecord) -> None:
        if self.inference_log is None:
            return
        try:
            self.inference_log.append(record)
        except OSError:
            # A full or read-only disk must not turn answered requests into failures.
            logger.exception("could not append to %s", self.inference_log)


class _TracedIndexManager(VectorIndexManager):
    """The index manager with a retriever span (MLflow's default retriever schema) per search."""

    def search(
        self, query: str, k: int = 10, filters: Any = None, **kwargs: Any
    ) -> list[SearchHit]:
        with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": redact_pii(query), "k": k})
            hits = super().search(query, k, filters, **kwargs)
            span.set_outputs(_documents(hits))
        return hits

    def similar_to(self, movie_id: int, k: int = 10, filters: Any = None) -> list[SearchHit]:
        with mlflow.start_span(name="retrieve_similar", span_type="RETRIEVER") as span:
            span.set_inputs({"movie_id": movie_id, "k": k})
            hits = super().similar_to(movie_id, k, filters)
            span.set_outputs(_documents(hits))
        return hits


def _timeout_from_env() -> float | None:
    value = os.environ.get(REQUEST_TIMEOUT_ENV, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        logger.warning(
            "%s=%r is not a number of seconds; no request deadline", REQUEST_TIMEOUT_ENV, value
        )
        return None
    return seconds if seconds > 0 else None


def _documents(hits: list[SearchHit]) -> list[dict[str, Any]]:
    return [
        {
            "page_content": str(hit.metadata.get("document") or hit.metadata.get("title", "")),
            "metadata": {
                "doc_uri": hit.metadata.get("url"),
                "title": hit.metadata.get("title"),
                "score": hit.score,
            },
            "id": str(hit.movie_id),
        }
        for hit in hits
    ]


set_model(MovieRagModel())
