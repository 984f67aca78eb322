"""The official IMDb datasets: ``title.basics.tsv[.gz]`` and its siblings.

A directory with ``title.basics`` and optionally ``title.ratings``, ``title.principals``,
``title.crew`` and ``name.basics``. ``tvEpisode`` (and ``videoGame``) rows are skipped by
design and reported in the quarantine with the reason ``"tvEpisode not a movie"``, so no row
is lost silently. Malformed lines of the side files (ratings, people, names) are logged and
skipped: they are not records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movie_rag.errors import InputFileError
from movie_rag.ingest.imdb.collector import Collected, Collector
from movie_rag.ingest.imdb.registry import BY_COLUMNS, BY_FILE_NAME, FormatSpec
from movie_rag.ingest.imdb.values import (
    NOT_MOVIES,
    Notes,
    clean_list,
    lenient,
    parse_count,
    parse_rating,
    parse_runtime,
    parse_year,
    required_imdb_id,
    required_title,
)
from movie_rag.ingest.readers import open_text

logger = logging.getLogger("movie_rag")

TSV_BASICS_REQUIRED = (
    "tconst",
    "titleType",
    "primaryTitle",
    "startYear",
    "runtimeMinutes",
    "genres",
)
_TSV_NULL = "\\N"
_CAST_CATEGORIES = frozenset({"actor", "actress", "self"})


def find_tsv(directory: Path, stem: str) -> Path | None:
    """``<stem>.tsv.gz`` or ``<stem>.tsv`` in ``directory``, or None."""
    for suffix in (".tsv.gz", ".tsv"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def basics_file(path: Path) -> Path:
    """The title.basics file itself, or the one in the directory ``path``."""
    if path.is_dir():
        found = find_tsv(path, "title.basics")
        if found is None:
            raise InputFileError(
                path, "no title.basics file in this directory", "title.basics.tsv[.gz]"
            )
        return found
    if not path.exists():
        raise InputFileError(path, "file not found")
    return path


def read_tsv(
    path: Path,
    required: tuple[str, ...],
    on_bad: Callable[[int, str, str], None],
) -> Iterator[tuple[int, str, dict[str, str | None]]]:
    r"""IMDb's TSV: no quoting (titles may start with a quote), ``\N`` for null.

    Yields ``(line, raw, values)``; rows of the wrong width or with undecodable bytes go to
    ``on_bad(line, reason, raw)``.
    """
    expected = f"an IMDb dataset TSV with columns {', '.join(required)}"
    with open_text(path, expected) as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if header == [""]:
            raise InputFileError(path, "file is empty", expected)
        missing = [name for name in required if name not in header]
        if missing:
            raise InputFileError(path, f"missing column(s) {missing}; header is {header}", expected)
        positions = {name: header.index(name) for name in required}
        width = len(header)
        for number, line in enumerate(handle, start=2):
            raw = line.rstrip("\r\n")
            if not raw:
                continue
            fields = raw.split("\t")
            if len(fields) != width:
                on_bad(number, f"expected {width} fields, found {len(fields)}", raw)
                continue
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                on_bad(number, "not valid UTF-8 (wrong file encoding?)", raw)
                continue
            values = {
                n: None if fields[p] == _TSV_NULL else fields[p] for n, p in positions.items()
            }
            yield number, raw, values


@dataclass
class _SideFileProblems:
    """Bad lines of ratings/principals/names: logged, since they are not records themselves."""

    path: Path
    count: int = 0
    first: str = ""

    def __call__(self, line: int, reason: str, raw: str) -> None:
        self.count += 1
        if not self.first:
            self.first = f"line {line}: {reason}"

    def log(self) -> None:
        if self.count:
            logger.warning(
                "%s: %d malformed line(s) skipped (first %s)", self.path, self.count, self.first
            )


def tsv_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    """Map one title.basics row joined with its rating, people and names."""
    return {
        "imdb_id": required_imdb_id(record["tconst"], "tconst"),
        "title": required_title(record["primaryTitle"], "primaryTitle"),
        "year": lenient(notes, "startYear", record["startYear"], parse_year),
        "genre_names": (record["genres"] or "").split(","),
        "directors": clean_list(record["directors"]),
        "cast": clean_list(record["cast"]),
        "imdb_rating": lenient(notes, "averageRating", record["averageRating"], parse_rating),
        "votes": lenient(notes, "numVotes", record["numVotes"], parse_count),
        "runtime": lenient(notes, "runtimeMinutes", record["runtimeMinutes"], parse_runtime),
    }


def load_imdb_tsv(path: Path) -> Collected:
    """Read title.basics and join the ratings, people and names of its movies."""
    basics = basics_file(path)
    collector = Collector("imdb_tsv", basics, exact_duplicates=False)
    movies: list[tuple[int, str, dict[str, Any]]] = []
    for line, raw, values in read_tsv(basics, TSV_BASICS_REQUIRED, _tsv_reject(collector)):
        title_type = values["titleType"] or ""
        if title_type.lower() in NOT_MOVIES:
            # Skipped by design, but reported: rows in = rows loaded + rows quarantined.
            collector.reject(line, "titleType", f"{title_type} not a movie", raw)
            continue
        movies.append((line, raw, values))
    wanted = {values["tconst"] for _, _, values in movies if values["tconst"]}
    directory = basics.parent
    ratings = _tsv_ratings(directory, wanted)
    directors, cast = _tsv_people(directory, wanted)
    people = {n for ids in (*directors.values(), *cast.values()) for n in ids}
    names = _tsv_names(directory, people)
    for line, raw, values in movies:
        tconst = values["tconst"] or ""
        rating = ratings.get(tconst, (None, None))
        joined = values | {
            "averageRating": rating[0],
            "numVotes": rating[1],
            "directors": [names[n] for n in directors.get(tconst, []) if n in names],
            "cast": [names[n] for n in cast.get(tconst, []) if n in names],
        }
        collector.add(line, raw, tsv_record, joined)
    return collector.result()


def _tsv_reject(collector: Collector) -> Callable[[int, str, str], None]:
    def reject(line: int, reason: str, raw: str) -> None:
        collector.reject(line, None, reason, raw)

    return reject


def _tsv_ratings(directory: Path, titles: set[str]) -> dict[str, tuple[str | None, str | None]]:
    path = find_tsv(directory, "title.ratings")
    if path is None:
        return {}
    problems = _SideFileProblems(path)
    ratings = {
        values["tconst"] or "": (values["averageRating"], values["numVotes"])
        for _, _, values in read_tsv(path, ("tconst", "averageRating", "numVotes"), problems)
        if values["tconst"] in titles
    }
    problems.log()
    return ratings


def _tsv_people(
    directory: Path, titles: set[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Directors and cast per title, from principals (by ``ordering``), else from crew."""
    credits: dict[str, list[tuple[int, str, str]]] = {}
    path = find_tsv(directory, "title.principals")
    if path is not None:
        problems = _SideFileProblems(path)
        required = ("tconst", "ordering", "nconst", "category")
        for _, _, values in read_tsv(path, required, problems):
            category = values["category"] or ""
            if values["tconst"] not in titles or not values["nconst"]:
                continue
            if category == "director" or category in _CAST_CATEGORIES:
                ordering = values["ordering"] or ""
                order = int(ordering) if ordering.isdigit() else 10**6
                credits.setdefault(values["tconst"] or "", []).append(
                    (order, category, values["nconst"])
                )
        problems.log()
    directors: dict[str, list[str]] = {}
    cast: dict[str, list[str]] = {}
    for tconst, people in credits.items():
        people.sort()
        directors[tconst] = [n for _, c, n in people if c == "director"]
        cast[tconst] = [n for _, c, n in people if c in _CAST_CATEGORIES]
    _tsv_crew_directors(directory, titles, directors)
    return directors, cast


