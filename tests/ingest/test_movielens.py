"""MovieLensLoader on the real ml-latest-small and genome files: every known quirk, exact counts.

Expected values are computed independently from the files with the csv module (or are the
published counts from SOURCES.md), never from the loader itself.
"""

from __future__ import annotations

import csv
import re
import struct
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.catalog.titles import parse_movielens_title
from movie_rag.ingest.movielens import (
    MovieLensData,
    MovieLensLoader,
    genome_tag_lists,
    normalize_imdb_id,
    normalize_user_tag,
    rating_stats,
    user_tag_lists,
)
from movie_rag.settings import MovieRagSettings
from movie_rag.spark import arrow_to_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TMDB_MISSING = {791, 1107, 2851, 4051, 26587, 32600, 40697, 79299}
DUPLICATED_TITLES = {
    "Emma (1996)",
    "Saturn 3 (1980)",
    "Confessions of a Dangerous Mind (2002)",
    "Eros (2004)",
    "War of the Worlds (2005)",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def ml_dir(shared_data: Path) -> Path:
    return shared_data / "ml-latest-small"


@pytest.fixture(scope="module")
def genome_dir(shared_data: Path) -> Path:
    return shared_data / "ml-genome"


@pytest.fixture(scope="module")
def data(ml_dir: Path, genome_dir: Path) -> MovieLensData:
    return MovieLensLoader().load(ml_dir, genome_dir=genome_dir)


@pytest.fixture(scope="module")
def raw(ml_dir: Path) -> dict[str, list[dict[str, str]]]:
    return {name: _rows(ml_dir / f"{name}.csv") for name in ("movies", "links", "ratings", "tags")}


@pytest.fixture(scope="module")
def movies(data: MovieLensData) -> dict[int, dict]:
    return {m["movie_id"]: m for m in data.movies.to_pylist()}


# -- counts ----------------------------------------------------------------------------------


def test_published_counts(data: MovieLensData) -> None:
    assert data.movies.num_rows == 9742
    assert data.ratings.num_rows == 100836
    assert data.tags.num_rows == 3683
    assert len(set(data.ratings.column("user_id").to_pylist())) == 610
    assert data.genome_tags.num_rows == 1128
    assert data.genome_scores.num_rows == 165781


def test_nothing_is_quarantined_and_every_row_is_accounted_for(data: MovieLensData) -> None:
    assert data.quarantine.rows == []
    assert data.rows_in == {
        "links": 9742,
        "movies": 9742,
        "ratings": 100836,
        "tags": 3683,
        "genome_tags": 1128,
        "genome_scores": 165781,
    }
    assert data.rows_loaded() == data.rows_in
    assert data.orphans["links"] == 0
    assert data.orphans["ratings"] == 0
    assert data.orphans["tags"] == 0


def test_file_order_and_ids_match_the_csv(data: MovieLensData, raw: dict) -> None:
    assert data.movies.column("movie_id").to_pylist() == [int(r["movieId"]) for r in raw["movies"]]
    assert data.movies.column("raw_title").to_pylist() == [r["title"] for r in raw["movies"]]


# -- line endings and text -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["movies", "links", "ratings", "tags"])
def test_files_are_crlf_and_no_value_keeps_a_carriage_return(
    ml_dir: Path, data: MovieLensData, name: str
) -> None:
    content = (ml_dir / f"{name}.csv").read_bytes()
    assert content.count(b"\r\n") == content.count(b"\n") > 0
    table = data.movies if name == "links" else getattr(data, name)
    for column in table.column_names:
        values = table.column(column).to_pylist()
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
        assert not any(isinstance(v, str) and "\r" in v for v in flat), column


def test_crlf_genome_files_are_read_cleanly(data: MovieLensData, genome_dir: Path) -> None:
    assert (genome_dir / "genome-tags.csv").read_bytes().count(b"\r\n") == 1129
    tags = data.genome_tags.column("tag").to_pylist()
    assert tags[:3] == ["007", "007 (series)", "18th century"]
    assert not any("\r" in t for t in tags)


def test_non_ascii_titles(data: MovieLensData, movies: dict[int, dict]) -> None:
    raw_titles = data.movies.column("raw_title").to_pylist()
    assert sum(1 for t in raw_titles if not t.isascii()) == 293
    les_mis = movies[73]
    assert les_mis["raw_title"] == "Misérables, Les (1995)"
    assert (les_mis["title"], les_mis["year"]) == ("Les Misérables", 1995)
    assert les_mis["title_key"] == "les miserables"


def test_quoted_titles_with_commas(ml_dir: Path, movies: dict[int, dict]) -> None:
    lines = (ml_dir / "movies.csv").read_text(encoding="utf-8").splitlines()[1:]
    quoted = [line for line in lines if line.split(",", 1)[1].startswith('"')]
    assert len(quoted) == 2080
    assert movies[11]["raw_title"] == "American President, The (1995)"
    assert movies[11]["title"] == "The American President"
    assert movies[11]["genres"] == ["Comedy", "Drama", "Romance"]
    city = movies[29]
    assert city["title"] == "The City of Lost Children"
    assert city["alt_title_keys"] == ["la cite des enfants perdus"]


def test_title_with_a_double_quote(movies: dict[int, dict]) -> None:
    movie = movies[7789]
    assert movie["raw_title"] == "11'09\"01 - September 11 (2002)"
    assert (movie["title"], movie["year"]) == ("11'09\"01 - September 11", 2002)
    assert movie["genres"] == ["Drama"]


def test_trailing_space_titles(data: MovieLensData, raw: dict) -> None:
    trailing = {int(r["movieId"]) for r in raw["movies"] if r["title"] != r["title"].rstrip()}
    assert len(trailing) == 11
    for movie in data.movies.to_pylist():
        assert movie["title"] == movie["title"].strip()
        if movie["movie_id"] in trailing:
            assert movie["year"] is not None
    dusk = next(m for m in data.movies.to_pylist() if m["movie_id"] == 27008)
    assert dusk["raw_title"] == "From Dusk Till Dawn 2: Texas Blood Money (1999) "
    assert (dusk["title"], dusk["year"]) == ("From Dusk Till Dawn 2: Texas Blood Money", 1999)


def test_titles_without_a_year(data: MovieLensData, raw: dict) -> None:
    no_year_suffix = [r for r in raw["movies"] if not re.search(r"\(\d{4}\)\s*$", r["title"])]
    assert len(no_year_suffix) == 13
    null_year = {m["movie_id"] for m in data.movies.to_pylist() if m["year"] is None}
    # 12 have no year at all; the 13th is the en-dash range.
    assert null_year == {int(r["movieId"]) for r in no_year_suffix} - {171749}
    assert len(null_year) == 12
    assert {40697, 162414, 176601} <= null_year  # Babylon 5, Moonlight, Black Mirror


def test_en_dash_year_range(movies: dict[int, dict]) -> None:
    movie = movies[171749]
    assert movie["raw_title"] == "Death Note: Desu nôto (2006–2007)"
    assert (movie["title"], movie["year"]) == ("Death Note: Desu nôto", 2006)
    parsed = parse_movielens_title(movie["raw_title"])
    assert (parsed.year, parsed.year_end) == (2006, 2007)


def test_duplicated_titles_are_all_kept(data: MovieLensData, raw: dict) -> None:
    ids: defaultdict[str, set[int]] = defaultdict(set)
    for r in raw["movies"]:
        ids[r["title"].strip()].add(int(r["movieId"]))
    duplicated = {title for title, movie_ids in ids.items() if len(movie_ids) > 1}
    assert duplicated == DUPLICATED_TITLES
    loaded = set(data.movies.column("movie_id").to_pylist())
    for title in duplicated:
        assert len(ids[title]) == 2
        assert ids[title] <= loaded
    assert ids["Emma (1996)"] == {838, 26958}
    assert ids["War of the Worlds (2005)"] == {34048, 64997}


# -- links -----------------------------------------------------------------------------------


def test_imdb_ids_are_zero_padded_strings(data: MovieLensData, raw: dict) -> None:
    assert sum(1 for r in raw["links"] if r["imdbId"].startswith("0")) == 7589
    expected = {int(r["movieId"]): "tt" + r["imdbId"] for r in raw["links"]}
    loaded = dict(
        zip(
            data.movies.column("movie_id").to_pylist(),
            data.movies.column("imdb_id").to_pylist(),
            strict=True,
        )
    )
    assert loaded == expected
    assert all(re.fullmatch(r"tt\d{7,}", v) for v in loaded.values())
    assert loaded[1] == "tt0114709"


def test_empty_tmdb_ids_are_null(data: MovieLensData, raw: dict) -> None:
    assert {int(r["movieId"]) for r in raw["links"] if not r["tmdbId"]} == TMDB_MISSING
    null_tmdb = {m["movie_id"] for m in data.movies.to_pylist() if m["tmdb_id"] is None}
    assert null_tmdb == TMDB_MISSING
    expected = {int(r["movieId"]): int(r["tmdbId"]) for r in raw["links"] if r["tmdbId"]}
    loaded = {m["movie_id"]: m["tmdb_id"] for m in data.movies.to_pylist() if m["tmdb_id"]}
    assert loaded == expected


def test_eight_digit_imdb_ids_are_never_truncated(tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_text(
        "movieId,title,genres\r\n"
        "1,Toy Story (1995),Animation\r\n"
        "2,Newer Film (2019),Drama\r\n"
        "3,Prefixed (2020),Drama\r\n"
        "4,Unpadded (1995),Comedy\r\n",
        encoding="utf-8",
        newline="",
    )
    (tmp_path / "links.csv").write_text(
        "movieId,imdbId,tmdbId\r\n1,0114709,862\r\n2,10872600,\r\n3,tt12345678,1\r\n4,114709,\r\n",
        encoding="utf-8",
        newline="",
    )
    data = MovieLensLoader().load(tmp_path)
    assert data.movies.column("imdb_id").to_pylist() == [
        "tt0114709",
        "tt10872600",
        "tt12345678",
        "tt0114709",
    ]
    assert data.movies.column("tmdb_id").to_pylist() == [862, None, 1, None]
    assert set(data.rows_in) == {"links", "movies"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("114709", "tt0114709"),
        ("0114709", "tt0114709"),
        ("tt0114709", "tt0114709"),
        ("TT0114709", "tt0114709"),
        (" 0114709 ", "tt0114709"),
        ("12345678", "tt12345678"),
        ("tt0012345678", "tt12345678"),
        ("1", "tt0000001"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_imdb_id(value: str, expected: str | None) -> None:
    assert normalize_imdb_id(value) == expected


@pytest.mark.parametrize(
    "value", ["abc", "0", "0000000", "tt", "nm0000123", "tt01132x8", "-114709"]
)
def test_normalize_imdb_id_rejects(value: str) -> None:
    with pytest.raises(ValueError, match=r"^not an IMDb (title )?id: "):
        normalize_imdb_id(value)


# -- genres ----------------------------------------------------------------------------------


def test_no_genres_listed_is_an_empty_list(data: MovieLensData, raw: dict) -> None:
    none_listed = {int(r["movieId"]) for r in raw["movies"] if r["genres"] == "(no genres listed)"}
    assert len(none_listed) == 34
    empty = {m["movie_id"] for m in data.movies.to_pylist() if m["genres"] == []}
    assert empty == none_listed


def test_genres_are_the_movielens_vocabulary_with_imax(data: MovieLensData, raw: dict) -> None:
    imax = sum(1 for r in raw["movies"] if "IMAX" in r["genres"].split("|"))
    assert imax == 158
    loaded = data.movies.column("genres").to_pylist()
    assert sum(1 for g in loaded if "IMAX" in g) == imax
    assert {g for genres in loaded for g in genres} == set(MOVIELENS_GENRES)
    assert data.unknown_genres == {}


# -- ratings ---------------------------------------------------------------------------------


def test_movies_without_ratings_occur_only_in_tags(data: MovieLensData) -> None:
    rated = set(data.ratings.column("movie_id").to_pylist())
    unrated = set(data.movies.column("movie_id").to_pylist()) - rated
    assert len(rated) == 9724
    assert len(unrated) == 18
    assert unrated <= set(data.tags.column("movie_id").to_pylist())


def test_half_star_ratings_and_timestamp_range(data: MovieLensData, raw: dict) -> None:
    ratings = data.ratings.column("rating").to_pylist()
    assert sorted(set(ratings)) == [x / 2 for x in range(1, 11)]
    assert Counter(ratings) == Counter(float(r["rating"]) for r in raw["ratings"])
    timestamps = data.ratings.column("timestamp").to_pylist()
    assert (min(timestamps), max(timestamps)) == (828124615, 1537799250)
    assert data.ratings.slice(0, 1).to_pylist() == [
        {"user_id": 1, "movie_id": 1, "rating": 4.0, "timestamp": 964982703}
    ]


# -- tags ------------------------------------------------------------------------------------


def test_tag_case_variants_and_quoted_artsy_are_normalised(data: MovieLensData, raw: dict) -> None:
    raw_tags = [r["tag"] for r in raw["tags"]]
    assert len(set(raw_tags)) == 1589
    assert len({t.lower() for t in raw_tags}) == 1475
    assert [t for t in raw_tags if '"' in t] == ['"artsy"']
    tags = data.tags.column("tag").to_pylist()
    assert all(t == t.lower() and t == t.strip() and '"' not in t for t in tags)
    # 1475 case-insensitive values, minus '"artsy"' which is 'artsy'.
    assert len(set(tags)) == 1474
    quoted = raw_tags.index('"artsy"')
    assert data.tags.slice(quoted, 1).to_pylist() == [
        {"user_id": 567, "movie_id": 4552, "tag": "artsy", "timestamp": 1525285878}
    ]
    by_movie: defaultdict[int, list[str]] = defaultdict(list)
    for row in data.tags.to_pylist():
        by_movie[row["movie_id"]].append(row["tag"])
    assert sorted(by_movie[5995]) == ["holocaust", "holocaust", "true story"]


@pytest.mark.parametrize(
    ("tag", "normalised"),
    [
        ('"artsy"', "artsy"),
        ('"Artsy" ', "artsy"),
        ("Highly quotable", "highly quotable"),
        ("  Highly \t quotable  ", "highly quotable"),
        ("“Dark”", "dark"),
        ("'cult'", "cult"),
        ("Leonardo DiCaprio", "leonardo dicaprio"),
        ('""', ""),
    ],
)
def test_normalize_user_tag(tag: str, normalised: str) -> None:
    assert normalize_user_tag(tag) == normalised


# -- genome ----------------------------------------------------------------------------------


def test_genome_tags_and_slice(data: MovieLensData, movies: dict[int, dict]) -> None:
    assert data.genome_tags.column("tag_id").to_pylist() == list(range(1, 1129))
    per_movie = Counter(data.genome_scores.column("movie_id").to_pylist())
    assert len(per_movie) == 147
    assert max(per_movie) == 159
    assert per_movie[159] == 1093  # the last movie of the slice is partial, and kept
    assert {n for m, n in per_movie.items() if m != 159} == {1128}
    in_release = set(per_movie) & set(movies)
    assert len(in_release) == 133
    assert data.orphans["genome_scores"] == (147 - 133) * 1128
    assert data.orphans["genome_scores_unknown_tag"] == 0
    relevance = data.genome_scores.column("relevance").to_pylist()
    assert min(relevance) >= 0.0 and max(relevance) <= 1.0


def test_genome_files_are_found_next_to_the_release(tmp_path: Path, shared_data: Path) -> None:
    for name in ("movies.csv", "links.csv"):
        (tmp_path / name).write_bytes((shared_data / "ml-latest-small" / name).read_bytes())
    for name in ("genome-tags.csv", "genome_scores.subset.csv"):
        (tmp_path / name).write_bytes((shared_data / "ml-genome" / name).read_bytes())
    data = MovieLensLoader().load(tmp_path)
    assert data.files["genome_scores"].name == "genome_scores.subset.csv"
    assert data.genome_scores.num_rows == 165781
    assert "ratings" not in data.rows_in and data.ratings.num_rows == 0


# -- Spark aggregations ----------------------------------------------------------------------


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


@pytest.mark.spark
def test_rating_stats_on_real_data(spark: SparkSession, data: MovieLensData, raw: dict) -> None:
    prior = MovieRagSettings().bayes_prior_count
    stats = {
        r["movie_id"]: r for r in rating_stats(arrow_to_spark(spark, data.ratings), prior).collect()
    }
    assert len(stats) == 9724
    by_movie: defaultdict[int, list[float]] = defaultdict(list)
    for r in raw["ratings"]:
        by_movie[int(r["movieId"])].append(float(r["rating"]))
    everything = [x for xs in by_movie.values() for x in xs]
    global_mean = sum(everything) / len(everything)
    for movie_id in (1, 318, 2959, 1473, 131724):  # popular ones and single-rating ones
        ratings = by_movie[movie_id]
        row = stats[movie_id]
        assert row["ml_rating_count"] == len(ratings)
        assert row["ml_rating_mean"] == pytest.approx(sum(ratings) / len(ratings), abs=1e-4)
        bayes = (global_mean * prior + sum(ratings)) / (prior + len(ratings))
        assert row["ml_rating_bayes"] == pytest.approx(bayes, abs=1e-4)
    assert stats[1]["ml_rating_count"] == 215
    # One 5-star rating does not beat a long record of high ratings.
    single_five = [m for m, xs in by_movie.items() if xs == [5.0]]
    assert single_five
    assert stats[single_five[0]]["ml_rating_bayes"] < stats[318]["ml_rating_bayes"]


@pytest.mark.spark
def test_genome_tag_lists_on_real_data(
    spark: SparkSession, data: MovieLensData, genome_dir: Path
) -> None:
    settings = MovieRagSettings()
    threshold, cap = settings.genome_threshold, settings.genome_max_tags
    lists = {
        r["movie_id"]: [(t["tag"], t["relevance"]) for t in r["genome_tags"]]
        for r in genome_tag_lists(
            arrow_to_spark(spark, data.genome_scores),
            arrow_to_spark(spark, data.genome_tags),
            threshold,
            cap,
        ).collect()
    }
    names = {int(r["tagId"]): r["tag"] for r in _rows(genome_dir / "genome-tags.csv")}
    scores: defaultdict[int, list[tuple[str, float]]] = defaultdict(list)
    for r in _rows(genome_dir / "genome_scores.subset.csv"):
        relevance = _float32(float(r["relevance"]))
        if relevance >= threshold:
            scores[int(r["movieId"])].append((names[int(r["tagId"])], relevance))
    assert set(lists) == set(scores)
    for movie_id in (1, 2, 159):
        expected = sorted(scores[movie_id], key=lambda t: (-round(t[1], 4), t[0]))[:cap]
        assert [t for t, _ in lists[movie_id]] == [t for t, _ in expected]
        assert [r for _, r in lists[movie_id]] == pytest.approx([r for _, r in expected], abs=1e-4)
    for movie_id, tags in lists.items():
        assert len(tags) == min(cap, len(scores[movie_id])), movie_id
        relevances = [r for _, r in tags]
        assert relevances == sorted(relevances, reverse=True)
        assert min(relevances) >= threshold


@pytest.mark.spark
def test_genome_tag_lists_threshold_cap_and_ties(spark: SparkSession) -> None:
    scores = spark.createDataFrame(
        [
            # movie 1: five tags above the threshold, capped at three; a tie goes alphabetical
            (1, 1, 0.9),
            (1, 4, 0.9),
            (1, 5, 0.5),
            (1, 6, 0.45),
            (1, 2, 0.41),
            # movie 2: exactly at the threshold is kept, just below is not
            (2, 2, 0.4),
            (2, 3, 0.39999),
            # movie 3: nothing reaches the threshold, so no row at all
            (3, 3, 0.1),
        ],
        "movie_id int, tag_id int, relevance float",
    )
    tags = spark.createDataFrame(
        [(1, "zombies"), (2, "dark"), (3, "funny"), (4, "atmospheric"), (5, "cult"), (6, "eerie")],
        "tag_id int, tag string",
    )
    rows = {
        r["movie_id"]: [(t["tag"], t["relevance"]) for t in r["genome_tags"]]
        for r in genome_tag_lists(scores, tags, 0.4, 3).collect()
    }
    assert rows == {
        1: [("atmospheric", 0.9), ("zombies", 0.9), ("cult", 0.5)],
        2: [("dark", 0.4)],
    }


@pytest.mark.spark
def test_user_tag_lists_on_real_data(spark: SparkSession, data: MovieLensData, raw: dict) -> None:
    lists = {
        r["movie_id"]: list(r["user_tags"])
        for r in user_tag_lists(arrow_to_spark(spark, data.tags)).collect()
    }
    counts: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for r in raw["tags"]:
        tag = " ".join(r["tag"].split()).strip('"').lower()
        counts[int(r["movieId"])][tag] += 1
    assert set(lists) == set(counts)
    for movie_id in (5995, 527, 1059, 4552, 60756, 296):
        expected = sorted(counts[movie_id], key=lambda t: (-counts[movie_id][t], t))
        assert lists[movie_id] == expected, movie_id
    assert lists[5995][0] == "holocaust"  # used twice, as 'holocaust' and 'Holocaust'
    assert lists[1059].count("shakespeare") == 1
    for tags in lists.values():
        assert len(tags) == len(set(tags))
