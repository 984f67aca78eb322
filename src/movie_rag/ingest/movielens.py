"""MovieLens release directories: parse, validate, aggregate, write bronze tables.

Reads any release laid out like ml-latest-small, ml-latest, ml-20m, ml-25m or ml-32m
(``movies.csv``, ``links.csv``, optional ``ratings.csv``, ``tags.csv`` and genome files named
``genome[-_]scores*.csv`` / ``genome[-_]tags*.csv``). Parsing happens in Python so every
rejected row is quarantined with its line number; aggregation and table writes run on Spark.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from movie_rag._fault import fault_point
from movie_rag.catalog.genres import parse_movielens_genres
from movie_rag.catalog.titles import parse_movielens_title, title_key
from movie_rag.errors import InputFileError
from movie_rag.ingest.ids import normalize_imdb_id
from movie_rag.ingest.quality import Quarantine, check_readable, read_csv_records
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from movie_rag.tables import TableStore

__all__ = ["MovieLensData", "MovieLensLoader", "normalize_imdb_id", "normalize_user_tag"]

logger = logging.getLogger("movie_rag")

_STRINGS = pa.list_(pa.string())
MOVIES_SCHEMA = pa.schema(
    [
        ("movie_id", pa.int32()),
        ("raw_title", pa.string()),
        ("title", pa.string()),
        ("year", pa.int32()),
        ("title_key", pa.string()),
        ("alt_title_keys", _STRINGS),
        ("genres", _STRINGS),
        ("imdb_id", pa.string()),
        ("tmdb_id", pa.int32()),
    ]
)
RATINGS_SCHEMA = pa.schema(
    [
        ("user_id", pa.int32()),
        ("movie_id", pa.int32()),
        ("rating", pa.float32()),
        ("timestamp", pa.int64()),
    ]
)
TAGS_SCHEMA = pa.schema(
    [
        ("user_id", pa.int32()),
        ("movie_id", pa.int32()),
        ("tag", pa.string()),
        ("timestamp", pa.int64()),
    ]
)
GENOME_SCORES_SCHEMA = pa.schema(
    [("movie_id", pa.int32()), ("tag_id", pa.int32()), ("relevance", pa.float32())]
)
GENOME_TAGS_SCHEMA = pa.schema([("tag_id", pa.int32()), ("tag", pa.string())])

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")


def normalize_user_tag(tag: str) -> str:
    """Lower-case, unquote and collapse a free-text user tag (``'"Artsy" '`` → ``'artsy'``)."""
    tag = " ".join(tag.split()).strip("\"'“”‘’ ").lower()
    return " ".join(tag.split())


@dataclass
class MovieLensData:
    """A parsed MovieLens release (Arrow tables, no Spark needed).

    Attributes:
        directory: The release directory.
        movies: One row per movie with links joined: movie_id, raw_title, title (display
            form), year, title_key, alt_title_keys, genres, imdb_id, tmdb_id.
        ratings: user_id, movie_id, rating, timestamp (empty when there is no ratings file).
        tags: user_id, movie_id, tag, timestamp.
        genome_scores: movie_id, tag_id, relevance (empty without genome files).
        genome_tags: tag_id, tag.
        files: The files read, by role.
        rows_in: Records read per role.
        quarantine: Rejected rows (sources ``movielens_<role>``).
        orphans: Valid rows that reference a movie (or genome tag) the release does not
            have, per role; they stay in the bronze tables but cannot reach movies_info.
        unknown_genres: Genre names in movies.csv outside the MovieLens vocabulary.
        genome_orphan_rows: Genome scores whose movie or tag the release lacks.
        warnings: Problems of the file set as a whole (no movies while other files have
            rows, rows referencing unknown movies, no links.csv), for the build report.
    """

    directory: Path
    movies: pa.Table
    ratings: pa.Table
    tags: pa.Table
    genome_scores: pa.Table
    genome_tags: pa.Table
    files: dict[str, Path] = field(default_factory=dict)
    rows_in: dict[str, int] = field(default_factory=dict)
    quarantine: Quarantine = field(default_factory=Quarantine)
    orphans: dict[str, int] = field(default_factory=dict)
    unknown_genres: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    genome_orphan_rows: int = 0

    def rows_orphaned(self) -> dict[str, int]:
        """Loaded rows per role that reference a movie or genome tag the release lacks."""
        orphaned = {role: self.orphans.get(role, 0) for role in self.rows_in}
        if "genome_scores" in orphaned:
            # A score can miss both its movie and its tag; the row counts once.
            orphaned["genome_scores"] = self.genome_orphan_rows
        return orphaned

    def rows_loaded(self) -> dict[str, int]:
        """Rows kept per role."""
        tables = {
            "movies": self.movies,
            "links": None,
            "ratings": self.ratings,
            "tags": self.tags,
            "genome_scores": self.genome_scores,
            "genome_tags": self.genome_tags,
        }
        loaded = {}
        for role in self.rows_in:
            if role == "links":
                loaded[role] = self.rows_in[role] - self.quarantine.count("movielens_links")
            else:
                table = tables[role]
                loaded[role] = table.num_rows if table is not None else 0
        return loaded


class MovieLensLoader:
    """Load a MovieLens release directory and write its bronze tables.

    Args:
        settings: Settings (genome threshold and cap, Bayesian prior, table names).

    Example:
        >>> from movie_rag import MovieLensLoader
        >>> from movie_rag.datasets import sample_catalogue
        >>> data = MovieLensLoader().load(sample_catalogue().movielens_dir)
        >>> data.movies.num_rows > 50
        True
    """

    def __init__(self, settings: MovieRagSettings | None = None) -> None:
        self.settings = settings or MovieRagSettings()

    def __repr__(self) -> str:
        return f"MovieLensLoader(genome_threshold={self.settings.genome_threshold})"

    def load(self, directory: str | Path, genome_dir: str | Path | None = None) -> MovieLensData:
        """Parse and validate a release.

        Args:
            directory: The release directory (must hold ``movies.csv``).
            genome_dir: Where the genome files are, when not in ``directory``.

        Returns:
            The parsed release; rejected rows are in ``quarantine``.

        Raises:
            InputFileError: The directory or ``movies.csv`` is missing, or a file is unusable.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise InputFileError(directory, "directory not found", "a MovieLens release directory")
        files = _find_files(directory, Path(genome_dir) if genome_dir else None)
        data = MovieLensData(
            directory=directory,
            movies=MOVIES_SCHEMA.empty_table(),
            ratings=RATINGS_SCHEMA.empty_table(),
            tags=TAGS_SCHEMA.empty_table(),
            genome_scores=GENOME_SCORES_SCHEMA.empty_table(),
            genome_tags=GENOME_TAGS_SCHEMA.empty_table(),
            files=files,
        )
        links = self._load_links(files.get("links"), data)
        data.movies = self._load_movies(files["movies"], links, data)
        known = pa.array(data.movies.column("movie_id").to_pylist(), pa.int32())
        if "ratings" in files:
            data.ratings = self._load_ratings(files["ratings"], known, data)
        if "tags" in files:
            data.tags = self._load_tags(files["tags"], known, data)
        if "genome_tags" in files:
            data.genome_tags = self._load_genome_tags(files["genome_tags"], data)
        if "genome_scores" in files:
            data.genome_scores = self._load_genome_scores(files["genome_scores"], known, data)
        data.warnings.extend(_file_set_warnings(data))
        for warning in data.warnings:
            logger.warning("%s", warning)
        logger.info(
            "MovieLens %s: %s loaded, %d quarantined",
            directory,
            data.rows_loaded(),
            data.quarantine.count(),
        )
        return data

    # -- movies and links ---------------------------------------------------------------

    def _load_links(self, path: Path | None, data: MovieLensData) -> dict[int, tuple[Any, Any]]:
        links: dict[int, tuple[Any, Any]] = {}
        if path is None:
            data.warnings.append(
                f"{data.directory} has no links.csv: no IMDb ids, IMDB joins fall back to titles"
            )
            return links
        source = "movielens_links"
        first_row: dict[int, int] = {}
        for record in read_csv_records(
            path,
            source=source,
            required=("movieId", "imdbId", "tmdbId"),
            quarantine=data.quarantine,
            expected="MovieLens links.csv (movieId,imdbId,tmdbId)",
        ):
            v = record.values
            try:
                movie_id = _positive_int(v["movieId"], "movieId")
                imdb_id = _field(normalize_imdb_id, v["imdbId"], "imdbId")
                tmdb_id = _optional_int(v["tmdbId"], "tmdbId")
            except _FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
                continue
            if movie_id in first_row:
                reason = f"duplicate movieId {movie_id} (first at row {first_row[movie_id]})"
                data.quarantine.add(source, path, record.line, "movieId", reason, record.raw)
                continue
            first_row[movie_id] = record.line
            links[movie_id] = (imdb_id, tmdb_id)
        data.rows_in["links"] = len(links) + data.quarantine.count(source)
        return links

    def _load_movies(
        self, path: Path, links: dict[int, tuple[Any, Any]], data: MovieLensData
    ) -> pa.Table:
        source = "movielens_movies"
        columns: dict[str, list[Any]] = {name: [] for name in MOVIES_SCHEMA.names}
        first_row: dict[int, int] = {}
        unknown: Counter[str] = Counter()
        for record in read_csv_records(
            path,
            source=source,
            required=("movieId", "title", "genres"),
            quarantine=data.quarantine,
            expected="MovieLens movies.csv (movieId,title,genres)",
        ):
            v = record.values
            try:
                movie_id = _positive_int(v["movieId"], "movieId")
                if not v["title"].strip():
                    raise _FieldError("title", "empty title")
            except _FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
                continue
            if movie_id in first_row:
                reason = f"duplicate movieId {movie_id} (first at row {first_row[movie_id]})"
                data.quarantine.add(source, path, record.line, "movieId", reason, record.raw)
                continue
            first_row[movie_id] = record.line
            parsed = parse_movielens_title(v["title"])
            genres, unknown_genres = parse_movielens_genres(v["genres"])
            unknown.update(unknown_genres)
            imdb_id, tmdb_id = links.get(movie_id, (None, None))
            columns["movie_id"].append(movie_id)
            columns["raw_title"].append(v["title"])
            columns["title"].append(parsed.title)
            columns["year"].append(parsed.year)
            columns["title_key"].append(title_key(parsed.title))
            columns["alt_title_keys"].append(
                sorted({title_key(a) for a in parsed.alternates} - {""})
            )
            columns["genres"].append(genres)
            columns["imdb_id"].append(imdb_id)
            columns["tmdb_id"].append(tmdb_id)
        data.rows_in["movies"] = len(columns["movie_id"]) + data.quarantine.count(source)
        data.orphans["links"] = len(set(links) - set(first_row))
        data.unknown_genres = dict(unknown)
        return pa.table(columns, schema=MOVIES_SCHEMA)

    # -- ratings, tags, genome ------------------------------------------------------------

    def _load_ratings(self, path: Path, known: pa.Array, data: MovieLensData) -> pa.Table:
        def convert(v: dict[str, str]) -> tuple[Any, ...]:
            rating = _float(v["rating"], "rating")
            if not (0.5 <= rating <= 5.0) or rating * 2 != int(rating * 2):
                raise _FieldError("rating", f"rating {rating} is not a half star in 0.5–5")
            return (
                _positive_int(v["userId"], "userId"),
                _positive_int(v["movieId"], "movieId"),
                rating,
                _timestamp(v["timestamp"]),
            )

        def valid(table: pa.Table) -> bool:
            rating = table.column("rating")
            halves = pc.multiply(rating, 2)
            return bool(
                pc.all(pc.and_(pc.greater_equal(rating, 0.5), pc.less_equal(rating, 5.0))).as_py()
                and pc.all(pc.equal(halves, pc.round(halves))).as_py()
                and pc.min(table.column("user_id")).as_py() > 0
                and pc.min(table.column("movie_id")).as_py() > 0
                and pc.min(table.column("timestamp")).as_py() >= 0
            )

        table = self._read_numeric(
            path,
            "ratings",
            ("userId", "movieId", "rating", "timestamp"),
            RATINGS_SCHEMA,
            convert,
            valid,
            data,
        )
        data.orphans["ratings"] = _count_orphans(table, known)
        return table

    def _load_tags(self, path: Path, known: pa.Array, data: MovieLensData) -> pa.Table:
        source = "movielens_tags"
        rows: list[tuple[Any, ...]] = []
        for record in read_csv_records(
            path,
            source=source,
            required=("userId", "movieId", "tag", "timestamp"),
            quarantine=data.quarantine,
            expected="MovieLens tags.csv (userId,movieId,tag,timestamp)",
        ):
            v = record.values
            try:
                tag = normalize_user_tag(v["tag"])
                if not tag:
                    raise _FieldError("tag", "empty tag")
                rows.append(
                    (
                        _positive_int(v["userId"], "userId"),
                        _positive_int(v["movieId"], "movieId"),
                        tag,
                        _timestamp(v["timestamp"]),
                    )
                )
            except _FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
        data.rows_in["tags"] = len(rows) + data.quarantine.count(source)
        table = _rows_to_table(rows, TAGS_SCHEMA)
        data.orphans["tags"] = _count_orphans(table, known)
        return table

    def _load_genome_tags(self, path: Path, data: MovieLensData) -> pa.Table:
        source = "movielens_genome_tags"
        rows: list[tuple[Any, ...]] = []
        seen: dict[int, int] = {}
        for record in read_csv_records(
            path,
            source=source,
            required=("tagId", "tag"),
            quarantine=data.quarantine,
            expected="MovieLens genome-tags.csv (tagId,tag)",
        ):
            try:
                tag_id = _positive_int(record.values["tagId"], "tagId")
                tag = " ".join(record.values["tag"].split())
                if not tag:
                    raise _FieldError("tag", "empty tag")
            except _FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
                continue
            if tag_id in seen:
                data.quarantine.add(
                    source,
                    path,
                    record.line,
                    "tagId",
                    f"duplicate tagId {tag_id} (first at row {seen[tag_id]})",
                    record.raw,
                )
                continue
            seen[tag_id] = record.line
            rows.append((tag_id, tag))
        data.rows_in["genome_tags"] = len(rows) + data.quarantine.count(source)
        return _rows_to_table(rows, GENOME_TAGS_SCHEMA)

    def _load_genome_scores(self, path: Path, known: pa.Array, data: MovieLensData) -> pa.Table:
        def convert(v: dict[str, str]) -> tuple[Any, ...]:
            relevance = _float(v["relevance"], "relevance")
            if not 0.0 <= relevance <= 1.0:
                raise _FieldError("relevance", f"relevance {relevance} is outside 0–1")
            return (
                _positive_int(v["movieId"], "movieId"),
                _positive_int(v["tagId"], "tagId"),
                relevance,
            )

        def valid(table: pa.Table) -> bool:
            relevance = table.column("relevance")
            return bool(
                pc.all(pc.and_(pc.greater_equal(relevance, 0), pc.less_equal(relevance, 1))).as_py()
                and pc.min(table.column("movie_id")).as_py() > 0
                and pc.min(table.column("tag_id")).as_py() > 0
            )

        table = self._read_numeric(
            path,
            "genome_scores",
            ("movieId", "tagId", "relevance"),
            GENOME_SCORES_SCHEMA,
            convert,
            valid,
            data,
        )
        data.orphans["genome_scores"] = _count_orphans(table, known)
        tag_ids = data.genome_tags.column("tag_id")
        unknown_tag = pc.invert(pc.is_in(table.column("tag_id"), value_set=tag_ids))
        data.orphans["genome_scores_unknown_tag"] = int(pc.sum(unknown_tag).as_py() or 0)
        unknown_movie = pc.invert(pc.is_in(table.column("movie_id"), value_set=known))
        data.genome_orphan_rows = int(pc.sum(pc.or_(unknown_tag, unknown_movie)).as_py() or 0)
        return table

    def _read_numeric(
        self,
        path: Path,
        role: str,
        columns: tuple[str, ...],
        schema: pa.Schema,
        convert: Callable[[dict[str, str]], tuple[Any, ...]],
        valid: Callable[[pa.Table], bool],
        data: MovieLensData,
    ) -> pa.Table:
        """Fast path for the big all-numeric files, exact path when anything is off.

        A clean ratings or genome file (tens of millions of rows in the large releases) is read
        by Arrow's CSV reader; if that read fails or any value breaks the contract, the file is
        read again row by row so that each bad row is quarantined with its line number.
        """
        fast = _arrow_read(path, columns, schema)
        if fast is not None and (fast.num_rows == 0 or valid(fast)):
            data.rows_in[role] = fast.num_rows
            return fast
        source = f"movielens_{role}"
        rows: list[tuple[Any, ...]] = []
        for record in read_csv_records(
            path,
            source=source,
            required=columns,
            quarantine=data.quarantine,
            expected=f"MovieLens {path.name.removesuffix('.gz')} ({','.join(columns)})",
        ):
            try:
                rows.append(convert(record.values))
            except _FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
        data.rows_in[role] = len(rows) + data.quarantine.count(source)
        return _rows_to_table(rows, schema)

    # -- Spark side -----------------------------------------------------------------------

    def write_bronze(self, data: MovieLensData, store: TableStore) -> dict[str, str]:
        """Write the release as bronze tables.

        Tables: ``movielens_movies``, ``movielens_ratings``, ``movielens_tags``,
        ``movielens_genome_scores``, ``movielens_genome_tags``.

        Args:
            data: The parsed release.
            store: Where tables go.

        Returns:
            Table name → location.
        """
        written = {}
        for name, table in (
            ("movielens_movies", data.movies),
            ("movielens_ratings", data.ratings),
            ("movielens_tags", data.tags),
            ("movielens_genome_scores", data.genome_scores),
            ("movielens_genome_tags", data.genome_tags),
        ):
            store.write(table, name, layer="bronze")
            written[name] = store.location(name, "bronze")
            fault_point("bronze")
        return written


