"""The served movie_rag model as an MLflow ``ResponsesAgent`` (the agent interface).

:class:`~movie_rag.publish.publisher.ModelPublisher` logs this file instead of
``model.py`` when ``settings.serving_interface`` is ``"responses"``. AI Playground, the
Review App and ``databricks.agents.deploy`` speak this interface: a request carries
``input`` messages (the conversation, the user's question last), the answer is one
assistant output message, and the structured answer (recommendations with title, year,
url, ...) travels in ``custom_outputs``. ``custom_inputs`` may carry ``k``, ``user_id`` and
``filters``, like the columns of the dataframe contract.

Underneath there is one code path: the conversation is read by the same parser as the
dataframe model's chat requests (:func:`movie_rag.publish._io.parse_request`) and answered by
the same chain (:func:`movie_rag.publish.model.build_chain`). MLflow traces every ``predict``
of a ``ResponsesAgent`` itself (an AGENT span).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlflow.exceptions import MlflowException
from mlflow.models import ModelConfig, set_model
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModelContext, ResponsesAgent
from mlflow.types.responses import ResponsesAgentRequest, ResponsesAgentResponse

from movie_rag.errors import DataValidationError
from movie_rag.publish._io import RequestError, parse_request

if TYPE_CHECKING:
    from movie_rag.chain.recommender import RecommenderChain

__all__ = ["MovieRagAgent", "chat_messages", "responses_input_example"]


def responses_input_example() -> dict[str, Any]:
    """The input example logged with the agent (a ``ResponsesAgentRequest``)."""
    return {
        "input": [
            {
                "role": "user",
                "content": "I liked 'Jurassic Park'. Can you suggest some movies similar?",
            }
        ],
        "custom_inputs": {"k": 3},
    }


def chat_messages(request: ResponsesAgentRequest) -> list[dict[str, Any]]:
    """The request's conversation as ``{role, content[, recommendations]}`` chat messages.

    Message content may be a string or a list of content parts (``input_text`` /
    ``output_text``); the parts' text is joined. Items that are not messages (tool calls and
    their outputs) carry nothing this model reads and are skipped. An assistant message that
    a client sends back with this model's ``custom_outputs`` keeps its recommendations, so
    follow-up questions ("more like the second one") work as in the chat contract.

    Raises:
        RequestError: A message has no role or content this model can read.
    """
    messages: list[dict[str, Any]] = []
    for number, item in enumerate(request.input):
        data = item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else dict(item)
        kind = data.get("type", "message")
        if kind != "message" or "role" not in data:
            continue
        content = data.get("content")
        if isinstance(content, list):
            texts = [
                str(part.get("text") or "")
                for part in content
                if isinstance(part, Mapping) and part.get("type") in ("input_text", "output_text")
            ]
            content = "\n".join(text for text in texts if text)
        if content is not None and not isinstance(content, str):
            raise RequestError(f"input[{number}]: 'content' must be text or text parts")
        message: dict[str, Any] = {"role": data["role"], "content": content or ""}
        recommendations = (data.get("custom_outputs") or {}).get("recommendations")
        if data["role"] == "assistant" and isinstance(recommendations, list):
            message["recommendations"] = recommendations
        messages.append(message)
    return messages


class MovieRagAgent(ResponsesAgent):
    """Movie recommendations through MLflow's ``ResponsesAgent`` interface."""

    chain: RecommenderChain
    model_name: str = "movie_rag"

    def load_context(self, context: PythonModelContext) -> None:
        """Build the chain from the model config and artifacts (as the dataframe model does)."""
        from movie_rag.publish.model import build_chain

        config = ModelConfig(development_config=context.model_config).to_dict()
        self.chain = build_chain(config, context.artifacts)
        self.model_name = str(config.get("model_name") or "movie_rag")
        if config.get("warmup"):
            self.chain.invoke({"query": "a good movie", "k": 1})

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:  # type: ignore[override]
        """Answer the conversation's last user message.

        Raises:
            MlflowException: ``INVALID_PARAMETER_VALUE`` (HTTP 400) for a request that breaks
                the contract (no user question last, a bad ``k``), naming what to send.
        """
        custom = dict(request.custom_inputs or {})
        try:
            served = parse_request(
                {"messages": chat_messages(request)}
                | {key: custom[key] for key in ("k", "user_id", "filters") if key in custom}
            )
            response = self.chain.invoke(served.inputs[0])
        except (RequestError, DataValidationError) as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None
        structured = response.model_dump(mode="json")
        item = self.create_text_output_item(text=response.answer, id=f"msg_{uuid.uuid4().hex}")
        return ResponsesAgentResponse(output=[item], custom_outputs=structured)


set_model(MovieRagAgent())
