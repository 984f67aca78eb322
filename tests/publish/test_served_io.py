"""The served I/O contract: payloads as the scoring server hands them to predict, and replies."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from movie_rag.chain.types import Recommendation, RecommendationResponse
from movie_rag.publish._io import (
    MAX_ROWS,
    RequestError,
    chat_completion,
    dataframe_predictions,
    parse_request,
    request_kind,
    request_record,
)


def test_dataframe_rows_become_chain_inputs_with_optional_fields() -> None:
    frame = pd.DataFrame(
        {
            "query": ["horror from the 90s", "something like Heat"],
            "user_id": [42.0, np.nan],
            "filters": ['{"min_rating": 7}', None],
            "k": [3.0, np.nan],
        }
    )
    request = parse_request(frame, {"format": "text", "client_request_id": ""})
    assert request.kind == "dataframe"
    assert request.format == "text"
    assert request.client_request_id is None
    assert request.inputs == [
        {"query": "horror from the 90s", "user_id": "42", "filters": '{"min_rating": 7}', "k": 3},
        {"query": "something like Heat"},
    ]


def test_k_accepts_whole_numbers_in_any_json_form() -> None:
    for value, expected in [(5, 5), (5.0, 5), ("5", 5), (np.int64(7), 7), ("", None)]:
        request = parse_request(pd.DataFrame({"query": ["x"], "k": [value]}))
        assert request.inputs[0].get("k") == expected, value


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"k": 3}, "row 1: 'query' is missing"),
        ({"query": None}, "row 1: 'query' is missing"),
        ({"query": 12}, "'query' must be a string"),
        ({"query": "x", "k": 0}, "'k' must be a whole number between 1 and 50, got 0"),
        ({"query": "x", "k": 2.5}, "'k' must be a whole number"),
        ({"query": "x", "k": "many"}, "got 'many'"),
        ({"query": "x", "k": True}, "'k' must be a whole number"),
        ({"query": "x", "filters": ["Horror"]}, "'filters' must be a JSON object"),
        ({"query": "x", "user_id": {"id": 1}}, "'user_id' must be a string or a number"),
    ],
)
def test_bad_rows_are_refused_with_the_field_named(row: dict, message: str) -> None:
    with pytest.raises(RequestError, match=message.replace("(", r"\(")):
        parse_request([row])


def test_the_failing_row_is_named() -> None:
    with pytest.raises(RequestError, match="row 3: 'query' is missing"):
        parse_request(pd.DataFrame({"query": ["a", "b", None]}))


def test_format_and_row_limits() -> None:
    assert parse_request([{"query": "x"}], {"format": "json"}).format == "json"
    with pytest.raises(RequestError, match=r"params.format must be one of \['text', 'json'\]"):
        parse_request([{"query": "x"}], {"format": "xml"})
    with pytest.raises(RequestError, match=f"at most {MAX_ROWS} rows"):
        parse_request([{"query": "x"}] * (MAX_ROWS + 1))
    with pytest.raises(RequestError, match="no rows"):
        parse_request(pd.DataFrame({"query": []}))
    with pytest.raises(RequestError, match="expected rows or a chat request"):
        parse_request("just a string")


def test_chat_messages_become_query_and_history_with_movie_ids() -> None:
    frame = pd.DataFrame(
        [
            {
                "messages": [
                    {"role": "system", "content": "be nice"},
                    {"role": "user", "content": "something like Toy Story"},
                    {"role": "assistant", "content": "Try these", "recommendations": [2, 356]},
                    {"role": "user", "content": "more like the second one"},
                ],
                "k": 4,
            }
        ]
    )
    request = parse_request(frame, {"client_request_id": "abc-1"})
    assert request.kind == "chat"
    assert request.client_request_id == "abc-1"
    assert request.inputs == [
        {
            "query": "more like the second one",
            "k": 4,
            "history": [
                {"role": "user", "content": "something like Toy Story", "recommendations": []},
                {"role": "assistant", "content": "Try these", "recommendations": [2, 356]},
            ],
        }
    ]


def test_chat_history_may_carry_whole_recommendation_objects() -> None:
    request = parse_request(
        {
            "messages": [
                {"role": "user", "content": "a comedy"},
                {"role": "assistant", "content": "", "recommendations": [{"movie_id": 9}]},
                {"role": "user", "content": "more like that last one"},
            ]
        }
    )
    assert request.inputs[0]["history"][1]["recommendations"] == [9]


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([], "non-empty list"),
        ("hello", "non-empty list"),
        ([{"role": "robot", "content": "hi"}], "'role' must be one of"),
        ([{"role": "user", "content": 5}], "'content' must be a string"),
        ([{"role": "assistant", "content": "hi"}], "last message must be the user's question"),
        ([{"role": "user", "content": "   "}], "last message must be the user's question"),
        (
            [
                {"role": "assistant", "content": "x", "recommendations": ["Heat"]},
                {"role": "user", "content": "more"},
            ],
            "integer movie ids",
        ),
        ([{"role": "user", "content": "hi"}, 3], r"messages\[1\]: expected an object"),
    ],
)
def test_bad_chat_requests_are_refused(messages: object, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        parse_request({"messages": messages})


def _response() -> RecommendationResponse:
    return RecommendationResponse(
        query="a comedy",
        answer="Try Notting Hill.",
        filters={"genres_any": ["Comedy"]},
        recommendations=[
            Recommendation(movie_id=2671, title="Notting Hill", year=1999, genres=["Comedy"])
        ],
    )


def test_dataframe_predictions_are_text_or_response_objects() -> None:
    assert dataframe_predictions([_response()], "text") == ["Try Notting Hill."]
    (as_json,) = dataframe_predictions([_response()], "json")
    assert RecommendationResponse.model_validate(as_json) == _response()
    json.dumps(as_json)  # plain JSON types only


def test_chat_completion_is_openai_shaped_with_structured_extras() -> None:
    reply = chat_completion(_response(), request_id="r1", model="movie_rag")
    assert reply["id"] == "chatcmpl-r1"
    assert reply["object"] == "chat.completion"
    (choice,) = reply["choices"]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Try Notting Hill.",
        "recommendations": [2671],
    }
    assert choice["finish_reason"] == "stop"
    assert reply["custom_outputs"]["recommendations"][0]["title"] == "Notting Hill"
    # Sent back as history, the reply's own message is a valid turn.
    turns = [
        {"role": "user", "content": "a comedy"},
        choice["message"],
        {"role": "user", "content": "more like the first one"},
    ]
    follow_up = parse_request({"messages": turns})
    assert follow_up.inputs[0]["history"][1]["recommendations"] == [2671]


def test_request_record_keeps_what_was_sent_without_missing_cells() -> None:
    frame = pd.DataFrame({"query": ["a", "b"], "k": [3.0, np.nan]})
    record = json.loads(request_record(frame, {"format": "json"}))
    assert record == {
        "dataframe_records": [{"query": "a", "k": 3.0}, {"query": "b"}],
        "params": {"format": "json"},
    }
    chat = json.loads(request_record({"messages": [{"role": "user", "content": "hi"}]}, None))
    assert chat == {"messages": [{"role": "user", "content": "hi"}]}
    assert request_kind(frame) == "dataframe"
    assert request_kind({"messages": [{"role": "user", "content": "hi"}]}) == "chat"
    assert request_kind(42) == "unknown"


def test_request_record_redacts_free_text_when_asked() -> None:
    def shout(text: str) -> str:
        return text.upper()

    chat = {"messages": [{"role": "user", "content": "mail me"}, {"role": "x", "content": 3}]}
    record = json.loads(request_record(chat, None, redact=shout))
    assert record["messages"][0] == {"role": "user", "content": "MAIL ME"}
    assert record["messages"][1] == {"role": "x", "content": 3}
    rows = json.loads(request_record([{"query": "call me", "user_id": "u1"}], None, redact=shout))
    assert rows["dataframe_records"] == [{"query": "CALL ME", "user_id": "u1"}]
