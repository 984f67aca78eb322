from __future__ import annotations

import gzip
import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA
from movie_rag.errors import InputFileError
from movie_rag.ingest.imdb import IMDBLoader, IMDBSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imdb"
TEXT_COLUMNS = ("title", "overview")
ENTITY = re.compile(r"&#?\w+;")


def assert_accounted(source: IMDBSource) -> None:
    assert source.rows_in == source.rows_loaded + source.quarantine.count()
    assert source.table.schema == IMDB_RECORD_SCHEMA
    assert set(source.table.column("source").to_pylist()) <= {source.format}
    assert {row.source for row in source.quarantine.rows} <= {f"imdb_{source.format}"}


def by_title(source: IMDBSource) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in source.table.to_pylist():
        rows.setdefault(row["title"], []).append(row)
    return rows


def one(source: IMDBSource, title: str) -> dict[str, Any]:
    [row] = by_title(source)[title]
    return row


def reasons(source: IMDBSource) -> list[tuple[int, str | None, str]]:
    return [(row.row, row.field, row.reason) for row in source.quarantine.rows]


@pytest.fixture(scope="module")
def loader() -> IMDBLoader:
    return IMDBLoader()


@pytest.fixture(scope="module")
def movies_dataset(shared_data: Path, loader: IMDBLoader) -> IMDBSource:
    return loader.load(shared_data / "imdb" / "movies_metadata.head5000.csv")


@pytest.fixture(scope="module")
def tmdb(shared_data: Path, loader: IMDBLoader) -> IMDBSource:
    return loader.load(shared_data / "imdb" / "tmdb_5000_movies.csv")


@pytest.fixture(scope="module")
def top_1000(shared_data: Path, loader: IMDBLoader) -> IMDBSource:
    return loader.load(shared_data / "imdb" / "imdb_top_1000.csv")


@pytest.fixture(scope="module")
def itemsapi(shared_data: Path, loader: IMDBLoader) -> IMDBSource:
    return loader.load(shared_data / "imdb" / "itemsapi_imdb.json")


# -- real data: counts and accounting -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "rows_in", "loaded"),
    [
        ("movies_dataset", "movies_dataset", 5000, 4999),
        ("tmdb", "tmdb_5000", 4803, 4803),
        ("top_1000", "imdb_top_1000", 1000, 1000),
        ("itemsapi", "itemsapi", 1000, 1000),
    ],
)
def test_real_sources_counts(
    request: pytest.FixtureRequest, name: str, fmt: str, rows_in: int, loaded: int
) -> None:
    source: IMDBSource = request.getfixturevalue(name)
    assert source.format == fmt
    assert (source.rows_in, source.rows_loaded) == (rows_in, loaded)
    assert_accounted(source)


def test_real_sources_text_is_clean(
    movies_dataset: IMDBSource, tmdb: IMDBSource, top_1000: IMDBSource, itemsapi: IMDBSource
) -> None:
    for source in (movies_dataset, tmdb, top_1000, itemsapi):
        for row in source.table.to_pylist():
            for column in TEXT_COLUMNS:
                text = row[column]
                if text is not None:
                    assert text == " ".join(text.split()), (source.format, row["source_row"])
            assert row["title_key"]


# -- The Movies Dataset -------------------------------------------------------------------


def test_movies_dataset_exact_duplicate_row_quarantined(movies_dataset: IMDBSource) -> None:
    assert reasons(movies_dataset) == [(1468, None, "exact duplicate of row 679")]
    ids = movies_dataset.table.column("imdb_id").to_pylist()
    assert ids.count("tt0111613") == 1
    assert len(set(ids)) == len(ids)
    [row] = [r for r in movies_dataset.table.to_pylist() if r["imdb_id"] == "tt0111613"]
    assert (row["tmdb_id"], row["source_row"]) == (105045, 679)


def test_movies_dataset_python_literal_lists(movies_dataset: IMDBSource) -> None:
    toy_story = one(movies_dataset, "Toy Story")
    assert toy_story["genres"] == ["Animation", "Comedy", "Children"]
    assert toy_story["countries"] == ["United States of America"]
    assert toy_story["languages"] == ["English"]
    assert (toy_story["imdb_id"], toy_story["tmdb_id"], toy_story["year"]) == (
        "tt0114709",
        862,
        1995,
    )
    assert toy_story["url"] == "https://www.imdb.com/title/tt0114709/"


