"""User splits are disjoint, complete, seeded and independent of row order."""

from __future__ import annotations

import pyarrow as pa
import pytest

from movie_rag.errors import DataValidationError
from movie_rag.evaluation.splits import split_users


def _ratings(users: list[int]) -> pa.Table:
    return pa.table(
        {
            "user_id": pa.array(users, pa.int32()),
            "movie_id": pa.array([i % 7 for i in range(len(users))], pa.int32()),
            "rating": pa.array([4.0] * len(users), pa.float32()),
            "timestamp": pa.array([0] * len(users), pa.int64()),
        }
    )


def test_split_is_disjoint_complete_and_sized() -> None:
    ratings = _ratings([u for u in range(1, 201) for _ in range(3)])
    split = split_users(ratings, seed=7, validation_fraction=0.1, test_fraction=0.2)
    assert not split.train_users & split.test_users
    assert not split.train_users & split.validation_users
    assert not split.validation_users & split.test_users
    assert split.train_users | split.validation_users | split.test_users == set(range(1, 201))
    assert (len(split.test_users), len(split.validation_users)) == (40, 20)
    assert split.train_ratings(ratings).num_rows == 3 * 140
    assert set(split.test_ratings(ratings).column("user_id").to_pylist()) == split.test_users


def test_split_depends_on_seed_not_on_row_order() -> None:
    users = [u for u in range(1, 101) for _ in range(2)]
    forward = split_users(_ratings(users), seed=1)
    backward = split_users(_ratings(users[::-1]), seed=1)
    other = split_users(_ratings(users), seed=2)
    assert forward == backward
    assert forward.test_users != other.test_users


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(DataValidationError, match="user_id"):
        split_users(pa.table({"movie_id": [1], "rating": [4.0]}))
    with pytest.raises(DataValidationError, match="test_fraction"):
        split_users(_ratings([1, 2]), validation_fraction=0.5, test_fraction=0.5)
