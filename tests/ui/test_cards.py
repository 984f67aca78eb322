"""Movie cards: every field shown, everything escaped, only http(s) links."""

from __future__ import annotations

from movie_rag.chain.types import Recommendation
from movie_rag.ui.app import sidebar_filters
from movie_rag.ui.cards import NOT_ON_PLATFORM, answer_html, card_html, safe_url


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