def test_movies_dataset_empty_and_placeholder_overviews_are_null(
    movies_dataset: IMDBSource,
) -> None:
    overviews = movies_dataset.table.column("overview").to_pylist()
    # 23 empty (or blank) overviews and 8 "No overview found."-style placeholders.
    assert overviews.count(None) == 31
    assert not [o for o in overviews if o and o.lower().startswith("no overview")]


def test_movies_dataset_multiline_overviews_keep_physical_line_numbers(
    shared_data: Path, movies_dataset: IMDBSource
) -> None:
    path = shared_data / "imdb" / "movies_metadata.head5000.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    rows = movies_dataset.table.to_pylist()
    # The imdb_id column comes before overview, so it sits on the record's first line.
    assert all(f",{r['imdb_id']}," in lines[r["source_row"] - 1] for r in rows)
    warlock = next(r for r in rows if r["imdb_id"] == "tt0098622")
    assert "\n" not in warlock["overview"]
    assert rows[-1]["source_row"] == 5006  # 5000 records on 5006 physical lines after the header


def test_movies_dataset_tmdb_votes_are_not_imdb_ratings(
    movies_dataset: IMDBSource, tmdb: IMDBSource
) -> None:
    for source in (movies_dataset, tmdb):
        assert source.table.column("imdb_rating").null_count == source.rows_loaded
        assert source.table.column("votes").null_count == source.rows_loaded


def test_movies_dataset_unknown_runtime_and_dates(movies_dataset: IMDBSource) -> None:
    # runtime is empty in 6 rows and 0.0 (unknown) in 50; release_date is empty in 4.
    assert movies_dataset.table.column("runtime").null_count == 56
    assert movies_dataset.table.column("year").null_count == 4


MOVIES_DATASET_HEADER = "id,imdb_id,title,overview,genres,release_date,runtime\n"


def test_movies_dataset_ids_normalised_and_bad_ids_quarantined(
    tmp_path: Path, loader: IMDBLoader
) -> None:
    path = tmp_path / "movies_metadata.csv"
    path.write_text(
        MOVIES_DATASET_HEADER
        + "862,tt114709,Toy Story,Toys come alive.,\"[{'id': 16, 'name': 'Animation'}]\","
        "1995-10-30,81.0\n"
        + "27205,1375666,Inception,A dream heist.,[],2010-07-16,148.0\n"
        + "872585,tt15398776,Oppenheimer,A physicist builds a bomb.,[],2023-07-19,181.0\n"
        + "1997-08-20,tt0119004,Shifted row,,[],,\n"
        + "12,nm0000206,Wrong kind of id,,[],,\n"
        + "13,,No IMDb id yet,A film without an IMDb page.,[],2001-01-01,\n"
        + "9999,tt0114709,Toy Story again,Same IMDb id.,[],1995-10-30,\n"
        + "27205,tt0000042,Same TMDB id,,[],,\n"
        + "14,tt0000043,Half a list,,\"[{'id': 18\",,\n",
        encoding="utf-8",
    )
    source = loader.load(path)
    assert source.format == "movies_dataset"
    assert [(r["imdb_id"], r["tmdb_id"]) for r in source.table.to_pylist()] == [
        ("tt0114709", 862),
        ("tt1375666", 27205),
        ("tt15398776", 872585),
        (None, 13),
    ]
    assert reasons(source) == [
        (5, "id", "TMDB id is not a positive integer: '1997-08-20'"),
        (6, "imdb_id", "not an IMDb title id: 'nm0000206'"),
        (8, "imdb_id", "duplicate imdb_id tt0114709 (first at row 2)"),
        (9, "tmdb_id", "duplicate tmdb_id 27205 (first at row 3)"),
        (10, "genres", "not a JSON or Python list: \"[{'id': 18\""),
    ]
    assert source.rows_in == 9
    assert_accounted(source)


def test_movies_dataset_missing_column_names_file_and_columns(
    tmp_path: Path, loader: IMDBLoader
) -> None:
    path = tmp_path / "movies_metadata.csv"
    path.write_text("id,imdb_id,title,genres,release_date\n862,tt0114709,Toy Story,[],\n")
    with pytest.raises(InputFileError) as error:
        loader.load(path, format="movies_dataset")
    assert "movies_metadata.csv" in str(error.value)
    assert "'overview'" in str(error.value)
    assert "The Movies Dataset" in str(error.value)


