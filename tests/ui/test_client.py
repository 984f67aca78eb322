"""The endpoint client against a served model on loopback: both payload styles, errors."""

from __future__ import annotations

import json
import socket

import pytest

from emulators.model_invocations import ModelInvocationsEmulator
from movie_rag.chain.recommender import RecommenderChain
from movie_rag.errors import ConfigurationError
from movie_rag.ui.client import EndpointClient, EndpointError

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def sent(emulator: ModelInvocationsEmulator, number: int = -1) -> dict[str, object]:
    return json.loads(emulator.requests[number]["raw"])


def test_structured_answers_carry_cards_filters_and_user(
    endpoint: ModelInvocationsEmulator,
) -> None:
    client = EndpointClient(endpoint.url, endpoint.token)
    response = client.ask(
        "something to watch tonight", filters={"genres_any": ["Horror"]}, user_id="ana", k=3
    )
    assert client.structured is True
    assert len(response.recommendations) == 3
    assert all("Horror" in r.genres for r in response.recommendations)
    assert all(
        r.url and r.url.startswith("https://www.imdb.com/") for r in response.recommendations
    )
    assert response.filters["genres_any"] == ["Horror"]
    body = sent(endpoint)
    assert body["params"] == {"format": "json"}
    split = body["dataframe_split"]
    assert split["columns"] == ["query", "user_id", "filters", "k"]
    assert split["data"][0][1] == "ana"
    assert json.loads(split["data"][0][2]) == {"genres_any": ["Horror"]}
    assert endpoint.requests[-1]["headers"]["Authorization"] == f"Bearer {endpoint.token}"


def test_the_mlflow_route_needs_no_token(endpoint: ModelInvocationsEmulator) -> None:
    response = EndpointClient(endpoint.mlflow_url).ask("I liked 'Jurassic Park'. Anything similar?")
    assert response.recommendations
    assert "Authorization" not in endpoint.requests[-1]["headers"]


def test_a_conversation_goes_as_a_chat_request_once_the_endpoint_is_structured(
    endpoint: ModelInvocationsEmulator,
) -> None:
    client = EndpointClient(endpoint.url, endpoint.token)
    first = client.ask("I liked 'Jurassic Park'. Anything similar?", k=3)
    history = [
        {"role": "user", "content": first.query},
        {
            "role": "assistant",
            "content": first.answer,
            "recommendations": [r.movie_id for r in first.recommendations],
        },
    ]
    second = client.ask("show me more", history=history, k=3)
    body = sent(endpoint)
    assert body["messages"][-1] == {"role": "user", "content": "show me more"}
    assert body["messages"][1]["recommendations"] == history[1]["recommendations"]
    shown = {r.movie_id for r in first.recommendations}
    assert second.recommendations
    assert not shown & {r.movie_id for r in second.recommendations}


def test_the_original_text_only_endpoint_gives_plain_answers(chain: RecommenderChain) -> None:
    with ModelInvocationsEmulator(chain, text_only=True) as endpoint:
        client = EndpointClient(endpoint.url, endpoint.token)
        response = client.ask("Suggest me the best horror movie, that can scare anyone.")
        assert client.structured is False
        assert response.recommendations == []
        assert len(response.answer) > 40
        # Known to answer text: later questions skip the structured attempt.
        client.ask("a comedy", history=[{"role": "user", "content": "hi"}])
        assert "params" not in sent(endpoint)
        assert "messages" not in sent(endpoint)


def test_a_query_only_schema_falls_back_to_the_original_payload(chain: RecommenderChain) -> None:
    with ModelInvocationsEmulator(chain, query_column_only=True, text_only=True) as endpoint:
        client = EndpointClient(endpoint.url, endpoint.token)
        response = client.ask("a comedy", user_id="ana", filters={"min_rating": 7})
        assert len(response.answer) > 20
        assert [r["status"] for r in endpoint.requests] == [400, 200]
        assert sent(endpoint) == {"dataframe_split": {"columns": ["query"], "data": [["a comedy"]]}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_endpoint_down_is_unreachable() -> None:
    client = EndpointClient(f"http://127.0.0.1:{free_port()}/invocations")
    with pytest.raises(EndpointError, match="not reachable") as caught:
        client.ask("a comedy")
    assert caught.value.kind == "unreachable"
    assert "Traceback" not in str(caught.value)


def test_a_slow_endpoint_times_out(endpoint: ModelInvocationsEmulator) -> None:
    endpoint.fail(0, delay=2.0)
    with pytest.raises(EndpointError, match=r"longer than 0\.5 s") as caught:
        EndpointClient(endpoint.url, endpoint.token, timeout=0.5).ask("a comedy")
    assert caught.value.kind == "timeout"


@pytest.mark.parametrize(
    ("token", "name", "kind", "message"),
    [
        (None, "movie_rag", "auth", "API_TOKEN"),
        ("dapi-wrong", "movie_rag", "auth", r"HTTP 403.*API_TOKEN"),
        (True, "no_such_endpoint", "not_found", "endpoint name in API_END_POINT"),
    ],
)
def test_auth_and_naming_errors_say_what_to_check(
    endpoint: ModelInvocationsEmulator, token: object, name: str, kind: str, message: str
) -> None:
    url = endpoint.url.replace("/movie_rag/", f"/{name}/")
    client = EndpointClient(url, endpoint.token if token is True else token)  # type: ignore[arg-type]
    with pytest.raises(EndpointError, match=message) as caught:
        client.ask("a comedy")
    assert caught.value.kind == kind


def test_a_bad_request_names_the_problem(endpoint: ModelInvocationsEmulator) -> None:
    client = EndpointClient(endpoint.url, endpoint.token)
    client.ask("a comedy")  # the endpoint is known to be structured
    with pytest.raises(EndpointError, match=r"HTTP 400\).*year_min") as caught:
        client.ask("a comedy", filters={"year_min": 2000, "year_max": 1990})
    assert caught.value.kind == "bad_request"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_ask_to_try_again(endpoint: ModelInvocationsEmulator, status: int) -> None:
    message = f"had a problem \\(HTTP {status}\\)"
    with endpoint.failing(status), pytest.raises(EndpointError, match=message) as caught:
        EndpointClient(endpoint.url, endpoint.token).ask("a comedy")
    assert caught.value.kind == "server" and caught.value.status == status


def test_only_http_urls_are_endpoints() -> None:
    for url in ("", "localhost:5000", "ftp://host/x", "file:///etc/passwd"):
        with pytest.raises(ConfigurationError, match="http"):
            EndpointClient(url)
