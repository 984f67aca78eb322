"""Regenerate the synthetic ratings of the bundled sample catalogue.

The sample's ``ratings.csv`` is not real user data: it is produced by this script from the
sample's own ``movies.csv``, ``links.csv`` and Bright Data records, so that it can be
reproduced byte for byte (``tests/test_datasets.py`` checks that it is).

The model is deliberately simple but sensible:

* a movie's typical rating follows its IMDb rating (well-regarded movies rate higher);
* each synthetic user has a taste profile (genre likes and dislikes, sometimes a preference
  for older films), a personal bias and an activity level;
* users mostly rate popular movies and movies in genres they like;
* ratings are half stars from 0.5 to 5.0, timestamps are Unix seconds after the film's year.

Only ``random.random()`` and exact arithmetic are used (no ``gauss``, ``log`` or ``choices``),
so the output is identical on every platform and Python version.

Usage::

    python scripts/make_sample_ratings.py            # rewrite the bundled ratings.csv
    python scripts/make_sample_ratings.py --output /tmp/ratings.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("movie_rag")

SEED = 1993
N_USERS = 30
MIN_RATINGS_PER_MOVIE = 3
# Used when a Bright Data record lacks imdb_rating (real scrapes are patchy).
FALLBACK_IMDB_RATING = 7.0
# 2015-01-01 and 2018-09-01 UTC: the window the synthetic users are active in.
FIRST_TIMESTAMP = 1420070400
LAST_TIMESTAMP = 1535760000
DAY = 86400

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "src" / "movie_rag" / "_resources" / "sample"

# Genre weights per taste profile, in the MovieLens vocabulary. "old" rewards films before 1970.
# fmt: off
PROFILES: tuple[dict[str, float], ...] = (
    {"Horror": 1.1, "Thriller": 0.4, "Sci-Fi": 0.2,
     "Romance": -0.5, "Musical": -0.7, "Children": -0.4},
    {"Sci-Fi": 0.9, "Action": 0.6, "Adventure": 0.4, "Romance": -0.4, "Documentary": -0.3},
    {"Comedy": 0.9, "Action": 0.2, "Film-Noir": -0.5, "War": -0.4, "Documentary": -0.3},
    {"Animation": 1.0, "Children": 0.8, "Musical": 0.4, "Fantasy": 0.3,
     "Horror": -1.2, "Crime": -0.4},
    {"Film-Noir": 0.9, "Mystery": 0.5, "Drama": 0.4, "War": 0.3, "Action": -0.3, "old": 0.6},
    {"Romance": 1.0, "Musical": 0.6, "Comedy": 0.3, "Horror": -0.9, "War": -0.4},
    {"Crime": 0.9, "Drama": 0.5, "Thriller": 0.4, "Children": -0.5, "Musical": -0.6},
    {"Fantasy": 0.9, "Adventure": 0.7, "Animation": 0.3, "Documentary": -0.5},
    {},
    {"Documentary": 1.1, "Drama": 0.4, "War": 0.4, "Action": -0.3, "Horror": -0.4},
)
# fmt: on


@dataclass(frozen=True)
class SampleMovie:
    """What the rating model needs to know about one sample movie."""

    movie_id: int
    genres: tuple[str, ...]
    year: int
    imdb_rating: float
    popularity_rank: int  # 0 = most IMDb votes in the sample


@dataclass(frozen=True)
class SyntheticUser:
    """One synthetic user's taste."""

    user_id: int
    weights: dict[str, float]
    bias: float
    activity: float
    first_timestamp: int


def _noise(rng: random.Random) -> float:
    """Roughly normal noise with mean 0 and standard deviation ~0.58 (Irwin-Hall, n=4)."""
    return rng.random() + rng.random() + rng.random() + rng.random() - 2.0