# -- TMDB 5000 ----------------------------------------------------------------------------


def test_tmdb_carriage_returns_collapsed(tmdb: IMDBSource) -> None:
    for title in ("Kung Pow: Enter the Fist", "Warlock", "Saint Ralph"):
        assert "\r" not in one(tmdb, title)["overview"]
    assert (
        "weaving the new and old together. As the main character"
        in (one(tmdb, "Kung Pow: Enter the Fist")["overview"])
    )


def test_tmdb_json_lists_and_ids(tmdb: IMDBSource) -> None:
    avatar = one(tmdb, "Avatar")
    assert (avatar["tmdb_id"], avatar["imdb_id"], avatar["url"], avatar["year"]) == (
        19995,
        None,
        None,
        2009,
    )
    assert avatar["genres"] == ["Action", "Adventure", "Fantasy", "Sci-Fi"]
    assert avatar["keywords"][:3] == ["culture clash", "future", "space war"]
    assert avatar["languages"] == ["English", "Español"]


def test_tmdb_duplicate_titles_are_separate_records(tmdb: IMDBSource) -> None:
    titles = by_title(tmdb)
    for title in ("The Host", "Batman", "Out of the Blue"):
        assert len({r["tmdb_id"] for r in titles[title]}) == 2


def test_tmdb_html_entities_unescaped(tmdb: IMDBSource) -> None:
    assert "King & Queen" in one(tmdb, "Shrek the Third")["overview"]
    assert not [o for o in tmdb.table.column("overview").to_pylist() if o and "&amp;" in o]


def test_tmdb_empty_overviews_are_null(tmdb: IMDBSource) -> None:
    assert tmdb.table.column("overview").null_count == 4


# -- IMDB Top 1000 ------------------------------------------------------------------------


def test_top_1000_apollo_13_year_is_null_but_kept(
    shared_data: Path, loader: IMDBLoader, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="movie_rag"):
        source = loader.load(shared_data / "imdb" / "imdb_top_1000.csv")
    apollo = one(source, "Apollo 13")
    assert apollo["year"] is None
    assert apollo["directors"] == ["Ron Howard"]
    assert source.table.column("year").null_count == 1
    assert "Released_Year (1)" in caplog.text


def test_top_1000_runtime_votes_and_gross_parse(top_1000: IMDBSource) -> None:
    shawshank = one(top_1000, "The Shawshank Redemption")
    # Gross ("28,341,469") is quoted with thousands separators; it must not shift columns.
    assert (shawshank["runtime"], shawshank["votes"], shawshank["imdb_rating"]) == (
        142,
        2343110,
        9.3,
    )
    assert shawshank["cast"] == ["Tim Robbins", "Morgan Freeman", "Bob Gunton", "William Sadler"]
    assert top_1000.table.column("runtime").null_count == 0


def test_top_1000_comma_space_genres(top_1000: IMDBSource) -> None:
    godfather = one(top_1000, "The Godfather")
    assert godfather["genres"] == ["Crime", "Drama"]
    assert godfather["unmapped_genres"] == []
    biographies = [r for r in top_1000.table.to_pylist() if "Biography" in r["unmapped_genres"]]
    assert len(biographies) == 109


def test_top_1000_duplicate_titles_and_non_ascii(top_1000: IMDBSource) -> None:
    drishyam = by_title(top_1000)["Drishyam"]
    assert sorted(r["year"] for r in drishyam) == [2013, 2015]
    assert one(top_1000, "La vita è bella")["title_key"] == "la vita e bella"
    assert one(top_1000, "WALL·E")["year"] == 2008
    assert top_1000.table.column("imdb_id").null_count == top_1000.rows_loaded


# -- itemsapi -----------------------------------------------------------------------------


