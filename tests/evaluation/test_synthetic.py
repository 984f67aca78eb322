"""The synthetic generator writes MovieLens that the real loader reads, reproducibly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.compute as pc
import pytest

from movie_rag.evaluation.synthetic import generate_movielens
from movie_rag.ingest.movielens import MovieLensLoader


def _digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for name in ("movies.csv", "links.csv", "ratings.csv", "tags.csv"):
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()


def test_sizes_shapes_and_loader_round_trip(tmp_path: Path) -> None:
    summary = generate_movielens(tmp_path, movies=400, ratings=20_000, users=1_000, seed=3)
    data = MovieLensLoader().load(tmp_path)
    assert (data.movies.num_rows, data.ratings.num_rows, data.tags.num_rows) == (400, 20_000, 800)
    assert summary.users == 1_000
    assert data.rows_loaded() == data.rows_in
    ratings = data.ratings
    pairs = pc.add(
        pc.multiply(ratings.column("user_id").cast("int64"), 1000), ratings.column("movie_id")
    )
    assert len(pc.unique(pairs)) == ratings.num_rows  # one rating per user and movie
    counts = pc.value_counts(ratings.column("movie_id")).field("counts").to_pylist()
    counts.sort(reverse=True)
    assert sum(counts[:40]) > 0.25 * ratings.num_rows  # a power law: 10% of movies, >25%
    assert data.movies.column("year").null_count == 0
    assert set(pc.unique(pc.multiply(ratings.column("rating"), 2)).to_pylist()) <= set(range(1, 11))


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate_movielens(tmp_path / "a", movies=100, ratings=3_000, users=100, seed=9)
    generate_movielens(tmp_path / "b", movies=100, ratings=3_000, users=100, seed=9)
    generate_movielens(tmp_path / "c", movies=100, ratings=3_000, users=100, seed=10)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")


def test_impossible_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="do not fit"):
        generate_movielens(tmp_path, movies=10, ratings=1_000, users=5)
