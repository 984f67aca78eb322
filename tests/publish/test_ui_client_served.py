"""The chat UI's endpoint client against the real ``mlflow models serve`` of the sample."""

from __future__ import annotations

import pytest

from movie_rag.publish import LocalServer
from movie_rag.ui.app import _Handlers
from movie_rag.ui.backends import RemoteBackend
from movie_rag.ui.client import EndpointClient, EndpointError

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_cards_filters_and_follow_ups_through_the_served_model(server: LocalServer) -> None:
    client = EndpointClient(f"{server.url}/invocations")
    first = client.ask(
        "I liked 'Jurassic Park'. Can you suggest some movies similar?", user_id="ana", k=3
    )
    assert client.structured is True
    assert len(first.recommendations) == 3
    assert all(r.url and r.url.startswith("https://www.imdb.com/") for r in first.recommendations)
    horror = client.ask("something for tonight", filters={"genres_any": ["Horror"]}, k=3)
    assert horror.recommendations and all("Horror" in r.genres for r in horror.recommendations)
    history = [
        {"role": "user", "content": first.query},
        {
            "role": "assistant",
            "content": first.answer,
            "recommendations": [r.movie_id for r in first.recommendations],
        },
    ]
    more = client.ask("show me more", history=history, k=3)  # a chat request
    assert more.recommendations
    assert not {r.movie_id for r in first.recommendations} & {
        r.movie_id for r in more.recommendations
    }


def test_the_chat_renders_the_served_answer_as_cards(server: LocalServer) -> None:
    handlers = _Handlers(RemoteBackend(EndpointClient(f"{server.url}/invocations")), None, k=3)
    steps = list(
        handlers.respond(
            "Suggest me the best horror movie, that can scare anyone.",
            [],
            "ana",
            [],
            1900,
            2026,
            0,
        )
    )
    messages, _, box = steps[-1]
    assert box == ""
    # One message for the answer, holding its three cards.
    assert [m["content"].count('class="movie-card"') for m in messages] == [0, 3]


def test_a_bad_request_from_the_real_server_is_a_short_message(server: LocalServer) -> None:
    client = EndpointClient(f"{server.url}/invocations")
    client.ask("a comedy", k=1)
    with pytest.raises(EndpointError, match=r"HTTP 400\).*year_min") as caught:
        client.ask("a comedy", filters={"year_min": 2000, "year_max": 1990})
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) < 260