def test_itemsapi_html_entities_unescaped(shared_data: Path, itemsapi: IMDBSource) -> None:
    raw = (shared_data / "imdb" / "itemsapi_imdb.json").read_text(encoding="utf-8")
    assert len(ENTITY.findall(raw)) > 700  # &lt; &gt; &quot; &nbsp; &eacute; ... in the file
    for row in itemsapi.table.to_pylist():
        values = [row["title"], row["overview"], *row["directors"], *row["cast"], *row["keywords"]]
        assert not [v for v in values if v and ENTITY.search(v)], row["title"]
    # "Written by Chris &quot;Morphy&quot; Terry": the author goes, entities and all.
    assert one(itemsapi, "Gladiator")["overview"].endswith("the man who will feel his revenge.")


def test_itemsapi_written_by_removed_including_email(itemsapi: IMDBSource) -> None:
    overviews = itemsapi.table.column("overview").to_pylist()
    assert all(o for o in overviews)
    assert not [o for o in overviews if "Written by" in o]
    assert not [o for o in overviews if "@" in o]
    godfather_2 = one(itemsapi, "The Godfather: Part II")["overview"]
    assert godfather_2.endswith("into Las Vegas, Hollywood and Cuba.")
    shawshank = one(itemsapi, "The Shawshank Redemption")["overview"]
    assert shawshank.endswith("a wise long-term inmate named Red.")


def test_itemsapi_int_ratings_become_floats(shared_data: Path, itemsapi: IMDBSource) -> None:
    raw = json.loads((shared_data / "imdb" / "itemsapi_imdb.json").read_text(encoding="utf-8"))
    int_rated = [r for r in raw if isinstance(r["rating"], int)]
    assert len(int_rated) == 128
    assert itemsapi.table.schema.field("imdb_rating").type == pa.float64()
    dark_knight = one(itemsapi, "The Dark Knight")
    assert dark_knight["imdb_rating"] == 9.0
    assert isinstance(dark_knight["imdb_rating"], float)


def test_itemsapi_fields_mapped(itemsapi: IMDBSource) -> None:
    shawshank = one(itemsapi, "The Shawshank Redemption")
    assert shawshank["countries"] == ["USA"]
    assert shawshank["keywords"][:2] == ["prison", "wrongful imprisonment"]
    assert shawshank["cast"][:2] == ["Tim Robbins", "Morgan Freeman"]
    assert (shawshank["votes"], shawshank["runtime"], shawshank["year"]) == (1790841, 142, 1994)
    assert itemsapi.table.column("runtime").null_count == 9  # runtime 0 means unknown


