"""Movie cards: every field shown, everything escaped, only http(s) links, safe posters."""

from __future__ import annotations

import json
import re

from movie_rag.chain.types import Recommendation
from movie_rag.ui.app import sidebar_filters
from movie_rag.ui.cards import (
    NOT_ON_PLATFORM,
    POSTER_BASE_ENV,
    answer_html,
    answer_message_html,
    card_html,
    poster_url,
    rating_text,
    safe_url,
)


def test_a_card_shows_title_year_genres_reason_and_link() -> None:
    card = card_html(
        Recommendation(
            movie_id=1,
            title="Toy Story",
            year=1995,
            genres=["Animation", "Children"],
            reason="Toys come alive.",
            url="https://www.imdb.com/title/tt0114709/",
        ),
        1,
    )
    assert "1. Toy Story" in card and "(1995)" in card
    assert '<span class="movie-genre">Animation</span>' in card
    assert "Toys come alive." in card
    assert 'href="https://www.imdb.com/title/tt0114709/"' in card
    assert NOT_ON_PLATFORM not in card
    assert "\n\n" not in card  # one HTML block: Markdown leaves it alone


def test_titles_outside_the_catalogue_get_the_badge() -> None:
    card = card_html(Recommendation(movie_id=0, title="Invented", in_catalog=False), 2)
    assert f'<span class="movie-badge">{NOT_ON_PLATFORM}</span>' in card
    assert "IMDb page" not in card and "movie-genres" not in card


def test_model_and_catalogue_text_is_escaped() -> None:
    card = card_html(
        Recommendation(
            movie_id=7,
            title="<script>alert(1)</script>",
            genres=['"><img src=x onerror=alert(1)>'],
            reason="<b>bold</b> & co",
            url='https://example.org/" onmouseover="alert(1)',
        ),
        1,
    )
    assert "<script>" not in card and "&lt;script&gt;" in card
    assert "<img" not in card and "<b>" not in card and "&amp; co" in card
    assert 'onmouseover="alert' not in card


def test_only_http_links_are_kept() -> None:
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,hi") is None
    assert safe_url("//evil") is None
    assert safe_url(" https://www.imdb.com/title/tt1/ ") == "https://www.imdb.com/title/tt1/"
    card = card_html(Recommendation(movie_id=3, title="X", url="javascript:alert(1)"), 1)
    assert "javascript" not in card


def test_answer_text_keeps_lines_and_can_drop_the_numbered_list() -> None:
    text = "Here are 2 movies for you:\n\n1. Alien (1979) — Horror.\n2. <Aliens> (1986) — Action."
    assert answer_html(text, without_list=True) == "Here are 2 movies for you:"
    full = answer_html(text)
    assert full.count("<br>") == 3 and "&lt;Aliens&gt;" in full


def test_sidebar_values_become_filters_only_when_they_constrain() -> None:
    assert sidebar_filters([], 1900, 2026, 0) == {}
    assert sidebar_filters(None, None, None, None) == {}
    assert sidebar_filters(["Horror", "Comedy"], 1980, 1999, 7.5) == {
        "genres_any": ["Horror", "Comedy"],
        "year_min": 1980,
        "year_max": 1999,
        "min_rating": 7.5,
    }
    # A reversed range still means "between these years".
    assert sidebar_filters([], 2000, 1990, 0) == {"year_min": 1990, "year_max": 2000}


def test_a_card_shows_the_rating_so_the_filter_can_be_checked_by_eye() -> None:
    rated = card_html(Recommendation(movie_id=1, title="Heat", year=1995, rating=8.26), 1)
    assert '<span class="movie-rating" title="Rating on a 0-10 scale">★ 8.3/10</span>' in rated
    assert rating_text(None) == "no rating"
    assert "no rating" in card_html(Recommendation(movie_id=2, title="X"), 1)
    # NaN from the catalogue is no rating, not "★ nan/10".
    assert Recommendation(movie_id=3, title="Y", rating=float("nan")).rating is None


