"""The workdir feedback store: durable, per-user, latest vote wins, bad lines named."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from movie_rag.feedback import FeedbackEvent, FeedbackSink, LocalFeedbackStore
from movie_rag.workdir import Workdir


def _movie_vote(user: str, movie_id: int, vote: int, **extra: object) -> FeedbackEvent:
    return FeedbackEvent(
        user_id=user, query="something like Alien", vote=vote, target="movie",
        movie_id=movie_id, **extra,
    )  # fmt: skip


def test_events_survive_a_new_store_object_and_keep_their_order(tmp_path: Path) -> None:
    store = LocalFeedbackStore(tmp_path)
    assert isinstance(store, FeedbackSink)
    assert store.events() == []
    first = _movie_vote("ana", 1, 1, title="Alien")
    second = FeedbackEvent(
        user_id="bo", query="feel-good comedy", vote=-1, target="answer",
        answer="Try Amélie.", recommended_ids=[4973, 2],
    )  # fmt: skip
    store.record(first)
    store.record(second)

    again = LocalFeedbackStore(Workdir(tmp_path))
    assert again.events() == [first, second]
    assert again.events("bo") == [second]
    assert again.events("  ana ") == [first]
    assert again.path == tmp_path / "feedback" / "events.jsonl"


def test_latest_movie_vote_wins_and_answer_votes_are_not_per_movie(tmp_path: Path) -> None:
    store = LocalFeedbackStore(tmp_path)
    store.record(_movie_vote("ana", 10, 1))
    store.record(_movie_vote("ana", 20, -1))
    store.record(_movie_vote("ana", 10, -1))
    store.record(_movie_vote("bo", 30, 1))
    store.record(
        FeedbackEvent(user_id="ana", query="q", vote=1, target="answer", recommended_ids=[40])
    )
    assert store.movie_votes("ana") == {10: -1, 20: -1}
    store.record(_movie_vote("ana", 20, 0))  # taken back
    assert store.movie_votes("ana") == {10: -1}
    assert store.movie_votes("bo") == {30: 1}
    assert store.movie_votes("nobody") == {}


def _record_many(root: str, worker: int) -> None:
    store = LocalFeedbackStore(root)
    for i in range(50):
        store.record(_movie_vote(f"user{worker}", 1000 * worker + i + 1, 1))


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_record_many, args=(str(tmp_path), w)) for w in (1, 2, 3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    events = LocalFeedbackStore(tmp_path).events()
    assert len(events) == 150
    assert len({e.event_id for e in events}) == 150
    for worker in (1, 2, 3):
        assert len(LocalFeedbackStore(tmp_path).movie_votes(f"user{worker}")) == 50


def test_a_corrupt_line_is_skipped_and_reported_with_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = LocalFeedbackStore(tmp_path)
    store.record(_movie_vote("ana", 1, 1))
    with store.path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"user_id": "ana", "vote": 5, "target": "movie"}) + "\n")
        handle.write('{"user_id": "ana", "vo')
    with caplog.at_level("WARNING", logger="movie_rag"):
        assert store.movie_votes("ana") == {1: 1}
    assert [number for number, _ in store.skipped] == [2, 3]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert str(store.path) in warnings[0] and "row 2" in warnings[0] and "query" in warnings[0]
    assert "row 3" in warnings[1]
    caplog.clear()
    with caplog.at_level("WARNING", logger="movie_rag"):
        store.events()
    assert not caplog.records, "each bad line is reported once per store, not on every read"


def test_a_torn_last_line_does_not_swallow_the_next_event(tmp_path: Path) -> None:
    store = LocalFeedbackStore(tmp_path)
    store.record(_movie_vote("ana", 1, 1))
    with store.path.open("ab") as handle:  # a writer killed in the middle of its line
        handle.write(_movie_vote("ana", 2, 1).model_dump_json().encode()[:40])
    store.record(_movie_vote("ana", 3, -1))
    assert store.movie_votes("ana") == {1: 1, 3: -1}
    assert [number for number, _ in store.skipped] == [2]


def _record_500(root: str, worker: int) -> None:
    store = LocalFeedbackStore(root)
    for i in range(500):
        store.record(_movie_vote(f"proc{worker}", 10_000 * worker + i + 1, 1))


def test_two_processes_times_500_events_lose_and_tear_none(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_record_500, args=(str(tmp_path), w)) for w in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(180)
        assert process.exitcode == 0
    store = LocalFeedbackStore(tmp_path)
    lines = store.path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 1001
    events = store.events()
    assert store.skipped == []
    assert len(events) == 1000 and len({e.event_id for e in events}) == 1000
    for worker in (1, 2):
        votes = store.movie_votes(f"proc{worker}")
        assert sorted(votes) == [10_000 * worker + i + 1 for i in range(500)]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"user_id": "   "}, "user_id"),
        ({"vote": 2}, "vote"),
        ({"target": "movie", "movie_id": None}, "movie_id"),
        ({"movie_id": -3}, "movie_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_events_are_refused(fields: dict[str, object], problem: str) -> None:
    values: dict[str, object] = {
        "user_id": "ana", "query": "q", "vote": 1, "target": "movie", "movie_id": 1,
    }  # fmt: skip
    values.update(fields)
    with pytest.raises(ValidationError, match=problem):
        FeedbackEvent.model_validate(values)


def test_times_are_stored_in_utc() -> None:
    local = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    event = _movie_vote("ana", 1, 1, created_at=local)
    assert event.created_at == datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)
    naive = _movie_vote("ana", 1, 1, created_at=datetime(2026, 1, 2, 3, 4, 5))
    assert naive.created_at.tzinfo == UTC
