"""The registered model behind a real ``mlflow models serve`` on loopback, end to end."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from publish_helpers import post

from movie_rag.chain.types import RecommendationResponse
from movie_rag.publish import InferenceLog, LocalServer, ModelPublisher

pytestmark = [pytest.mark.spark, pytest.mark.slow]

EXAMPLE_QUESTIONS = [
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
]


QUERY_WITH_EMAIL = "a space opera, tell me at jane.doe@example.com"


def invocations(server: LocalServer) -> str:
    return f"{server.url}/invocations"


def test_dataframe_split_answers_one_string_per_question(server: LocalServer) -> None:
    body = {"dataframe_split": {"columns": ["query"], "data": [[q] for q in EXAMPLE_QUESTIONS]}}
    status, reply = post(invocations(server), body)
    assert status == 200
    assert list(reply) == ["predictions"]
    answers = reply["predictions"]
    assert len(answers) == 4
    assert all(isinstance(a, str) and len(a) > 40 for a in answers)
    assert "Jurassic" in answers[1] or "Lost World" in answers[1]
    assert "couldn't find" not in answers[1]


def test_records_with_k_filters_and_user_id_as_json(server: LocalServer) -> None:
    row = {"query": "horror movies", "k": 2, "filters": '{"year_min": 1990}', "user_id": 7}
    status, reply = post(
        invocations(server), {"dataframe_records": [row], "params": {"format": "json"}}
    )
    assert status == 200
    (prediction,) = reply["predictions"]
    response = RecommendationResponse.model_validate(prediction)
    assert len(response.recommendations) == 2
    assert all(r.year is not None and r.year >= 1990 for r in response.recommendations)
    assert all("Horror" in r.genres for r in response.recommendations)
    assert response.filters["year_min"] == 1990
    assert response.filters["genres_any"] == ["Horror"]


def test_json_format_carries_the_same_answer_as_text(server: LocalServer) -> None:
    rows = [{"query": "a comedy from the 90s", "k": 3}]
    _, text = post(invocations(server), {"dataframe_records": rows})
    _, structured = post(
        invocations(server), {"dataframe_records": rows, "params": {"format": "json"}}
    )
    assert structured["predictions"][0]["answer"] == text["predictions"][0]


def test_chat_reply_and_a_follow_up_that_uses_the_history(server: LocalServer) -> None:
    question = {"role": "user", "content": "I liked 'Jurassic Park'. Anything similar?"}
    status, first = post(invocations(server), {"messages": [question], "k": 3})
    assert status == 200
    assert first["object"] == "chat.completion" and first["id"].startswith("chatcmpl-")
    (choice,) = first["choices"]
    message = choice["message"]
    assert message["role"] == "assistant" and message["content"]
    shown = message["recommendations"]
    assert len(shown) == 3
    assert [r["movie_id"] for r in first["custom_outputs"]["recommendations"]] == shown

    follow_up = {"role": "user", "content": "more like the second one"}
    status, second = post(invocations(server), {"messages": [question, message, follow_up], "k": 3})
    assert status == 200
    again = second["choices"][0]["message"]["recommendations"]
    assert len(again) == 3
    assert not set(again) & set(shown)  # what was shown is not shown again
    # Without the history the same words mean nothing in particular.
    _, alone = post(invocations(server), {"messages": [follow_up], "k": 3})
    assert alone["choices"][0]["message"]["recommendations"] != again


BAD_PAYLOADS = [
    ({"dataframe_records": [{"k": 2}]}, "row 1: 'query' is missing"),
    (
        {"dataframe_split": {"columns": ["query", "k"], "data": [["a", 2], ["b", 500]]}},
        "row 2: 'k' must be a whole number between 1 and 50, got 500",
    ),
    ({"dataframe_records": [{"query": "x", "filters": "{not json"}]}, "field 'filters': not JSON"),
    ({"dataframe_records": [{"query": "x"}], "params": {"format": "xml"}}, "params.format"),
    ({"messages": []}, "'messages' must be a non-empty list"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, "last message must be the user's"),
    ({"messages": [{"role": "user", "content": "hi", "tool_calls": []}]}, "tool_calls"),
    ({"dataframe_records": [{"query": 5}]}, "row 1: 'query' must be a string, got int"),
    ({"hello": "world"}, "exactly one of the input fields"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_PAYLOADS)
def test_bad_payloads_get_400_with_a_clear_message(
    server: LocalServer, payload: dict, message: str
) -> None:
    status, reply = post(invocations(server), payload)
    assert status == 400, reply
    assert message in reply["message"]
    assert reply["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST")


def test_malformed_json_is_a_400_and_the_server_keeps_answering(server: LocalServer) -> None:
    status, reply = post(invocations(server), None, raw=b'{"dataframe_records": [')
    assert status == 400
    assert "valid JSON" in reply["message"]
    with urllib.request.urlopen(f"{server.url}/ping", timeout=10) as ping:
        assert ping.status == 200
    status, _ = post(invocations(server), {"dataframe_records": [{"query": "a western"}]})
    assert status == 200
    assert server.running


def test_every_request_that_reaches_the_model_is_logged(
    server: LocalServer, publisher: ModelPublisher
) -> None:
    log = InferenceLog(publisher.workdir.inference_logs)
    before = log.read().num_rows
    ids = {kind: f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("ok", "bad", "chat")}

    def tagged(params_id: str) -> dict[str, str]:
        return {"client_request_id": params_id}

    post(
        invocations(server),
        {"dataframe_records": [{"query": QUERY_WITH_EMAIL}], "params": tagged(ids["ok"])},
    )
    post(
        invocations(server),
        {"dataframe_records": [{"query": "x", "k": 0}], "params": tagged(ids["bad"])},
    )
    # In a chat request, params sit at the top level beside the messages.
    post(
        invocations(server),
        {"messages": [{"role": "user", "content": "a heist"}], **tagged(ids["chat"])},
    )

    table = log.read()
    assert table.num_rows == before + 3
    rows = {r["client_request_id"]: r for r in table.to_pylist() if r["client_request_id"]}
    ok, bad, chat = rows[ids["ok"]], rows[ids["bad"]], rows[ids["chat"]]
    assert (ok["status_code"], bad["status_code"], chat["status_code"]) == (200, 400, 200)
    assert json.loads(ok["request"])["dataframe_records"] == [
        {"query": "a space opera, tell me at [email]"}
    ]
    logged = "".join(p.read_text() for p in log.files())
    assert "jane.doe@example.com" not in logged
    assert len(json.loads(ok["response"])["predictions"]) == 1
    assert "'k' must be a whole number" in json.loads(bad["response"])["message"]
    assert json.loads(chat["response"])["object"] == "chat.completion"
    assert json.loads(chat["request"])["messages"][0]["content"] == "a heist"
    today = datetime.now(UTC).date()
    for row in (ok, bad, chat):
        assert row["date"] == today
        assert row["execution_time_ms"] >= 0
        metadata = dict(row["request_metadata"])
        assert metadata["model_uri"] == "models:/movie_rag@champion"
    assert dict(chat["request_metadata"])["kind"] == "chat"
    assert dict(ok["request_metadata"])["kind"] == "dataframe"


def test_requests_after_the_first_are_quick(server: LocalServer) -> None:
    body = {"dataframe_records": [{"query": "a feel-good comedy to watch with friends"}]}
    post(invocations(server), body)
    seconds = []
    for _ in range(10):
        started = time.perf_counter()
        status, _ = post(invocations(server), body)
        seconds.append(time.perf_counter() - started)
        assert status == 200
    # Generous for a loaded CI machine; a model reloaded per request takes seconds.
    assert statistics.median(seconds) < 1.5, seconds