def test_itemsapi_director_lists_cleaned(itemsapi: IMDBSource) -> None:
    # The scrape ran past the director block for some films (writers, stars, page script).
    assert one(itemsapi, "Zootopia")["directors"] == ["Byron Howard", "Rich Moore"]
    assert one(itemsapi, "Gone with the Wind")["directors"] == ["Victor Fleming", "George Cukor"]
    assert one(itemsapi, "The Matrix")["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert max(len(r) for r in itemsapi.table.column("directors").to_pylist()) == 2


def test_itemsapi_duplicate_titles_are_separate_records(itemsapi: IMDBSource) -> None:
    titles = by_title(itemsapi)
    for title in ("Beauty and the Beast", "The Girl with the Dragon Tattoo", "The Jungle Book"):
        assert len({r["year"] for r in titles[title]}) == 2


# -- Bright Data --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bright_data(loader: IMDBLoader) -> IMDBSource:
    return loader.load(FIXTURES / "bright_data.json")


def test_bright_data_containers_give_the_same_table(loader: IMDBLoader) -> None:
    tables = {}
    for name in ("bright_data.json", "bright_data.ndjson", "bright_data.csv"):
        source = loader.load(FIXTURES / name)
        assert source.format == "bright_data"
        assert (source.rows_in, source.rows_loaded) == (5, 5)
        assert_accounted(source)
        tables[name] = source.table
    # source_row is a record number in JSON and a line number in CSV; the rest must agree.
    without_rows = {n: t.drop_columns(["source_row"]).to_pylist() for n, t in tables.items()}
    assert without_rows["bright_data.json"] == without_rows["bright_data.ndjson"]
    assert without_rows["bright_data.json"] == without_rows["bright_data.csv"]
    assert tables["bright_data.csv"].column("source_row").to_pylist() == [2, 3, 4, 5, 6]


def test_bright_data_imdb_id_from_url_beats_id(bright_data: IMDBSource) -> None:
    matrix = one(bright_data, "The Matrix")
    assert matrix["imdb_id"] == "tt0133093"  # its `id` field says tt0000001
    assert matrix["url"] == "https://www.imdb.com/title/tt0133093/"
    assert one(bright_data, "Spirited Away")["imdb_id"] == "tt0245429"  # url with a query
    assert one(bright_data, "Parasite")["imdb_id"] == "tt6751668"  # url has no id: `id` used


def test_bright_data_eight_digit_ids_kept_whole(bright_data: IMDBSource) -> None:
    oppenheimer = one(bright_data, "Oppenheimer")
    assert oppenheimer["imdb_id"] == "tt15398776"
    assert oppenheimer["url"] == "https://www.imdb.com/title/tt15398776/"


@pytest.mark.parametrize(
    ("title", "column", "expected"),
    [
        # credit as objects with "title"/"names", "role"/"name", "job"/"names" of objects
        ("The Matrix", "directors", ["Lana Wachowski", "Lilly Wachowski"]),
        ("Parasite", "directors", ["Bong Joon Ho"]),
        ("Oppenheimer", "directors", ["Christopher Nolan"]),
        # credit as "Director: X" strings, and as one "|"-separated string
        ("Spirited Away", "directors", ["Hayao Miyazaki"]),
        ("Amélie", "directors", ["Jean-Pierre Jeunet"]),
        # top_cast as objects, strings with characters, mixed, or comma text
        ("The Matrix", "cast", ["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"]),
        ("Spirited Away", "cast", ["Rumi Hiiragi", "Miyu Irino", "Mari Natsuki"]),
        ("Parasite", "cast", ["Song Kang-ho", "Lee Sun-kyun", "Cho Yeo-jeong"]),
        ("Amélie", "cast", ["Audrey Tautou", "Mathieu Kassovitz", "Rufus"]),
        # genres as a list or comma text, mapped onto MovieLens names
        ("Spirited Away", "genres", ["Animation", "Adventure", "Children"]),
        ("Oppenheimer", "genres", ["Drama"]),
        ("Oppenheimer", "unmapped_genres", ["Biography", "History"]),
        # ratings as number, string or "x/10"; counts as number, "850K", "1,234", "(850K)"
        ("Spirited Away", "imdb_rating", 8.6),
        ("Oppenheimer", "imdb_rating", 8.3),
        ("The Matrix", "votes", 2_100_000),
        ("Spirited Away", "votes", 850_000),
        ("Parasite", "votes", 987_654),
        ("Oppenheimer", "votes", 850_000),
        # release dates: "March 31, 1999 (United States)", ISO, "5/30/2019 (...)", "2001"
        ("The Matrix", "year", 1999),
        ("Spirited Away", "year", 2001),
        ("Parasite", "year", 2019),
        ("Amélie", "year", 2001),
        # countries and languages as lists or comma text
        ("Amélie", "countries", ["France", "Germany"]),
        ("Spirited Away", "languages", ["Japanese"]),
        ("Parasite", "languages", ["Korean", "English"]),
    ],
)
def test_bright_data_lenient_shapes(
    bright_data: IMDBSource, title: str, column: str, expected: object
) -> None:
    assert one(bright_data, title)[column] == expected


def test_bright_data_overview_rules(bright_data: IMDBSource) -> None:
    assert one(bright_data, "The Matrix")["overview"].startswith("A programmer who hacks")
    # No storyline: the presentation is used.
    assert one(bright_data, "Spirited Away")["overview"].startswith("A girl wanders")
    # Entities unescaped and the author's "Written by ... <e-mail>" removed.
    assert one(bright_data, "Parasite")["overview"] == (
        "The Kim family's members take jobs, one after another, in the home of the wealthy "
        "Parks & hide who they really are."
    )
    # Line breaks (LF and CRLF) and runs of spaces collapse.
    assert one(bright_data, "Amélie")["overview"] == (
        "A shy waitress in Montmartre decides to quietly change the lives of the people "
        "around her, while avoiding her own."
    )


def test_bright_data_malformed_records_quarantined(
    loader: IMDBLoader, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="movie_rag"):
        source = loader.load(FIXTURES / "bright_data_malformed.ndjson")
    assert source.format == "bright_data"
    assert [(r["source_row"], r["imdb_id"]) for r in source.table.to_pylist()] == [
        (1, "tt1375666"),
        (13, "tt0113277"),
    ]
    found = reasons(source)
    assert found[0][:2] == (2, None) and found[0][2].startswith("broken JSON line")
    assert found[1:] == [
        (3, "title", "missing title"),
        (4, "error", "Bright Data error record: Page not found"),
        (5, "id", "not an IMDb title id: 'nm0000206'"),
        (6, "imdb_id", "duplicate imdb_id tt1375666 (first at row 1)"),
        (7, None, "record is a list, not an object"),
        (8, "media_type", "TV Episode not a movie"),
        (10, None, "exact duplicate of row 1"),
        (11, "url", "not an IMDb title id: 'tt0000000'"),
        (12, "genres", 'not a JSON or Python list: \'["Crime", "Drama"\''),
    ]
    assert (source.rows_in, source.rows_loaded) == (12, 2)  # the blank line is not a record
    assert_accounted(source)
    heat = one(source, "Heat")
    assert (heat["imdb_rating"], heat["year"]) == (None, None)  # "n/a", "sometime"
    assert "details_release_date (1), imdb_rating (1)" in caplog.text


def test_bright_data_csv_without_title_column(tmp_path: Path, loader: IMDBLoader) -> None:
    path = tmp_path / "bright.csv"
    path.write_text("url,storyline\nhttps://www.imdb.com/title/tt0133093/,A plot.\n")
    with pytest.raises(InputFileError, match=r"bright\.csv: missing column\(s\) \['title'\]"):
        loader.load(path, format="bright_data")


# -- official IMDb TSV datasets -----------------------------------------------------------


def write_tsv(path: Path, rows: list[list[str]]) -> None:
    text = "".join("\t".join(row) + "\n" for row in rows)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")


BASICS_HEADER = [
    "tconst", "titleType", "primaryTitle", "originalTitle", "isAdult", "startYear", "endYear",
    "runtimeMinutes", "genres",
]  # fmt: skip


@pytest.fixture
def imdb_tsv_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "imdb"
    directory.mkdir()
    write_tsv(
        directory / "title.basics.tsv.gz",
        [
            BASICS_HEADER,
            ["tt0133093", "movie", "The Matrix", "The Matrix", "0", "1999", "\\N", "136",
             "Action,Sci-Fi"],
            ["tt2301451", "tvEpisode", "Ozymandias", "Ozymandias", "0", "2013", "\\N", "47",
             "Crime,Drama,Thriller"],
            ["tt15398776", "movie", "Oppenheimer", "Oppenheimer", "0", "2023", "\\N", "180",
             "Biography,Drama,History"],
            ["tt0903747", "tvSeries", "Breaking Bad", "Breaking Bad", "0", "2008", "2013", "\\N",
             "Crime,Drama,Thriller"],
            ["tt0000001", "short", "Carmencita", "Carmencita", "0", "1894", "\\N", "1",
             "Documentary,Short"],
            ["tt0120338", "movie", "Titanic", "Titanic", "0", "1997", "\\N"],
            ["tt0133093", "movie", "The Matrix (again)", "The Matrix", "0", "1999", "\\N", "136",
             "Action"],
            ["tt0109830", "movie", '"Forrest" Gump', "Forrest Gump", "0", "1994", "\\N", "142",
             "Drama,Romance"],
        ],
    )  # fmt: skip
    write_tsv(
        directory / "title.ratings.tsv.gz",
        [
            ["tconst", "averageRating", "numVotes"],
            ["tt0133093", "8.7", "2100000"],
            ["tt15398776", "8.3", "850000"],
            ["tt2301451", "10.0", "240000"],
        ],
    )
    write_tsv(
        directory / "title.principals.tsv.gz",
        [
            ["tconst", "ordering", "nconst", "category", "job", "characters"],
            ["tt0133093", "6", "nm0905152", "director", "\\N", "\\N"],
            ["tt0133093", "2", "nm0000401", "actor", "\\N", '["Morpheus"]'],
            ["tt0133093", "1", "nm0000206", "actor", "\\N", '["Neo"]'],
            ["tt0133093", "3", "nm0005251", "actress", "\\N", '["Trinity"]'],
            ["tt0133093", "5", "nm0905154", "director", "\\N", "\\N"],
            ["tt0133093", "7", "nm0905152", "writer", "written by", "\\N"],
            ["tt15398776", "1", "nm0614165", "actor", "\\N", '["J. Robert Oppenheimer"]'],
            ["tt0903747", "1", "nm0186505", "actor", "\\N", '["Walter White"]'],
        ],
    )
    write_tsv(
        directory / "title.crew.tsv.gz",
        [
            ["tconst", "directors", "writers"],
            ["tt0133093", "nm0905154,nm0905152", "nm0905152,nm0905154"],
            ["tt15398776", "nm0634240", "nm0634240"],
        ],
    )
    write_tsv(
        directory / "name.basics.tsv.gz",
        [
            ["nconst", "primaryName", "birthYear"],
            ["nm0000206", "Keanu Reeves", "1964"],
            ["nm0000401", "Laurence Fishburne", "1961"],
            ["nm0005251", "Carrie-Anne Moss", "1967"],
            ["nm0905154", "Lana Wachowski", "1965"],
            ["nm0905152", "Lilly Wachowski", "1967"],
            ["nm0634240", "Christopher Nolan", "1970"],
            ["nm0614165", "Cillian Murphy", "1976"],
            ["nm0186505", "Bryan Cranston", "1956"],
            ["nm0000001", "broken line without tabs"],
        ],
    )
    return directory


def test_imdb_tsv_joins_ratings_people_and_names(imdb_tsv_dir: Path, loader: IMDBLoader) -> None:
    source = loader.load(imdb_tsv_dir)
    assert source.format == "imdb_tsv"
    assert source.path == imdb_tsv_dir / "title.basics.tsv.gz"
    matrix = one(source, "The Matrix")
    # principals order by `ordering`, not by line; writers are not cast.
    assert matrix["cast"] == ["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"]
    assert matrix["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert (matrix["imdb_rating"], matrix["votes"], matrix["runtime"]) == (8.7, 2100000, 136)
    assert matrix["genres"] == ["Action", "Sci-Fi"]
    # No director among Oppenheimer's principals: title.crew supplies him.
    oppenheimer = one(source, "Oppenheimer")
    assert oppenheimer["directors"] == ["Christopher Nolan"]
    assert oppenheimer["imdb_id"] == "tt15398776"
    assert oppenheimer["unmapped_genres"] == ["Biography", "History"]
    breaking_bad = one(source, "Breaking Bad")
    assert (breaking_bad["runtime"], breaking_bad["imdb_rating"]) == (None, None)  # \N
    assert breaking_bad["cast"] == ["Bryan Cranston"]
    # IMDb's TSV is unquoted: a title that starts with a quote stays as it is.
    assert one(source, '"Forrest" Gump')["year"] == 1994


def test_imdb_tsv_skipped_and_bad_rows_are_reported(imdb_tsv_dir: Path, loader: IMDBLoader) -> None:
    source = loader.load(imdb_tsv_dir)
    assert reasons(source) == [
        (3, "titleType", "tvEpisode not a movie"),
        (7, None, "expected 9 fields, found 7"),
        (8, "imdb_id", "duplicate imdb_id tt0133093 (first at row 2)"),
    ]
    assert (source.rows_in, source.rows_loaded) == (8, 5)
    assert_accounted(source)


def test_imdb_tsv_from_basics_file_and_uncompressed(tmp_path: Path, loader: IMDBLoader) -> None:
    write_tsv(
        tmp_path / "title.basics.tsv",
        [
            BASICS_HEADER,
            ["tt0245429", "movie", "Spirited Away", "Sen to Chihiro no kamikakushi", "0",
             "2001", "\\N", "125", "Animation,Adventure,Family"],
        ],
    )  # fmt: skip
    source = loader.load(tmp_path / "title.basics.tsv")
    assert source.format == "imdb_tsv"
    [row] = source.table.to_pylist()
    assert row["genres"] == ["Animation", "Adventure", "Children"]
    assert (row["directors"], row["cast"], row["imdb_rating"]) == ([], [], None)


def test_imdb_tsv_directory_without_basics(tmp_path: Path, loader: IMDBLoader) -> None:
    write_tsv(tmp_path / "title.ratings.tsv", [["tconst", "averageRating", "numVotes"]])
    with pytest.raises(InputFileError, match=r"no title\.basics file"):
        loader.load(tmp_path)


# -- format detection and file errors -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("movies_metadata.head5000.csv", "movies_dataset"),
        ("tmdb_5000_movies.csv", "tmdb_5000"),
        ("imdb_top_1000.csv", "imdb_top_1000"),
        ("itemsapi_imdb.json", "itemsapi"),
    ],
)
def test_detect_real_formats(shared_data: Path, name: str, fmt: str) -> None:
    assert IMDBLoader.detect_format(shared_data / "imdb" / name) == fmt


