"""Synthetic MovieLens-format data of a chosen size, to measure how each stage scales.

The files have the exact layout of a MovieLens release (``movies.csv``, ``links.csv``,
``ratings.csv``, ``tags.csv``; same headers, half-star ratings, Unix timestamps,
``Title (Year)`` titles, ``|``-separated genres), so every stage reads them as real data.
Shapes follow MovieLens: movie popularity is a power law (a few movies get most ratings),
user activity is skewed, each (user, movie) pair is rated at most once, and a movie's ratings
scatter around its own mean. Content is random: use it for timings, never for quality.

Example:
    >>> import tempfile
    >>> from movie_rag.evaluation.synthetic import generate_movielens
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     summary = generate_movielens(tmp, movies=50, ratings=2_000, seed=1)
    >>> summary.movies, summary.ratings
    (50, 2000)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["ML25M_SHAPE", "SyntheticSummary", "generate_movielens"]

#: The shape of MovieLens 25M (movies, ratings, users, tags), for extrapolation.
ML25M_SHAPE = {"movies": 62_423, "ratings": 25_000_095, "users": 162_541, "tags": 1_093_360}

_GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
_ADJECTIVES = (
    "Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Lonely", "Wild",
    "Frozen", "Electric", "Secret", "Distant", "Burning", "Glass", "Iron", "Velvet", "Hollow",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Garden", "Empire", "River", "Station", "Letter", "Kingdom", "Mirror", "Summer",
    "Horizon", "Orchard", "Signal", "Island", "Promise", "Machine", "Shadow", "Voyage", "Crown",
)  # fmt: skip
_TAG_WORDS = (
    "atmospheric", "funny", "dark", "twist ending", "quirky", "visually appealing", "slow",
    "space", "heist", "time travel", "based on a book", "great soundtrack", "violent",
)  # fmt: skip


@dataclass(frozen=True)
class SyntheticSummary:
    """What :func:`generate_movielens` wrote."""

    directory: Path
    movies: int
    ratings: int
    users: int
    tags: int
    seed: int


def generate_movielens(
    directory: str | Path,
    *,
    movies: int,
    ratings: int,
    users: int | None = None,
    tags: int | None = None,
    seed: int = 0,
) -> SyntheticSummary:
    """Write a synthetic MovieLens release of the given size into ``directory``.

    Args:
        directory: Where the CSV files go (created if needed).
        movies: Number of movies.
        ratings: Number of ratings (distinct user–movie pairs).
        users: Number of users (default: ``ratings / 150``, MovieLens' mean activity).
        tags: Number of tag rows (default: ``ratings / 25``).
        seed: Random seed; the same arguments give byte-identical files.

    Returns:
        The sizes written.

    Raises:
        ValueError: The sizes are impossible (more ratings than user–movie pairs, say).
    """
    users = users if users is not None else max(1, ratings // 150)
    tags = tags if tags is not None else ratings // 25
    if movies < 1 or ratings < 0 or users < 1 or tags < 0:
        raise ValueError("movies and users must be positive, ratings and tags non-negative")
    if ratings > movies * users // 2:
        raise ValueError(
            f"{ratings:,} ratings do not fit {users:,} users x {movies:,} movies at most half "
            "full; ask for more users or movies"
        )
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    years = _write_movies(out / "movies.csv", movies, rng)
    _write_links(out / "links.csv", movies)
    _write_ratings(out / "ratings.csv", movies, ratings, users, years, rng)
    _write_tags(out / "tags.csv", movies, tags, users, rng)
    return SyntheticSummary(out, movies, ratings, users, tags, seed)


def _write_movies(path: Path, movies: int, rng: np.random.Generator) -> np.ndarray:
    years = rng.integers(1920, 2024, size=movies)
    genre_counts = rng.integers(1, 4, size=movies)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["movieId", "title", "genres"])
        for i in range(movies):
            adjective = _ADJECTIVES[rng.integers(len(_ADJECTIVES))]
            noun = _NOUNS[rng.integers(len(_NOUNS))]
            title = f"The {adjective} {noun} {i + 1} ({years[i]})"
            genres = rng.choice(len(_GENRES), size=genre_counts[i], replace=False)
            writer.writerow([i + 1, title, "|".join(_GENRES[g] for g in sorted(genres))])
    return years


def _write_links(path: Path, movies: int) -> None:
    ids = np.arange(1, movies + 1)
    table = pa.table(
        {
            "movieId": ids,
            "imdbId": [f"{9_000_000 + i:07d}" for i in ids],
            "tmdbId": ids + 900_000,
        }
    )
    _write_csv(table, path, "none")


def _write_ratings(
    path: Path,
    movies: int,
    ratings: int,
    users: int,
    years: np.ndarray,
    rng: np.random.Generator,
) -> None:
    # Power-law popularity over a random order of movies; skewed user activity.
    movie_weights = 1.0 / np.arange(1, movies + 1) ** 0.9
    movie_weights = movie_weights[rng.permutation(movies)]
    movie_weights /= movie_weights.sum()
    user_weights = rng.lognormal(0.0, 1.0, size=users)
    user_weights /= user_weights.sum()
    pairs = np.empty(0, dtype=np.int64)
    while len(pairs) < ratings:
        # Draw with some slack, keep distinct (user, movie) pairs, top up if short.
        want = int((ratings - len(pairs)) * 1.15) + 16
        u = rng.choice(users, size=want, p=user_weights)
        m = rng.choice(movies, size=want, p=movie_weights)
        pairs = np.unique(np.concatenate([pairs, u.astype(np.int64) * movies + m]))
    pairs = rng.permutation(pairs)[:ratings]
    pairs.sort()
    user_ids = (pairs // movies + 1).astype(np.int32)
    movie_idx = pairs % movies
    quality = rng.normal(3.5, 0.5, size=movies)
    stars = np.clip(np.round((quality[movie_idx] + rng.normal(0, 0.9, ratings)) * 2) / 2, 0.5, 5.0)
    earliest = np.maximum(years[movie_idx], 1996)
    start = (earliest - 1970) * 31_556_952
    timestamps = start + rng.integers(0, 10 * 31_556_952, size=ratings)
    table = pa.table(
        {
            "userId": user_ids,
            "movieId": (movie_idx + 1).astype(np.int32),
            "rating": stars.astype(np.float64),
            "timestamp": timestamps.astype(np.int64),
        }
    )
    _write_csv(table, path, "none")


def _write_tags(path: Path, movies: int, tags: int, users: int, rng: np.random.Generator) -> None:
    table = pa.table(
        {
            "userId": rng.integers(1, users + 1, size=tags).astype(np.int32),
            "movieId": rng.integers(1, movies + 1, size=tags).astype(np.int32),
            "tag": [_TAG_WORDS[i] for i in rng.integers(len(_TAG_WORDS), size=tags)],
            "timestamp": rng.integers(1_200_000_000, 1_600_000_000, size=tags).astype(np.int64),
        }
    )
    _write_csv(table, path, "needed")


def _write_csv(table: pa.Table, path: Path, quoting: str) -> None:
    # MovieLens headers are bare names; pyarrow would quote them.
    with open(path, "wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style=quoting)
        pacsv.write_csv(table, handle, options)
