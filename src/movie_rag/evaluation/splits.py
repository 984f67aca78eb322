"""User splits: which MovieLens users the system may learn from and which judge it.

Evaluation and tuning hold out whole users: the build (``movies_info`` rating aggregates,
collaborative artefacts) sees only the ``train`` users' ratings; ``validation`` users are for
tuning (``scripts/tune_hybrid.py``) and ``test`` users for the reported numbers. The split is
a pure function of the set of user ids and the seed, so every run, machine and issue gets the
same users.

Example:
    >>> import pyarrow as pa
    >>> from movie_rag.evaluation.splits import split_users
    >>> ratings = pa.table({"user_id": pa.array(list(range(1, 11)), pa.int32()),
    ...                     "movie_id": pa.array([1] * 10, pa.int32()),
    ...                     "rating": pa.array([4.0] * 10, pa.float32()),
    ...                     "timestamp": pa.array([0] * 10, pa.int64())})
    >>> split = split_users(ratings, seed=42)
    >>> len(split.train_users), len(split.validation_users), len(split.test_users)
    (7, 1, 2)
    >>> split.train_ratings(ratings).num_rows
    7
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from movie_rag.errors import DataValidationError

__all__ = ["UserSplit", "split_users"]

_REQUIRED = ("user_id", "movie_id", "rating")


@dataclass(frozen=True)
class UserSplit:
    """Three disjoint sets of user ids and the parameters that produced them.

    Attributes:
        train_users: Users whose ratings the system sees.
        validation_users: Users for tuning; never in a build that is evaluated on them.
        test_users: Users whose held-out ratings are the ground truth of the reported numbers.
        seed: The random seed of :func:`split_users`.
        validation_fraction: Share of users in ``validation_users``.
        test_fraction: Share of users in ``test_users``.
    """

    train_users: frozenset[int]
    validation_users: frozenset[int]
    test_users: frozenset[int]
    seed: int = 42
    validation_fraction: float = 0.1
    test_fraction: float = 0.2

    def train_ratings(self, ratings: pa.Table) -> pa.Table:
        """The rows of ``ratings`` whose user is a training user."""
        return _rows_of(ratings, self.train_users)

    def validation_ratings(self, ratings: pa.Table) -> pa.Table:
        """The rows of ``ratings`` whose user is a validation user."""
        return _rows_of(ratings, self.validation_users)

    def test_ratings(self, ratings: pa.Table) -> pa.Table:
        """The rows of ``ratings`` whose user is a test user."""
        return _rows_of(ratings, self.test_users)

    def describe(self) -> dict[str, int | float]:
        """Sizes and parameters, for reports and MLflow params."""
        return {
            "seed": self.seed,
            "validation_fraction": self.validation_fraction,
            "test_fraction": self.test_fraction,
            "train_users": len(self.train_users),
            "validation_users": len(self.validation_users),
            "test_users": len(self.test_users),
        }


def split_users(
    ratings: pa.Table,
    *,
    seed: int = 42,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> UserSplit:
    """Split the users of a ratings table into train, validation and test users.

    The distinct user ids are sorted, shuffled with ``numpy.random.default_rng(seed)`` and cut:
    the first ``round(n * test_fraction)`` are test users, the next
    ``round(n * validation_fraction)`` validation users, the rest train users. The result
    depends only on the set of user ids and the arguments, not on row order.

    Args:
        ratings: A ratings table with ``user_id``, ``movie_id`` and ``rating`` columns
            (``MovieLensLoader(...).load(dir).ratings``).
        seed: Random seed of the shuffle.
        validation_fraction: Share of users for validation (0 allowed).
        test_fraction: Share of users for test (0 allowed).

    Returns:
        The split.

    Raises:
        DataValidationError: A column is missing or the fractions leave no training user.
    """
    missing = [c for c in _REQUIRED if c not in ratings.column_names]
    if missing:
        raise DataValidationError(
            f"ratings table lacks column(s) {missing}; expected user_id, movie_id, rating",
            field=missing[0],
        )
    for name, value in (
        ("validation_fraction", validation_fraction),
        ("test_fraction", test_fraction),
    ):
        if not 0.0 <= value < 1.0:
            raise DataValidationError(f"{name} must be in [0, 1), got {value}", field=name)
    if validation_fraction + test_fraction >= 1.0:
        raise DataValidationError(
            "validation_fraction + test_fraction must leave some training users, got "
            f"{validation_fraction} + {test_fraction}",
            field="test_fraction",
        )
    users = np.unique(ratings.column("user_id").to_numpy(zero_copy_only=False)).astype(np.int64)
    rng = np.random.default_rng(seed)
    shuffled = users[rng.permutation(len(users))]
    n_test = round(len(users) * test_fraction)
    n_validation = round(len(users) * validation_fraction)
    test = shuffled[:n_test]
    validation = shuffled[n_test : n_test + n_validation]
    train = shuffled[n_test + n_validation :]
    return UserSplit(
        train_users=frozenset(int(u) for u in train),
        validation_users=frozenset(int(u) for u in validation),
        test_users=frozenset(int(u) for u in test),
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
    )


def _rows_of(ratings: pa.Table, users: frozenset[int]) -> pa.Table:
    wanted = pa.array(sorted(users), type=ratings.schema.field("user_id").type)
    return ratings.filter(pc.is_in(ratings.column("user_id"), value_set=wanted))
