"""TMDB poster paths: kept from The Movies Dataset and TMDB exports, only in their safe shape."""

from __future__ import annotations

from pathlib import Path

from movie_rag.ingest.imdb.formats.movies_dataset import load_movies_dataset, tmdb_poster_path
from movie_rag.ingest.imdb.formats.tmdb_5000 import load_tmdb_5000

HEADER = "id,imdb_id,title,overview,genres,release_date,poster_path\n"


def test_only_tmdb_shaped_paths_are_kept() -> None:
    assert (
        tmdb_poster_path("/rhIRbceoE9lR4veEXuwCC2wARtG.jpg") == "/rhIRbceoE9lR4veEXuwCC2wARtG.jpg"
    )
    assert tmdb_poster_path(" /a-b_c.png ") == "/a-b_c.png"
    for bad in (None, "", "nan", "https://evil/a.jpg", "/a.jpg?x=1", "/../a.jpg", "/a.gif", 3):
        assert tmdb_poster_path(bad) is None


def test_the_movies_dataset_carries_its_poster_path(tmp_path: Path) -> None:
    path = tmp_path / "movies_metadata.csv"
    path.write_text(
        HEADER + "862,tt0114709,Toy Story,Toys.,\"[{'id': 16, 'name': 'Animation'}]\",1995-10-30,"
        "/rhIRbceoE9lR4veEXuwCC2wARtG.jpg\n"
        + "8844,tt0113497,Jumanji,A game.,[],1995-12-15,javascript:alert(1)\n",
        encoding="utf-8",
    )
    table = load_movies_dataset(path).table
    assert table.column("poster_path").to_pylist() == ["/rhIRbceoE9lR4veEXuwCC2wARtG.jpg", None]


def test_a_tmdb_5000_file_without_the_column_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "tmdb_5000_movies.csv"
    path.write_text(
        "id,title,overview,genres,keywords,release_date\n"
        '19995,Avatar,Blue people.,"[{""id"": 878, ""name"": ""Science Fiction""}]",'
        "[],2009-12-10\n",
        encoding="utf-8",
    )
    assert load_tmdb_5000(path).table.column("poster_path").to_pylist() == [None]
