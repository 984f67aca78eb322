"""MovieLens release directories: parse, validate, write bronze tables.

Reads any release laid out like ml-latest-small, ml-latest, ml-20m, ml-25m or ml-32m
(``movies.csv``, ``links.csv``, optional ``ratings.csv``, ``tags.csv`` and genome files named
``genome[-_]scores*.csv`` / ``genome[-_]tags*.csv``). Parsing happens in Python so every
rejected row is quarantined with its line number (the field parsers are in
:mod:`movie_rag.ingest._movielens_fields`); table writes run on Spark, and the per-movie
aggregations in :mod:`movie_rag.ingest.aggregates`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from movie_rag._fault import fault_point
from movie_rag.catalog.genres import parse_movielens_genres
from movie_rag.catalog.titles import parse_movielens_title, title_key
from movie_rag.errors import InputFileError
from movie_rag.ingest._movielens_fields import (
    FieldError,
    arrow_read,
    count_orphans,
    find_files,
    parse_field,
    parse_float,
    parse_optional_int,
    parse_positive_int,
    parse_timestamp,
    rows_to_table,
)
from movie_rag.ingest.ids import normalize_imdb_id
from movie_rag.ingest.quality import Quarantine
from movie_rag.ingest.readers import read_csv_records
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
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
        files = find_files(directory, Path(genome_dir) if genome_dir else None)
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
                movie_id = parse_positive_int(v["movieId"], "movieId")
                imdb_id = parse_field(normalize_imdb_id, v["imdbId"], "imdbId")
                tmdb_id = parse_optional_int(v["tmdbId"], "tmdbId")
            except FieldError as exc:
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
                movie_id = parse_positive_int(v["movieId"], "movieId")
                if not v["title"].strip():
                    raise FieldError("title", "empty title")
            except FieldError as exc:
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
            rating = parse_float(v["rating"], "rating")
            if not (0.5 <= rating <= 5.0) or rating * 2 != int(rating * 2):
                raise FieldError("rating", f"rating {rating} is not a half star in 0.5–5")
            return (
                parse_positive_int(v["userId"], "userId"),
                parse_positive_int(v["movieId"], "movieId"),
                rating,
                parse_timestamp(v["timestamp"]),
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
        data.orphans["ratings"] = count_orphans(table, known)
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
                    raise FieldError("tag", "empty tag")
                rows.append(
                    (
                        parse_positive_int(v["userId"], "userId"),
                        parse_positive_int(v["movieId"], "movieId"),
                        tag,
                        parse_timestamp(v["timestamp"]),
                    )
                )
            except FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
        data.rows_in["tags"] = len(rows) + data.quarantine.count(source)
        table = rows_to_table(rows, TAGS_SCHEMA)
        data.orphans["tags"] = count_orphans(table, known)
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
                tag_id = parse_positive_int(record.values["tagId"], "tagId")
                tag = " ".join(record.values["tag"].split())
                if not tag:
                    raise FieldError("tag", "empty tag")
            except FieldError as exc:
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
        return rows_to_table(rows, GENOME_TAGS_SCHEMA)

    def _load_genome_scores(self, path: Path, known: pa.Array, data: MovieLensData) -> pa.Table:
        def convert(v: dict[str, str]) -> tuple[Any, ...]:
            relevance = parse_float(v["relevance"], "relevance")
            if not 0.0 <= relevance <= 1.0:
                raise FieldError("relevance", f"relevance {relevance} is outside 0–1")
            return (
                parse_positive_int(v["movieId"], "movieId"),
                parse_positive_int(v["tagId"], "tagId"),
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
        data.orphans["genome_scores"] = count_orphans(table, known)
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
        fast = arrow_read(path, columns, schema)
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
            except FieldError as exc:
                data.quarantine.add(source, path, record.line, exc.field, exc.reason, record.raw)
        data.rows_in[role] = len(rows) + data.quarantine.count(source)
        return rows_to_table(rows, schema)

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
