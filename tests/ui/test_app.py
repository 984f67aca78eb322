"""The chat's handlers with real backends and sinks (no browser): streaming, errors, votes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from emulators.model_invocations import ModelInvocationsEmulator
from emulators.sql_statements import SqlStatementsEmulator
from movie_rag.chain.recommender import RecommenderChain
from movie_rag.feedback import LocalFeedbackStore
from movie_rag.settings import MovieRagSettings
from movie_rag.ui.app import (
    EMPTY_QUESTION,
    _Handlers,
    chat_messages,
    history_of,
)
from movie_rag.ui.backends import LocalBackend, RemoteBackend
from movie_rag.ui.client import EndpointClient
from movie_rag.ui.feedback import FeedbackRecorder

pytestmark = [pytest.mark.spark, pytest.mark.slow]

NO_FILTERS = ([], 1900, 2026, 0)


def cards_in(html: str) -> int:
    return html.count('<div class="movie-card">')


def card_vote(turn: int, card: int, vote: int) -> str:
    """What the page script sends when a card's thumb is clicked."""
    return json.dumps({"turn": turn, "card": card, "vote": vote})


def run(handlers: _Handlers, question: str, turns: list | None = None, *filters: object):
    return list(handlers.respond(question, turns or [], "ana", *(filters or NO_FILTERS)))


def test_cards_stream_one_by_one_and_the_box_clears(chain: RecommenderChain) -> None:
    handlers = _Handlers(LocalBackend(chain), None, k=3)
    steps = run(handlers, "I liked 'Jurassic Park'. Can you suggest some movies similar?")
    counts = [cards_in(messages[-1]["content"]) for messages, _, _ in steps]
    assert counts[0] == 0 and "Looking for movies" in steps[0][0][-1]["content"]
    assert counts[1:4] == [1, 2, 3]  # one more card per step, as the chain streams them
    messages, turns, box = steps[-1]
    assert box == ""
    assert all(box == steps[0][2] for _, _, box in steps[:-1])  # kept while answering
    # One answer is one message: its text and the grid of its cards.
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert all(len(step[0]) == 2 for step in steps)
    answer = messages[1]["content"]
    assert answer.startswith('<div class="movie-answer">') and cards_in(answer) == 3
    assert answer.count('class="movie-grid"') == 1
    assert "Jurassic Park" in answer.split('class="movie-grid"')[0]
    text = answer.split('class="movie-grid"')[0]
    assert "1. " not in text  # the list lives in the cards
    assert answer.count("/10</span>") == 3  # every card shows its rating
    assert len(turns[0]["recommendations"]) == 3


def test_sidebar_filters_reach_the_chain(chain: RecommenderChain) -> None:
    handlers = _Handlers(LocalBackend(chain), None, k=4)
    _, turns, _ = run(handlers, "something fun", None, ["Horror"], 1990, 2026, 0)[-1]
    recommendations = turns[0]["recommendations"]
    assert len(recommendations) == 4
    assert all("Horror" in r["genres"] and r["year"] >= 1990 for r in recommendations)


def test_follow_ups_send_the_conversation(chain: RecommenderChain) -> None:
    handlers = _Handlers(LocalBackend(chain), None, k=3)
    _, turns, _ = run(handlers, "I liked 'Jurassic Park'. Anything similar?")[-1]
    first = [r["movie_id"] for r in turns[0]["recommendations"]]
    assert history_of(turns)[1]["recommendations"] == first
    _, turns, _ = run(handlers, "show me more", turns)[-1]
    assert len(turns) == 2
    assert not set(first) & {r["movie_id"] for r in turns[1]["recommendations"]}


def test_an_empty_question_gets_a_short_message(chain: RecommenderChain) -> None:
    handlers = _Handlers(LocalBackend(chain), None, k=3)
    ((messages, turns, box),) = run(handlers, "   ")
    assert box == "   "
    assert messages == [
        {"role": "assistant", "content": f'<div class="answer-error">{EMPTY_QUESTION}</div>'}
    ]
    assert history_of(turns) == []


def test_an_endpoint_failure_keeps_the_question(chain: RecommenderChain) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = EndpointClient(f"http://127.0.0.1:{port}/invocations")
    handlers = _Handlers(RemoteBackend(client), None, 3)
    messages, turns, box = run(handlers, "a comedy please")[-1]
    assert box == "a comedy please"
    assert "not reachable" in messages[-1]["content"]
    assert "Traceback" not in messages[-1]["content"]
    assert turns[0]["error"] and history_of(turns) == []