def _tsv_crew_directors(directory: Path, titles: set[str], directors: dict[str, list[str]]) -> None:
    # principals holds only the ten top-billed people: a title whose ten name no director
    # still has its directors in title.crew.
    path = find_tsv(directory, "title.crew")
    if path is None:
        return
    problems = _SideFileProblems(path)
    for _, _, values in read_tsv(path, ("tconst", "directors"), problems):
        tconst = values["tconst"]
        if tconst in titles and values["directors"] and not directors.get(tconst):
            directors[tconst] = values["directors"].split(",")
    problems.log()


def _tsv_names(directory: Path, wanted: set[str]) -> dict[str, str]:
    path = find_tsv(directory, "name.basics")
    if path is None:
        if wanted:
            logger.warning("%s: no name.basics file; directors and cast left empty", directory)
        return {}
    problems = _SideFileProblems(path)
    names = {
        values["nconst"] or "": values["primaryName"] or ""
        for _, _, values in read_tsv(path, ("nconst", "primaryName"), problems)
        if values["nconst"] in wanted and values["primaryName"]
    }
    problems.log()
    return names


def _detect(keys: frozenset[str], name: str) -> int:
    if {"tconst", "titleType", "primaryTitle"} <= keys:
        return BY_COLUMNS
    return BY_FILE_NAME if name.lower().startswith("title.basics") else 0


# IMDb's own ratings and credits: trusted right after Bright Data; it has no plot text.
FORMAT = FormatSpec(
    name="imdb_tsv",
    load=load_imdb_tsv,
    detect=_detect,
    # title.principals lists people by billing ``ordering``.
    strengths={"people": 80, "billing": 80, "ratings": 80, "genres": 80, "year": 80},
    description="an IMDb dataset directory or title.basics.tsv[.gz]",
    order=10,
    directory=lambda path: find_tsv(path, "title.basics") is not None,
)
