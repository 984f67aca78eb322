"""movies_info on the real data: the bars of issue 01, matching rules and determinism."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA
from movie_rag.ingest.documents import DocumentTemplate, TokenCounter
from movie_rag.tables import read_local_table
from movie_rag.workdir import Workdir

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def movies_info(real_build) -> pa.Table:
    settings, _ = real_build
    return read_local_table(Workdir(settings.workdir).table("movies_info"))


def _rows_by_id(table: pa.Table) -> dict[int, dict]:
    return {row["movie_id"]: row for row in table.to_pylist()}


def test_one_row_per_movielens_movie(movies_info: pa.Table) -> None:
    assert movies_info.num_rows == 9742
    ids = movies_info.column("movie_id").to_pylist()
    assert len(set(ids)) == 9742
    assert movies_info.schema.names == MOVIES_INFO_SCHEMA.names


def test_coverage_bars(movies_info: pa.Table, real_build) -> None:
    rows = movies_info.to_pylist()
    with_overview = sum(1 for r in rows if r["overview"])
    with_people = sum(1 for r in rows if r["directors"] and r["cast"])
    with_genome = sum(1 for r in rows if r["genome_tags"])
    assert with_overview >= 5800
    assert with_people >= 900
    assert with_genome == 133
    _, report = real_build
    assert report.coverage["overview"].count == with_overview


def test_every_input_row_is_accounted_for(real_build) -> None:
    _, report = real_build
    assert report.rows_accounted()
    by_source = {i.source: i for i in report.inputs}
    assert by_source["movielens_ratings"].rows_loaded == 100836
    # The one exact duplicate record of The Movies Dataset (tt0111613) is quarantined.
    assert by_source["imdb_movies_dataset"].rows_quarantined == 1
    assert report.quarantined == {"imdb_movies_dataset": 1}


def test_genome_tags_thresholded_sorted_and_capped(movies_info: pa.Table, real_build) -> None:
    settings, _ = real_build
    for row in movies_info.to_pylist():
        tags = row["genome_tags"]
        relevances = [t["relevance"] for t in tags]
        assert all(r >= settings.genome_threshold for r in relevances)
        assert relevances == sorted(relevances, reverse=True)
        assert len(tags) <= settings.genome_max_tags
    # Movie 159 is the partial last movie of the truncated genome slice: still attached.
    assert _rows_by_id(movies_info)[159]["genome_tags"]


def test_canonical_values(movies_info: pa.Table) -> None:
    rows = _rows_by_id(movies_info)
    matrix = rows[2571]
    assert (matrix["title"], matrix["year"], matrix["imdb_id"]) == ("The Matrix", 1999, "tt0133093")
    assert matrix["url"] == "https://www.imdb.com/title/tt0133093/"
    assert "Lana Wachowski" in matrix["directors"] or "Lilly Wachowski" in matrix["directors"]
    assert matrix["cast"][0] == "Keanu Reeves"  # top-billed first
    assert 0 < matrix["imdb_rating"] <= 10 and matrix["rating"] == matrix["imdb_rating"]
    assert {"movielens", "movies_dataset", "tmdb_5000"} <= set(matrix["sources"])
    for row in rows.values():
        assert row["imdb_id"] is None or (row["imdb_id"][:2] == "tt" and len(row["imdb_id"]) >= 9)
        if row["rating"] is not None:
            assert 0 <= row["rating"] <= 10
        if row["ml_rating_bayes"] is not None:
            assert 0.5 <= row["ml_rating_bayes"] <= 5
        if row["imdb_rating"] is None and row["ml_rating_bayes"] is not None:
            assert row["rating"] == pytest.approx(2 * row["ml_rating_bayes"], abs=0.01)


def test_wrong_tmdb_link_is_not_trusted(movies_info: pa.Table, real_build) -> None:
    # movieId 2894 "Romance (1999)" links to tmdb 171982, a 2012 film: the year guard refuses it.
    row = _rows_by_id(movies_info)[2894]
    assert "tmdb_5000" not in row["sources"] or row["year"] == 1999


def test_genres_stay_in_the_movielens_vocabulary(movies_info: pa.Table) -> None:
    from movie_rag.catalog.genres import MOVIELENS_GENRES

    seen = Counter(g for gs in movies_info.column("genres").to_pylist() for g in gs)
    assert set(seen) <= set(MOVIELENS_GENRES)
    assert seen["IMAX"] > 0


def test_documents_fit_the_model_and_lead_with_the_title(movies_info: pa.Table) -> None:
    counter = TokenCounter()
    template = DocumentTemplate()
    for row in movies_info.to_pylist():
        document = row["document"]
        assert counter.count(document) <= 256
        assert document.startswith(row["title"])
        # Internal fields never reach the embedded text: changing them changes nothing.
        altered = dict(
            row,
            user_tags=["internal-user-tag"],
            genome_tags=[dict(t, relevance=0.123) for t in row["genome_tags"]],
        )
        assert counter.truncate(template.render(altered), 256) == document


def test_rebuild_is_identical(real_build, real_builder, spark, shared_data) -> None:
    """Re-running the build on the same inputs gives the same rows and the same hashes."""
    settings, _ = real_build
    table_dir = Workdir(settings.workdir).table("movies_info")
    before = read_local_table(table_dir).sort_by("movie_id")
    report = real_builder(settings, shared_data, spark)
    after = read_local_table(table_dir).sort_by("movie_id")
    assert report.changes == {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 9742}
    assert report.index is not None and report.index["embedded"] == 0
    assert after.equals(before)


def test_cast_is_in_billing_order_with_the_other_credits_after(movies_info: pa.Table) -> None:
    # itemsapi lists credits in screen order ("Jodie Foster, Lawrence A. Bonney, ..."); the
    # top-1000 set's Star1-Star4 are the billing, and lead the cast.
    cast = {r["movie_id"]: r["cast"] for r in movies_info.to_pylist()}
    lambs = cast[593]  # The Silence of the Lambs (1991)
    assert lambs[:2] == ["Jodie Foster", "Anthony Hopkins"]
    assert "Scott Glenn" in lambs  # a credit only itemsapi has is kept, after the billing
    assert len(lambs) == len({name.casefold() for name in lambs})
    pulp = cast[296]  # Pulp Fiction (1994)
    assert pulp[:4] == ["John Travolta", "Uma Thurman", "Samuel L. Jackson", "Bruce Willis"]