@pytest.mark.parametrize("name", ["bright_data.json", "bright_data.ndjson", "bright_data.csv"])
def test_detect_bright_data(name: str) -> None:
    assert IMDBLoader.detect_format(FIXTURES / name) == "bright_data"


def test_detect_by_content_not_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "export.json.gz"
    with gzip.open(renamed, "wt", encoding="utf-8") as handle:
        handle.write((FIXTURES / "bright_data.ndjson").read_text(encoding="utf-8"))
    assert IMDBLoader.detect_format(renamed) == "bright_data"
    assert IMDBLoader().load(renamed).rows_loaded == 5


def test_detect_imdb_tsv(imdb_tsv_dir: Path) -> None:
    assert IMDBLoader.detect_format(imdb_tsv_dir) == "imdb_tsv"
    assert IMDBLoader.detect_format(imdb_tsv_dir / "title.basics.tsv.gz") == "imdb_tsv"


def test_detect_unknown_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    with pytest.raises(InputFileError) as error:
        IMDBLoader.detect_format(path)
    message = str(error.value)
    assert "ratings.csv: unknown IMDB file format" in message
    assert "'movieId'" in message
    assert "Bright Data" in message and "title.basics" in message


def test_detect_unknown_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "things.json"
    path.write_text('[{"name": "a chair", "legs": 4}]')
    with pytest.raises(InputFileError, match=r"unknown IMDB file format \(keys \['legs', 'name'\]"):
        IMDBLoader().load(path)


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_empty_file_is_an_input_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(InputFileError, match=r"empty\.csv: file is empty"):
        IMDBLoader().load(path)
    # With the format named, the file is read for its header: none is there.
    with pytest.raises(InputFileError, match=r"empty.csv: .*expected The Movies Dataset"):
        IMDBLoader().load(path, format="movies_dataset")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nowhere\.json: file not found"):
        IMDBLoader().load(tmp_path / "nowhere.json")
    with pytest.raises(InputFileError, match="file not found"):
        IMDBLoader().load(tmp_path / "nowhere.json", format="itemsapi")


