"""The ResponsesAgent interface of the served model, next to the dataframe contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from publish_helpers import publisher_settings

from movie_rag.publish import ModelPublisher, RegisteredVersion

pytestmark = [pytest.mark.spark, pytest.mark.slow]

QUESTION = "I liked 'Jurassic Park'. Can you suggest some movies similar?"


@pytest.fixture(scope="module")
def agent_version(sample_workdir: Path) -> RegisteredVersion:
    publisher = ModelPublisher(publisher_settings(sample_workdir, serving_interface="responses"))
    return publisher.publish("movie_rag_agent", "champion")


@pytest.fixture(scope="module")
def agent(sample_workdir: Path, agent_version: RegisteredVersion):
    import mlflow.pyfunc

    publisher = ModelPublisher(publisher_settings(sample_workdir, serving_interface="responses"))
    with publisher.tracking():
        return mlflow.pyfunc.load_model(agent_version.model_uri)


def test_the_agent_is_logged_with_the_responses_agent_signature(agent) -> None:
    signature = agent.metadata.signature
    assert signature is not None
    assert "input" in signature.inputs.input_names()
    from mlflow.pyfunc import ResponsesAgent

    python_model = agent._model_impl.responses_agent
    assert isinstance(python_model, ResponsesAgent)
    assert type(python_model).__name__ == "MovieRagAgent"
    assert agent.metadata.metadata["flavour"] == "local"


def test_input_messages_in_one_output_message_out_recommendations_in_custom_outputs(
    agent,
) -> None:
    reply = agent.predict({"input": [{"role": "user", "content": QUESTION}]})
    [message] = reply["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    [part] = message["content"]
    assert part["type"] == "output_text"
    recommendations = reply["custom_outputs"]["recommendations"]
    assert recommendations, reply
    assert part["text"] == reply["custom_outputs"]["answer"]
    assert all(r["title"] != "Jurassic Park" for r in recommendations)
    # The answer names what it recommends.
    assert recommendations[0]["title"] in part["text"]


def test_custom_inputs_carry_k_and_content_parts_are_read(agent) -> None:
    reply = agent.predict(
        {
            "input": [
                {"role": "system", "content": "You recommend movies."},
                {"role": "user", "content": [{"type": "input_text", "text": "a horror movie"}]},
            ],
            "custom_inputs": {"k": 2},
        }
    )
    recommendations = reply["custom_outputs"]["recommendations"]
    assert len(recommendations) == 2
    assert all("Horror" in r["genres"] for r in recommendations)


def test_a_follow_up_uses_the_recommendations_sent_back(agent) -> None:
    first = agent.predict({"input": [{"role": "user", "content": "a horror movie"}]})
    shown = [r["movie_id"] for r in first["custom_outputs"]["recommendations"]]
    follow_up = agent.predict(
        {
            "input": [
                {"role": "user", "content": "a horror movie"},
                {**first["output"][0], "custom_outputs": first["custom_outputs"]},
                {"role": "user", "content": "more like the first one"},
            ]
        }
    )
    again = [r["movie_id"] for r in follow_up["custom_outputs"]["recommendations"]]
    assert again and shown[0] not in again


def test_a_request_without_a_user_question_is_a_400_naming_the_rule(agent) -> None:
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="last message must be the user's question") as info:
        agent.predict({"input": [{"role": "assistant", "content": "hello"}]})
    assert info.value.get_http_status_code() == 400
    with pytest.raises(MlflowException, match="'k' must be a whole number"):
        agent.predict(
            {"input": [{"role": "user", "content": QUESTION}], "custom_inputs": {"k": 500}}
        )


def test_one_code_path_the_dataframe_model_answers_the_same(
    agent, publisher: ModelPublisher, champion: RegisteredVersion
) -> None:
    import mlflow.pyfunc
    import pandas as pd

    with publisher.tracking():
        model = mlflow.pyfunc.load_model(champion.model_uri)
    [dataframe_answer] = model.predict(
        pd.DataFrame({"query": [QUESTION], "k": [4]}), params={"format": "json"}
    )
    reply = agent.predict(
        {"input": [{"role": "user", "content": QUESTION}], "custom_inputs": {"k": 4}}
    )
    ids = [r["movie_id"] for r in reply["custom_outputs"]["recommendations"]]
    assert ids == [r["movie_id"] for r in dataframe_answer["recommendations"]]
    assert reply["custom_outputs"]["answer"] == dataframe_answer["answer"]
