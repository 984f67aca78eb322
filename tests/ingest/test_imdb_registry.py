"""IMDb formats are registrations: a format defined here, in one place, is detected, loaded and
ranked like the built-in ones, and its fields reach movies_info."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from movie_rag.ingest.imdb import (
    FIELD_GROUPS,
    FormatSpec,
    IMDBLoader,
    Notes,
    default_precedence,
    load_csv,
    register_format,
    registered_formats,
    unregister_format,
)
from movie_rag.ingest.imdb.values import clean_list, clean_overview, lenient, parse_year
from movie_rag.ingest.imdb.values import required_title as title_of
from movie_rag.ingest.movie_info import SourcePrecedence
from movie_rag.ingest.movielens import MovieLensLoader

BUILTIN = {"bright_data", "imdb_tsv", "movies_dataset", "tmdb_5000", "imdb_top_1000", "itemsapi"}


# -- the fixture format: a "Letterboxd" CSV export, defined and registered by this test ------


def letterboxd_record(record: Mapping[str, Any], notes: Notes) -> dict[str, Any]:
    return {
        "title": title_of(record["Name"], "Name"),
        "year": lenient(notes, "Year", record["Year"], parse_year),
        "overview": clean_overview(record["Description"]),
        "directors": clean_list(record["Director"].split(",")),
    }


LETTERBOXD = FormatSpec(
    name="letterboxd",
    load=lambda path: load_csv(
        "letterboxd", path, letterboxd_record, required=("Name", "Year", "Description", "Director")
    ),
    detect=lambda keys, name: 2 if {"Name", "Letterboxd URI"} <= keys else 0,
    strengths={"overview": 95, "people": 10},
    description="a Letterboxd export CSV",
)


@pytest.fixture
def letterboxd() -> Iterator[FormatSpec]:
    register_format(LETTERBOXD)
    try:
        yield LETTERBOXD
    finally:
        unregister_format("letterboxd")


def _write(directory: Path) -> tuple[Path, Path]:
    release = directory / "ml"
    release.mkdir()
    (release / "movies.csv").write_text(
        "movieId,title,genres\n1,Heat (1995),Action|Crime\n2,Alien (1979),Horror|Sci-Fi\n",
        encoding="utf-8",
    )
    (release / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n1,0113277,949\n2,0078748,348\n", encoding="utf-8"
    )
    export = directory / "watched.csv"
    export.write_text(
        "Name,Year,Letterboxd URI,Description,Director\n"
        'Heat,1995,https://boxd.it/1,"A thief and a detective, face to face.",Michael Mann\n'
        "Unknown Film,2001,https://boxd.it/2,Matches nothing.,Nobody\n",
        encoding="utf-8",
    )
    return release, export


def test_builtin_formats_are_registered_with_strengths() -> None:
    names = {spec.name for spec in registered_formats()}
    assert names == BUILTIN
    # The defaults are the ranking the formats declare, never an empty list.
    assert SourcePrecedence().overview[0] == "bright_data"
    for group in FIELD_GROUPS:
        assert default_precedence(group) == getattr(SourcePrecedence(), group)


def test_a_registered_format_is_detected_loaded_and_ranked(
    letterboxd: FormatSpec, tmp_path: Path
) -> None:
    _, export = _write(tmp_path)
    loader = IMDBLoader()
    assert loader.detect_format(export) == "letterboxd"
    source = loader.load(export)
    assert source.format == "letterboxd"
    assert (source.rows_in, source.rows_loaded, source.quarantine.count()) == (2, 2, 0)
    assert source.table.column("source").to_pylist() == ["letterboxd", "letterboxd"]
    precedence = SourcePrecedence()
    assert precedence.overview[0] == "letterboxd"  # strength 95 beats Bright Data's 90
    assert precedence.people[-1] == "letterboxd"
    assert "letterboxd" not in precedence.ratings  # no strength declared: never used there


def test_an_unregistered_format_is_gone(tmp_path: Path) -> None:
    _, export = _write(tmp_path)
    assert "letterboxd" not in SourcePrecedence().overview
    with pytest.raises(Exception, match="unknown format 'letterboxd'"):
        IMDBLoader().load(export, format="letterboxd")


def test_a_format_that_would_contribute_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="declares no field strengths"):
        FormatSpec(name="x", load=LETTERBOXD.load, detect=LETTERBOXD.detect, strengths={},
                   description="x")  # fmt: skip
    with pytest.raises(ValueError, match="unknown field group"):
        FormatSpec(name="x", load=LETTERBOXD.load, detect=LETTERBOXD.detect,
                   strengths={"plot": 50}, description="x")  # fmt: skip
    with pytest.raises(ValueError, match="already registered"):
        register_format(FormatSpec(name="tmdb_5000", load=LETTERBOXD.load,
                                   detect=LETTERBOXD.detect, strengths={"overview": 1},
                                   description="x"))  # fmt: skip


@pytest.mark.spark
def test_a_registered_format_contributes_its_fields_to_movies_info(
    letterboxd: FormatSpec, tmp_path: Path, spark: Any
) -> None:
    from movie_rag.ingest.movie_info import MovieInfoBuilder

    release, export = _write(tmp_path)
    movielens = MovieLensLoader().load(release)
    source = IMDBLoader().load(export)
    table, report = MovieInfoBuilder().assemble(movielens, [source], spark=spark)
    rows = {row["movie_id"]: row for row in table.to_pylist()}
    assert rows[1]["overview"] == "A thief and a detective, face to face."
    assert rows[1]["directors"] == ["Michael Mann"]
    assert rows[2]["overview"] is None
    matches = report.matches["letterboxd"]
    assert (matches.records, matches.by_title, matches.unmatched_records) == (2, 1, 1)
    summary = next(i for i in report.inputs if i.source == "imdb_letterboxd")
    assert summary.rows_in == summary.rows_loaded + summary.rows_quarantined == 2