def test_an_unexpected_failure_is_a_plain_message(chain: RecommenderChain) -> None:
    class Broken:
        label = "broken"

        def answer(self, *args: object, **kwargs: object):
            raise KeyError("internal detail")
            yield  # pragma: no cover

    messages, _, box = run(_Handlers(Broken(), None, 3), "a comedy")[-1]
    assert box == "a comedy"
    assert "Something went wrong" in messages[-1]["content"]
    assert "internal detail" not in messages[-1]["content"]


def test_votes_on_answers_and_movies_reach_both_sinks(
    chain: RecommenderChain, tmp_path: Path
) -> None:
    with SqlStatementsEmulator(schemas=["main.silver"]) as sql:
        settings = MovieRagSettings(
            workdir=tmp_path,
            catalog="main",
            sql_warehouse_id=sql.warehouse_id,
            databricks_host=sql.url,
            databricks_token=sql.token,
        )
        recorder = FeedbackRecorder.from_settings(settings)
        handlers = _Handlers(LocalBackend(chain), recorder, k=3)
        _, turns, _ = run(handlers, "Suggest me the best horror movie, that can scare anyone.")[-1]
        targets = chat_messages(turns)[1]
        assert targets == [("user", 0, -1), ("answer", 0, -1)]
        answer = targets.index(("answer", 0, -1))
        second = turns[0]["recommendations"][1]
        turns, status = handlers.vote_card(card_vote(0, 1, 1), turns, " ana ")
        assert status.startswith("Thanks! Your thumbs up on “")
        assert turns[0]["card_votes"] == {"1": 1}
        # The redrawn answer shows the pressed thumb on that card only.
        redrawn = chat_messages(turns)[0][1]["content"]
        assert redrawn.count(" pressed") == 1 and "mr-card-1 pressed" in redrawn
        assert (
            handlers.vote(turns, "", answer, False)
            == "Thanks! Your thumbs down on the answer was saved."
        )
        assert handlers.vote(turns, "ana", 0, True) == "Only answers and movies can be rated."
        local = LocalFeedbackStore(tmp_path).events()
        assert [(e.user_id, e.target, e.vote, e.movie_id) for e in local] == [
            ("ana", "movie", 1, second["movie_id"]),
            ("anonymous", "answer", -1, None),
        ]
        assert LocalFeedbackStore(tmp_path).movie_votes("ana") == {second["movie_id"]: 1}
        assert local[0].title == second["title"]
        assert local[0].query == "Suggest me the best horror movie, that can scare anyone."
        assert local[0].recommended_ids == [r["movie_id"] for r in turns[0]["recommendations"]]
        rows = sql.rows("main.silver.feedback")
        assert [(r["event_id"], r["vote"]) for r in rows] == [(e.event_id, e.vote) for e in local]
        # The shared table down: the vote is still kept in the workdir, and the user told.
        sql.warehouses.clear()
        _, status = handlers.vote_card(card_vote(0, 1, -1), turns, "ana")
        assert "saved here; the shared feedback table is unreachable" in status
        assert len(LocalFeedbackStore(tmp_path).events()) == 3


def test_clicking_a_thumb_again_withdraws_the_vote(chain: RecommenderChain, tmp_path: Path) -> None:
    settings = MovieRagSettings(workdir=tmp_path)
    handlers = _Handlers(LocalBackend(chain), FeedbackRecorder.from_settings(settings), k=3)
    _, turns, _ = run(handlers, "Suggest me the best horror movie, that can scare anyone.")[-1]
    first = turns[0]["recommendations"][0]
    store = LocalFeedbackStore(tmp_path)

    turns, _ = handlers.vote_card(card_vote(0, 0, -1), turns, "ana")
    assert store.movie_votes("ana") == {first["movie_id"]: -1}
    # The same thumb again (as the page sends it) withdraws the vote.
    turns, status = handlers.vote_card(card_vote(0, 0, -1), turns, "ana")
    assert status == f"Your vote on “{first['title']}” was withdrawn."
    assert store.movie_votes("ana") == {}
    assert [e.vote for e in store.events("ana")] == [-1, 0]  # append-only: both clicks kept


def test_the_remote_mode_renders_cards_from_the_served_model(
    endpoint: ModelInvocationsEmulator,
) -> None:
    handlers = _Handlers(RemoteBackend(EndpointClient(endpoint.url, endpoint.token)), None, k=3)
    messages, turns, box = run(handlers, "a feel-good comedy", None, ["Comedy"], 1900, 2026, 0)[-1]
    assert box == ""
    assert [cards_in(m["content"]) for m in messages] == [0, 3]
    assert all("Comedy" in r["genres"] for r in turns[0]["recommendations"])
