"""Cards in a real browser without Spark: the app in this process on a stub backend whose
records carry posters, hostile text and non-ASCII titles; posters from a loopback relay.

Checks what only a browser shows: a poster that loads covers the placeholder, a missing one
leaves the placeholder (never a broken image), markup in records does not run, each card
title is drawn in one font (no glyph from a fallback font), and card thumbs reach the
feedback store.
"""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browser_helpers import DESKTOP, PHONE, WAIT_MS, ask, in_view, open_page, vote

from movie_rag.chain.types import Recommendation, RecommendationResponse
from movie_rag.feedback import LocalFeedbackStore
from movie_rag.ui.backends import replay
from movie_rag.ui.feedback import FeedbackRecorder

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser]

# A 2x3 PNG, the shape of a poster.
POSTER = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEklEQVR42mNkYPjPwMDAxMAABQkBA4x6"
    "kHIAAAAASUVORK5CYII="
)
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
MOVIES = [
    Recommendation(
        movie_id=1,
        title="Amélie",
        year=2001,
        genres=["Comedy", "Romance"],
        reason="A shy waitress in Montmartre decides to change lives.",
        url="https://www.imdb.com/title/tt0211915/",
        rating=8.3,
        poster_path="/amelie.png",
    ),
    Recommendation(
        movie_id=2,
        title="WALL·E",
        year=2008,
        genres=["Animation"],
        reason="A lonely robot falls in love.",
        rating=8.4,
        poster_path="/missing.png",  # the relay has no such poster
    ),
    Recommendation(movie_id=3, title=HOSTILE, year=1999, reason=HOSTILE, rating=None),
]


class StubBackend:
    label = "stub"
    concurrency = 1

    def answer(self, query: str, **_: Any) -> Iterator[tuple[str, Any]]:
        text = "Here are 3 movies for you:\n\n1. Amélie\n2. WALL·E\n3. The third"
        yield from replay(RecommendationResponse(query=query, answer=text, recommendations=MOVIES))


class _Posters(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/t/p/w185/amelie.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(POSTER)))
            self.end_headers()
            self.wfile.write(POSTER)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def posters() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Posters)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/t/p/w185"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stub_app(posters: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from movie_rag.ui.app import create_app, launch_app

    workdir = tmp_path_factory.mktemp("ui_cards")
    app = create_app(
        StubBackend(),
        feedback=FeedbackRecorder([LocalFeedbackStore(workdir)]),
        poster_base_url=posters,
    )
    url = launch_app(app, port=0, block=False)
    yield url, workdir
    app.close()


@pytest.fixture(scope="module")
def answered(browser: Browser, stub_app: tuple[str, Path]) -> Iterator[Page]:
    with open_page(browser, stub_app[0], "dee", DESKTOP) as page:
        statuses: list[list[Any]] = []
        page.on(
            "response",
            lambda r: (
                statuses.append([r.url.split("/")[-1], r.status]) if "/t/p/" in r.url else None
            ),
        )
        page.on(
            "requestfailed",
            lambda r: (
                statuses.append([r.url.split("/")[-1], r.failure]) if "/t/p/" in r.url else None
            ),
        )
        page.poster_statuses = statuses  # type: ignore[attr-defined]
        ask(page, "something lovely")
        page.locator("#chat .movie-card").nth(2).wait_for(timeout=WAIT_MS)
        for _ in range(100):  # both poster requests answered
            if {name for name, _ in statuses} == {"amelie.png", "missing.png"}:
                break
            page.wait_for_timeout(100)
        yield page


def test_a_loaded_poster_covers_the_placeholder_and_a_missing_one_leaves_it(
    answered: Page, posters: str
) -> None:
    page = answered
    cards = page.locator("#chat .movie-card")
    images = [
        cards.nth(i)
        .locator(".movie-poster-image")
        .evaluate_all("els => els.map(e => getComputedStyle(e).backgroundImage)")
        for i in range(3)
    ]
    assert images == [[f'url("{posters}/amelie.png")'], [f'url("{posters}/missing.png")'], []]
    loaded = page.poster_statuses  # type: ignore[attr-defined]
    # The relay's 404 for the missing one (Chromium may block that answer as well: ORB).
    assert ["amelie.png", 200] in loaded and ["missing.png", 200] not in loaded
    assert {name for name, _ in loaded} == {"amelie.png", "missing.png"}
    # Every card keeps its placeholder under the poster layer; no <img>, so no broken image.
    placeholders = cards.locator(".movie-poster").evaluate_all(
        "els => els.map(e => getComputedStyle(e).backgroundImage"
        ".startsWith('url(\"data:image/svg'))"
    )
    assert placeholders == [True, True, True]
    assert page.locator("#chat img").count() == 0
    # The only console errors are the browser's note that the missing poster did not load.
    errors = page.console_errors  # type: ignore[attr-defined]
    assert all(error.startswith("Failed to load resource") for error in errors), errors


def test_markup_in_records_is_shown_as_text_and_never_runs(answered: Page) -> None:
    page = answered
    third = page.locator("#chat .movie-card").nth(2)
    assert HOSTILE in third.locator(".movie-title").inner_text()
    assert HOSTILE in third.locator(".movie-reason").inner_text()
    assert page.evaluate("window.pwned") is None
    assert third.locator(".movie-rating").inner_text() == "no rating"
    ratings = page.locator("#chat .movie-rating").all_inner_texts()
    assert ratings == ["★ 8.3/10", "★ 8.4/10", "no rating"]


def test_each_bold_title_is_drawn_in_one_font(answered: Page) -> None:
    page = answered
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    nodes = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": ".movie-title"})
    assert len(nodes["nodeIds"]) == 3
    for node in nodes["nodeIds"]:
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        # One platform font for every glyph of "1. Amélie", "2. WALL·E", ...: no fallback.
        assert len({f["familyName"] for f in fonts}) == 1, fonts
    family = page.locator(".movie-title").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert family.startswith("system-ui")


def test_a_card_thumb_is_kept_for_that_movie(answered: Page, stub_app: tuple[str, Path]) -> None:
    page = answered
    vote(page, 0, "Like")
    page.locator("#feedback-status").get_by_text("Thanks!").wait_for(timeout=WAIT_MS)
    (event,) = LocalFeedbackStore(stub_app[1]).events()
    assert (event.user_id, event.target, event.movie_id, event.vote) == ("dee", "movie", 1, 1)
    assert event.title == "Amélie" and event.recommended_ids == [1, 2, 3]


def test_on_a_phone_the_cards_fit_the_screen(browser: Browser, stub_app: tuple[str, Path]) -> None:
    with open_page(browser, stub_app[0], "eve", PHONE) as page:
        assert in_view(page, "#question textarea")
        ask(page, "something lovely")
        widths = page.locator("#chat .movie-card").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().right)"
        )
        assert len(widths) == 3 and max(widths) <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert in_view(page, "#question textarea")