def load_movies(sample_dir: Path) -> list[SampleMovie]:
    """Read the sample's movies, joining IMDb ratings and vote counts through links.csv."""
    movielens = sample_dir / "movielens"
    with (movielens / "links.csv").open(encoding="utf-8", newline="") as handle:
        imdb_ids = {int(row["movieId"]): "tt" + row["imdbId"] for row in csv.DictReader(handle)}
    records = json.loads((sample_dir / "imdb" / "bright_data_sample.json").read_text("utf-8"))
    by_imdb = {record["url"].rstrip("/").rsplit("/", 1)[-1]: record for record in records}
    rows = []
    with (movielens / "movies.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            movie_id = int(row["movieId"])
            record = by_imdb.get(imdb_ids[movie_id], {})
            match = re.search(r"\((\d{4})\)\s*$", row["title"])
            year = int(match.group(1)) if match else 2000
            rating = record.get("imdb_rating") or FALLBACK_IMDB_RATING
            votes = record.get("imdb_rating_count") or 0
            rows.append((movie_id, tuple(row["genres"].split("|")), year, float(rating), votes))
    by_votes = sorted(rows, key=lambda r: (-r[4], r[0]))
    rank = {r[0]: position for position, r in enumerate(by_votes)}
    return [SampleMovie(m, g, y, r, rank[m]) for m, g, y, r, _ in sorted(rows)]


def make_users(rng: random.Random) -> list[SyntheticUser]:
    """Thirty users: three per taste profile, each with its own bias, activity and weights."""
    users = []
    for index in range(N_USERS):
        profile = PROFILES[index % len(PROFILES)]
        # Jitter each weight so that users of one profile are alike but not identical.
        weights = {genre: w * (0.75 + 0.5 * rng.random()) for genre, w in profile.items()}
        bias = (rng.random() - 0.5) * 0.8
        activity = 0.7 + 0.3 * rng.random()
        span = LAST_TIMESTAMP - FIRST_TIMESTAMP - 120 * DAY
        first = FIRST_TIMESTAMP + int(rng.random() * span)
        users.append(SyntheticUser(index + 1, weights, bias, activity, first))
    return users


def affinity(user: SyntheticUser, movie: SampleMovie) -> float:
    """How much the user's taste pulls the rating up or down, capped at ±1.2 stars."""
    score = sum(user.weights.get(genre, 0.0) for genre in movie.genres)
    if movie.year < 1970:
        score += user.weights.get("old", 0.0)
    return max(-1.2, min(1.2, score))


def half_star(value: float) -> float:
    """Clamp to 0.5-5.0 and round to the nearest half star (ties go up)."""
    value = max(0.5, min(5.0, value))
    return int(value * 2 + 0.5) / 2


def rate(rng: random.Random, user: SyntheticUser, movie: SampleMovie) -> tuple[float, int]:
    """One rating and its timestamp."""
    typical = movie.imdb_rating / 2 - 0.6
    rating = half_star(typical + user.bias + affinity(user, movie) + _noise(rng))
    # A film cannot be rated before it came out: start a season after its year began.
    earliest = max(user.first_timestamp, _year_start(movie.year) + 90 * DAY)
    latest = max(earliest + DAY, LAST_TIMESTAMP)
    return rating, earliest + int(rng.random() * (latest - earliest))


def _year_start(year: int) -> int:
    """Unix time of 1 January of a year (exact for the Gregorian years used here)."""
    days = 0
    for y in range(1970, year):
        days += 366 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 365
    return days * DAY


def generate(sample_dir: Path = SAMPLE_DIR, seed: int = SEED) -> list[tuple[int, int, float, int]]:
    """All synthetic ratings as ``(userId, movieId, rating, timestamp)``, sorted like MovieLens.

    Args:
        sample_dir: The bundled sample directory (holding ``movielens/`` and ``imdb/``).
        seed: Seed of the random generator.

    Returns:
        Rows sorted by user then movie.
    """
    rng = random.Random(seed)
    movies = load_movies(sample_dir)
    users = make_users(rng)
    ratings: dict[tuple[int, int], tuple[float, int]] = {}
    for user in users:
        for movie in movies:
            # Popular movies and liked genres are more likely to be seen and rated.
            popularity = 1.0 - 0.4 * movie.popularity_rank / len(movies)
            interest = max(0.25, min(1.5, 1.0 + 0.6 * affinity(user, movie)))
            if rng.random() < user.activity * popularity * interest:
                ratings[(user.user_id, movie.movie_id)] = rate(rng, user, movie)
    for movie in movies:
        raters = [u for u in users if (u.user_id, movie.movie_id) in ratings]
        for user in users:
            if len(raters) >= MIN_RATINGS_PER_MOVIE:
                break
            if user not in raters:
                ratings[(user.user_id, movie.movie_id)] = rate(rng, user, movie)
                raters.append(user)
    return [(u, m, r, t) for (u, m), (r, t) in sorted(ratings.items())]


def write_ratings(rows: list[tuple[int, int, float, int]], path: Path) -> None:
    """Write rows in the genuine MovieLens format (header, CRLF line endings, ``4.0`` style)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        for user_id, movie_id, rating, timestamp in rows:
            writer.writerow([user_id, movie_id, f"{rating:.1f}", timestamp])


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-dir", type=Path, default=SAMPLE_DIR)
    parser.add_argument("--output", type=Path, default=None, help="default: the sample's own")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    output = args.output or args.sample_dir / "movielens" / "ratings.csv"
    rows = generate(args.sample_dir, args.seed)
    write_ratings(rows, output)
    users = len({r[0] for r in rows})
    logger.info("wrote %d ratings by %d users to %s", len(rows), users, output)


if __name__ == "__main__":
    main()