def test_a_poster_is_a_css_background_over_a_placeholder(monkeypatch) -> None:
    monkeypatch.delenv(POSTER_BASE_ENV, raising=False)
    movie = Recommendation(movie_id=1, title="Heat", poster_path="/rrBuGu0Pjq7Y2BWSI6teGfZzviY.jpg")
    offline = card_html(movie, 1)
    assert '<div class="movie-poster" role="img"' in offline  # the placeholder, always
    assert "background-image" not in offline  # no base URL: nothing loads from anywhere
    online = card_html(movie, 1, poster_base_url="http://127.0.0.1:9/t/p/w185/")
    assert (
        "style=\"background-image: url('http://127.0.0.1:9/t/p/w185/rrBuGu0Pjq7Y2BWSI6teGfZzviY.jpg')\""
        in online
    )
    monkeypatch.setenv(POSTER_BASE_ENV, "/posters")
    assert poster_url(movie.poster_path) == "/posters/rrBuGu0Pjq7Y2BWSI6teGfZzviY.jpg"
    assert "<img" not in online and "<svg" not in online  # a failed load is never a broken image


def test_poster_paths_and_bases_cannot_inject_markup_or_css() -> None:
    for path in ("javascript:alert(1)", "/a.jpg') url(//evil", '/a.jpg" onload="x', "//evil/a.jpg"):
        assert poster_url(path, "https://image.tmdb.org/t/p/w185") is None
    for base in ("javascript:alert(1)", "https://x/'); background:url(//evil", 'https://x/"a'):
        assert poster_url("/a.jpg", base) is None
    card = card_html(
        Recommendation(movie_id=1, title="X", poster_path="/a.jpg') url(//evil"),
        1,
        poster_base_url="https://image.tmdb.org/t/p/w185",
    )
    assert "evil" not in card and "background-image" not in card


def test_one_answer_is_one_block_with_a_grid_of_cards_and_their_thumbs() -> None:
    movies = [
        Recommendation(movie_id=1, title="Alien", year=1979, rating=8.5),
        Recommendation(movie_id=2, title="Aliens", year=1986, rating=8.4),
        Recommendation(movie_id=0, title="Invented", in_catalog=False),
    ]
    text = "Here are 3 movies:\n\n1. Alien\n2. Aliens\n3. Invented"
    block = answer_message_html(text, movies, turn=4, votes={1: -1})
    assert "\n" not in block and block.count('<div class="movie-grid">') == 1
    assert block.count('<div class="movie-card">') == 3
    assert "1. Alien" not in block.split("movie-grid")[0]  # the list lives in the cards
    # Thumbs on the platform's movies only; the card's vote shows as the pressed thumb.
    assert block.count('class="card-vote') == 4
    assert "vote-up mr-turn-4 mr-card-0" in block
    assert "vote-down mr-turn-4 mr-card-1 pressed" in block
    assert block.count(" pressed") == 1
    assert re.search(r"<\s*(?:script|img|iframe|svg)\b|\son\w+\s*=", block) is None


def test_card_votes_toggle_and_ignore_what_the_page_cannot_mean(tmp_path) -> None:
    from movie_rag.feedback import LocalFeedbackStore
    from movie_rag.ui.app import _Handlers
    from movie_rag.ui.feedback import FeedbackRecorder

    store = LocalFeedbackStore(tmp_path)
    handlers = _Handlers(None, FeedbackRecorder([store]), k=2)  # type: ignore[arg-type]
    movies = [
        Recommendation(movie_id=7, title="Alien").model_dump(mode="json"),
        Recommendation(movie_id=0, title="Invented", in_catalog=False).model_dump(mode="json"),
    ]
    turns = [{"query": "scary", "answer": "Two.", "recommendations": movies, "card_votes": {}}]

    def click(card: int, vote: int, turn: int = 0) -> str:
        nonlocal turns
        payload = json.dumps({"turn": turn, "card": card, "vote": vote})
        turns, status = handlers.vote_card(payload, turns, "ana")
        return status

    assert click(0, 1) == "Thanks! Your thumbs up on “Alien” was saved."
    assert click(0, -1) == "Thanks! Your thumbs down on “Alien” was saved."
    assert click(0, -1) == "Your vote on “Alien” was withdrawn."
    assert click(1, 1) == "Movies that are not on the platform cannot be rated."
    assert click(5, 1) == "" and click(0, 1, turn=3) == "" and click(0, 2) == ""
    assert handlers.vote_card("not json", turns, "ana") == (turns, "")
    assert [(e.movie_id, e.vote, e.target) for e in store.events()] == [
        (7, 1, "movie"),
        (7, -1, "movie"),
        (7, 0, "movie"),
    ]
