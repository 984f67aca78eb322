"""The per-user protocol: last likes held out, the rest given as history, nothing leaked."""

from __future__ import annotations

import pyarrow as pa
import pytest

from movie_rag.evaluation.per_user import PER_USER_QUERY, PerUserProtocol
from movie_rag.evaluation.protocols import ProtocolParams
from movie_rag.evaluation.splits import UserSplit
from movie_rag.evaluation.systems import EvalContext
from movie_rag.settings import MovieRagSettings


def _context(rows: list[tuple[int, int, float, int]]) -> EvalContext:
    users, movies, stars, times = (list(col) for col in zip(*rows, strict=True))
    ratings = pa.table(
        {
            "user_id": pa.array(users, pa.int32()),
            "movie_id": pa.array(movies, pa.int32()),
            "rating": pa.array(stars, pa.float32()),
            "timestamp": pa.array(times, pa.int64()),
        }
    )
    ids = sorted({m for m in movies if m != 999})  # 999 is not in the catalogue
    catalogue = pa.table(
        {
            "movie_id": pa.array(ids, pa.int32()),
            "title": [f"m{m}" for m in ids],
            "year": [2000] * len(ids),
            "genres": [["Drama"]] * len(ids),
        }
    )
    split = UserSplit(
        train_users=frozenset({1}), validation_users=frozenset({2}), test_users=frozenset({3})
    )
    return EvalContext(
        settings=MovieRagSettings(),
        catalogue=catalogue,
        train_ratings=split.train_ratings(ratings),
        split=split,
        params=ProtocolParams(),
        ratings=ratings,
    )


def _history(user: int, likes: int, extra: list[tuple[int, float]] = ()) -> list[tuple]:
    rows = [(user, 100 + i, 4.5, 1000 + i) for i in range(likes)]
    return rows + [(user, movie, stars, 500) for movie, stars in extra]


def test_last_likes_are_held_out_and_the_rest_is_history() -> None:
    rows = _history(3, 12, [(50, 2.0), (999, 5.0)]) + _history(2, 12) + _history(1, 30)
    context = _context(rows)
    [(query, history)] = PerUserProtocol(holdout=5, min_history=5).queries_with_history(context)
    assert query.query == PER_USER_QUERY
    assert query.user_id == "3" and query.label == "user:3"
    assert query.relevant == {107, 108, 109, 110, 111}  # the five most recent likes
    assert list(query.seed_movie_ids) == list(range(100, 107)) == list(history.liked)
    assert query.exclude == history.seen == {50, *range(100, 107)}
    assert not query.relevant & query.exclude
    validation = PerUserProtocol(users="validation").queries(context)
    assert [q.user_id for q in validation] == ["2"]


def test_users_with_too_few_likes_are_skipped() -> None:
    context = _context(_history(3, 9) + _history(2, 3) + _history(1, 3))
    assert PerUserProtocol(holdout=5, min_history=5).queries(context) == []
    assert len(PerUserProtocol(holdout=4, min_history=5).queries(context)) == 1


def test_unknown_user_set_is_refused() -> None:
    with pytest.raises(ValueError, match="users"):
        PerUserProtocol(users="train")
