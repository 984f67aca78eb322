"""The ranker's last re-orderings: genres taking turns, series that may not crowd an answer."""

from __future__ import annotations

from movie_rag.chain.ranking import _cover_genres, _few_per_series, _series
from movie_rag.chain.types import Candidate, ParsedQuery
from movie_rag.index.filters import SearchFilters


def _candidates(*movies: tuple[str, list[str]]) -> list[Candidate]:
    return [
        Candidate(movie_id=i, score=1.0 - i / 100, metadata={"title": title, "genres": genres})
        for i, (title, genres) in enumerate(movies, start=1)
    ]


def _titles(candidates: list[Candidate]) -> list[str]:
    return [str(c.metadata["title"]) for c in candidates]


def test_two_genres_asked_for_take_turns_in_the_order_asked() -> None:
    ranked = _candidates(
        ("Airplane!", ["Comedy"]),
        ("Clerks", ["Comedy"]),
        ("Shaun of the Dead", ["Comedy", "Horror"]),
        ("Big", ["Comedy"]),
        ("The Shining", ["Horror"]),
        ("Heat", ["Crime"]),
    )
    parsed = ParsedQuery(
        text="horror and comedy", filters=SearchFilters(genres_any=("Horror", "Comedy"))
    )
    assert _titles(_cover_genres(parsed, ranked)) == [
        "Shaun of the Dead",  # horror's best (it is a comedy too)
        "Airplane!",
        "The Shining",
        "Clerks",
        "Big",
        "Heat",  # asked for by neither: after them, nothing lost
    ]


def test_one_genre_keeps_the_blended_order() -> None:
    ranked = _candidates(("Heat", ["Crime"]), ("Clerks", ["Comedy"]))
    parsed = ParsedQuery(text="comedy", filters=SearchFilters(genres_any=("Comedy",)))
    assert _cover_genres(parsed, ranked) == ranked


def test_series_names() -> None:
    assert _series("Paranormal Activity 2") == "paranormal activity"
    assert _series("Back to the Future Part II") == "back to the future"
    assert _series("Star Wars: Episode IV - A New Hope") == "star wars"
    assert _series("Spider-Man 2") == "spider man"
    assert _series("Se7en") == "se7en"


def test_at_most_two_films_of_a_series_lead_unless_it_is_named() -> None:
    ranked = _candidates(
        ("Paranormal Activity 2", ["Horror"]),
        ("Paranormal Activity", ["Horror"]),
        ("Paranormal Activity 3", ["Horror"]),
        ("The Exorcist", ["Horror"]),
        ("Paranormal Activity 4", ["Horror"]),
        ("", []),
        ("", []),
        ("", []),
    )
    horror = ParsedQuery(text="horror with paranormal themes")
    assert _titles(_few_per_series(horror, ranked)) == [
        "Paranormal Activity 2",
        "Paranormal Activity",
        "The Exorcist",
        "",  # films without a title are no series
        "",
        "",
        "Paranormal Activity 3",
        "Paranormal Activity 4",
    ]
    named = ParsedQuery(text="all the Paranormal Activity movies")
    assert _few_per_series(named, ranked) == ranked