# -- aggregations (Spark) -------------------------------------------------------------------


def rating_stats(ratings: DataFrame, prior_count: float) -> DataFrame:
    """Per-movie rating count, mean and Bayesian mean.

    The Bayesian mean shrinks a movie's mean towards the global mean ``C`` with ``m`` pseudo
    ratings: ``(C*m + sum) / (m + n)``, so one 5-star rating does not top the charts.

    Args:
        ratings: user_id, movie_id, rating.
        prior_count: ``m``.

    Returns:
        movie_id, ml_rating_count, ml_rating_mean, ml_rating_bayes (rounded to 4 places).
    """
    from pyspark.sql import functions as F

    global_mean = ratings.agg(F.avg("rating")).collect()[0][0]
    if global_mean is None:
        return ratings.sparkSession.createDataFrame(
            [], "movie_id int, ml_rating_count int, ml_rating_mean double, ml_rating_bayes double"
        )
    m = float(prior_count)
    return ratings.groupBy("movie_id").agg(
        F.count("*").cast("int").alias("ml_rating_count"),
        F.round(F.avg("rating").cast("double"), 4).alias("ml_rating_mean"),
        F.round(
            (F.lit(float(global_mean) * m) + F.sum("rating").cast("double"))
            / (F.lit(m) + F.count("*")),
            4,
        ).alias("ml_rating_bayes"),
    )