def test_unknown_format_name_is_an_input_error() -> None:
    with pytest.raises(InputFileError, match="unknown format 'letterboxd'"):
        IMDBLoader().load(FIXTURES / "bright_data.json", format="letterboxd")  # type: ignore[arg-type]


def test_explicit_format_overrides_detection(loader: IMDBLoader) -> None:
    # A Bright Data file is not a Movies Dataset file: the named format's columns are checked.
    with pytest.raises(InputFileError, match="missing column"):
        loader.load(FIXTURES / "bright_data.csv", format="movies_dataset")


# -- packaging and Spark ------------------------------------------------------------------


def test_import_does_not_start_or_import_pyspark() -> None:
    code = "import sys, movie_rag.ingest.imdb; print('pyspark' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.spark
def test_to_spark_keeps_schema_and_rows(spark: Any, bright_data: IMDBSource) -> None:
    frame = bright_data.to_spark(spark)
    assert frame.columns == IMDB_RECORD_SCHEMA.names
    rows = {row["imdb_id"]: row.asDict() for row in frame.collect()}
    assert set(rows) == set(bright_data.table.column("imdb_id").to_pylist())
    matrix = rows["tt0133093"]
    assert matrix["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert (matrix["year"], matrix["votes"], matrix["imdb_rating"]) == (1999, 2100000, 8.7)
    empty = IMDBSource(
        format="bright_data",
        path=FIXTURES / "bright_data.json",
        table=IMDB_RECORD_SCHEMA.empty_table(),
        rows_in=0,
        quarantine=bright_data.quarantine,
    )
    empty_frame = empty.to_spark(spark)
    assert empty_frame.columns == IMDB_RECORD_SCHEMA.names
    assert empty_frame.isEmpty()