def genome_tag_lists(scores: DataFrame, tags: DataFrame, threshold: float, cap: int) -> DataFrame:
    """Per-movie genome tags at or above ``threshold``, most relevant first, at most ``cap``.

    Returns:
        movie_id, genome_tags (array of {tag, relevance}).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ranked = (
        scores.where(F.col("relevance") >= F.lit(threshold))
        .join(tags, on="tag_id", how="inner")
        .withColumn("relevance", F.round(F.col("relevance").cast("double"), 4))
        .withColumn(
            "rank",
            F.row_number().over(
                Window.partitionBy("movie_id").orderBy(F.desc("relevance"), F.asc("tag"))
            ),
        )
        .where(F.col("rank") <= cap)
    )
    return ranked.groupBy("movie_id").agg(
        F.transform(
            F.array_sort(F.collect_list(F.struct("rank", "tag", "relevance"))),
            lambda s: F.struct(s["tag"].alias("tag"), s["relevance"].alias("relevance")),
        ).alias("genome_tags")
    )


def user_tag_lists(tags: DataFrame) -> DataFrame:
    """Per-movie distinct user tags (already normalised), most used first, then alphabetical.

    Returns:
        movie_id, user_tags (array of strings).
    """
    from pyspark.sql import functions as F

    counted = tags.groupBy("movie_id", "tag").agg(F.count("*").alias("uses"))
    return counted.groupBy("movie_id").agg(
        F.transform(
            F.array_sort(F.collect_list(F.struct((-F.col("uses")).alias("neg"), "tag"))),
            lambda s: s["tag"],
        ).alias("user_tags")
    )


# -- helpers --------------------------------------------------------------------------------

_ORPHAN_FILES = {
    "links": "links.csv",
    "ratings": "ratings.csv",
    "tags": "tags.csv",
    "genome_scores": "genome scores",
}


def _file_set_warnings(data: MovieLensData) -> list[str]:
    """What is wrong with the release as a set of files (not with any one row)."""
    warnings = []
    others = {
        role: n
        for role, n in data.rows_loaded().items()
        if role not in ("movies", "genome_tags") and n
    }
    if data.movies.num_rows == 0 and others:
        shown = ", ".join(f"{n} {role}" for role, n in others.items())
        warnings.append(
            f"{data.files['movies']}: no movies (header only or every row quarantined) "
            f"while the release has {shown}: those rows reference no known movie"
        )
    for role, label in _ORPHAN_FILES.items():
        count = data.orphans.get(role, 0)
        if not count or role not in data.rows_in:
            continue
        if role == "links":
            what = "links of movies not in movies.csv (no movie gets them)"
        else:
            what = f"{label} rows of movies not in movies.csv (kept in bronze, not in movies_info)"
        share = count / max(data.rows_in[role] - data.quarantine.count(f"movielens_{role}"), 1)
        warnings.append(f"{data.files[role]}: {count} {what}, {share:.0%} of the loaded rows")
    unknown_tag = data.orphans.get("genome_scores_unknown_tag", 0)
    if unknown_tag:
        warnings.append(
            f"{data.files['genome_scores']}: {unknown_tag} genome scores of tag ids not in "
            "the genome tags file"
        )
    return warnings


class _FieldError(ValueError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _field(fn: Callable[[str], Any], value: str, name: str) -> Any:
    try:
        return fn(value)
    except ValueError as exc:
        raise _FieldError(name, str(exc)) from None


def _int(value: str, name: str) -> int:
    # int() alone would also take "1_0", "+3" and other scripts' digits.
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise _FieldError(name, f"not an integer: {value!r}")
    return int(text)


def _positive_int(value: str, name: str) -> int:
    number = _int(value, name)
    if not 0 < number <= _INT32_MAX:
        raise _FieldError(name, f"{name} must be a positive integer, got {value!r}")
    return number


def _timestamp(value: str) -> int:
    """Seconds since 1970 (MovieLens' timestamps), in the int64 range of the bronze tables."""
    number = _int(value, "timestamp")
    if not 0 <= number <= _INT64_MAX:
        raise _FieldError(
            "timestamp", f"timestamp must be seconds since 1970 (0 to 2**63-1), got {value!r}"
        )
    return number


def _optional_int(value: str, name: str) -> int | None:
    if not value.strip():
        return None
    return _positive_int(value, name)


def _float(value: str, name: str) -> float:
    text = value.strip()
    try:
        # float() alone would also take "1_0" and other scripts' digits.
        if not text.isascii() or "_" in text:
            raise ValueError(text)
        number = float(text)
    except ValueError:
        raise _FieldError(name, f"not a number: {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _FieldError(name, f"not a finite number: {value!r}")
    return number


def _rows_to_table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
    return pa.table(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _count_orphans(table: pa.Table, known: pa.Array) -> int:
    if table.num_rows == 0:
        return 0
    missing = pc.invert(pc.is_in(table.column("movie_id"), value_set=known))
    return int(pc.sum(missing).as_py() or 0)


def _arrow_read(path: Path, columns: tuple[str, ...], schema: pa.Schema) -> pa.Table | None:
    try:
        with path.open("rb") as probe:
            header = probe.readline().decode("utf-8-sig").strip().split(",")
        if header != list(columns):
            return None  # let the exact reader explain what is wrong
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict(zip(columns, schema.types, strict=True)),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError):
        return None
    if table.num_columns != len(columns) or any(
        table.column(i).null_count for i in range(table.num_columns)
    ):
        return None
    return pa.Table.from_arrays(table.columns, schema=schema)


_PATTERNS = {
    "movies": ("movies.csv",),
    "links": ("links.csv",),
    "ratings": ("ratings.csv",),
    "tags": ("tags.csv",),
    "genome_scores": ("genome-scores*.csv", "genome_scores*.csv"),
    "genome_tags": ("genome-tags*.csv", "genome_tags*.csv"),
}


def _find_files(directory: Path, genome_dir: Path | None) -> dict[str, Path]:
    if genome_dir is not None and not genome_dir.is_dir():
        raise InputFileError(genome_dir, "directory not found", "a directory with genome files")
    found: dict[str, Path] = {}
    for role, patterns in _PATTERNS.items():
        where = [directory]
        if role.startswith("genome") and genome_dir is not None:
            where.insert(0, genome_dir)
        for place in where:
            for pattern in patterns:
                if "*" not in pattern:
                    for name in (pattern, f"{pattern}.gz"):
                        # A listing skips a symlink that does not resolve: name it instead.
                        if (place / name).is_symlink():
                            check_readable(place / name, f"MovieLens {pattern}")
            matches = sorted({p for pattern in patterns for p in place.glob(pattern)})
            matches += sorted({p for pattern in patterns for p in place.glob(pattern + ".gz")})
            if len(matches) > 1:
                raise InputFileError(
                    place, f"several {role} files: {[m.name for m in matches]}", "exactly one"
                )
            if matches:
                found[role] = matches[0]
                break
    if genome_dir is not None and not any(
        found.get(role, directory).parent == genome_dir for role in ("genome_scores", "genome_tags")
    ):
        raise InputFileError(
            genome_dir, "no genome files here", "genome-scores.csv and genome-tags.csv"
        )
    if "movies" not in found:
        raise InputFileError(
            directory / "movies.csv", "file not found", "a MovieLens release with movies.csv"
        )
    if ("genome_scores" in found) != ("genome_tags" in found):
        have = "genome_scores" if "genome_scores" in found else "genome_tags"
        raise InputFileError(
            found[have], "genome scores and genome tags come together", "both genome files"
        )
    return found
