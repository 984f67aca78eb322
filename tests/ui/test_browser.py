"""The chat in a real browser: headless Debian chromium, driven by Playwright, against
``movie-rag ui`` on loopback answering from a served model (the real pyfunc model behind
Databricks-style invocations), with feedback going to the workdir and a UC table emulator.

No browser is downloaded: Playwright launches the system chromium (``/usr/bin/chromium`` or
``MOVIE_RAG_CHROMIUM``). Under ``CI=true`` a missing browser fails the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import (
    DESKTOP,
    PHONE,
    USER_FIELD,
    WAIT_MS,
    ask,
    card_genres,
    in_view,
    new_conversation,
    open_page,
    running_ui,
    vote,
    vote_answer,
)

from emulators.model_invocations import ModelInvocationsEmulator
from emulators.sql_statements import SqlStatementsEmulator
from movie_rag.chain.recommender import RecommenderChain
from movie_rag.cli import EXAMPLE_QUESTIONS
from movie_rag.feedback import LocalFeedbackStore
from movie_rag.ui.app import DESCRIPTION, TITLE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.spark]

FEEDBACK_TABLE = "movie_rag.silver.feedback"


@pytest.fixture(scope="module")
def served(chain: RecommenderChain) -> Iterator[ModelInvocationsEmulator]:
    with ModelInvocationsEmulator(chain) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def uc_table() -> Iterator[SqlStatementsEmulator]:
    with SqlStatementsEmulator(schemas=["movie_rag.silver"]) as sql:
        yield sql


@pytest.fixture(scope="module")
def app_url(
    served: ModelInvocationsEmulator,
    uc_table: SqlStatementsEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path]]:
    """``movie-rag ui`` answering from the endpoint (``API_END_POINT``, ``API_TOKEN``), with
    feedback into its workdir and the UC table; yields (url, workdir)."""
    workdir = tmp_path_factory.mktemp("ui_app")
    env = {
        "API_END_POINT": served.url,
        "API_TOKEN": served.token,
        "MOVIE_RAG_SQL_WAREHOUSE_ID": uc_table.warehouse_id,
        "MOVIE_RAG_DATABRICKS_HOST": uc_table.url,
        "MOVIE_RAG_DATABRICKS_TOKEN": uc_table.token,
    }
    with running_ui(["--workdir", str(workdir), "--timeout", "10"], env) as info:
        assert info["mode"] == "remote"
        yield info["url"], workdir


@pytest.fixture(scope="module")
def page(browser: Browser, app_url: tuple[str, Path]) -> Iterator[Page]:
    with open_page(browser, app_url[0], "ana") as opened:
        yield opened


def test_the_page_has_the_original_texts_and_stays_on_loopback(page: Page) -> None:
    assert page.title() == TITLE
    body = page.inner_text("body")
    assert TITLE in body and DESCRIPTION in body
    for question in EXAMPLE_QUESTIONS:
        assert page.get_by_text(question[:40]).count() >= 1
    assert page.input_value(USER_FIELD) == "ana"  # from ?user=ana
    assert page.off_host == []  # type: ignore[attr-defined]


def test_an_example_question_is_answered_with_cards(page: Page) -> None:
    new_conversation(page)
    from playwright.sync_api import expect

    page.get_by_text(EXAMPLE_QUESTIONS[1][:30]).first.click()
    expect(page.locator("#question textarea")).to_have_value(EXAMPLE_QUESTIONS[1])
    ask(page)
    cards = page.locator(".movie-card")
    assert cards.count() >= 1
    first = cards.first
    assert re.match(r"^1\. .+", first.locator(".movie-title").inner_text())
    assert (
        first.locator("a.movie-link")
        .get_attribute("href", timeout=5000)
        .startswith("https://www.imdb.com/title/tt")
    )
    answer = page.locator('#chat [data-testid="bot"]').first.inner_text()
    assert "Jurassic Park" in answer  # the answer itself names the seed
    assert page.off_host == []  # type: ignore[attr-defined]


def test_a_sidebar_genre_filter_is_honoured(page: Page, served: ModelInvocationsEmulator) -> None:
    new_conversation(page)
    comedy = page.locator("#genres").get_by_label("Comedy", exact=True)
    comedy.check()
    try:
        ask(page, "something to watch tonight")
        genres = card_genres(page)
        assert len(genres) >= 3
        assert all("Comedy" in g for g in genres), genres
        sent = json.loads(served.requests[-1]["raw"])
        columns = sent["dataframe_split"]["columns"]
        row = dict(zip(columns, sent["dataframe_split"]["data"][0], strict=True))
        assert json.loads(row["filters"]) == {"genres_any": ["Comedy"]}
        assert row["user_id"] == "ana"
    finally:
        comedy.uncheck()


def test_thumbs_up_on_a_movie_is_stored(
    page: Page, app_url: tuple[str, Path], uc_table: SqlStatementsEmulator
) -> None:
    _, workdir = app_url
    new_conversation(page)
    ask(page, EXAMPLE_QUESTIONS[0])
    card = page.locator(".movie-card").nth(1)
    title = card.locator(".movie-title").inner_text()
    vote(page, 1, "Like")
    status = page.locator("#feedback-status")
    status.get_by_text("Thanks!").wait_for(timeout=WAIT_MS)
    assert "thumbs up" in status.inner_text()
    events = LocalFeedbackStore(workdir).events()
    assert [(e.user_id, e.target, e.vote) for e in events] == [("ana", "movie", 1)]
    assert events[0].query == EXAMPLE_QUESTIONS[0]
    assert events[0].title and title.startswith(f"2. {events[0].title}")
    movie_id = events[0].recommended_ids[1]  # the second card was clicked
    assert events[0].movie_id == movie_id
    rows = uc_table.rows(FEEDBACK_TABLE)
    assert [(r["event_id"], r["user_id"], r["movie_id"], r["vote"]) for r in rows] == [
        (events[0].event_id, "ana", movie_id, 1)
    ]


def test_an_endpoint_failure_shows_a_short_message_and_keeps_the_question(
    page: Page, served: ModelInvocationsEmulator
) -> None:
    new_conversation(page)
    question = "a feel-good comedy for tonight"
    with served.failing(503):
        ask(page, question)
    error = page.locator("#chat .answer-error")
    assert "had a problem (HTTP 503)" in error.inner_text()
    assert page.input_value("#question textarea") == question
    assert "Traceback" not in page.inner_text("body")
    # The endpoint is back: the same question, still in the box, now gets cards.
    ask(page)
    assert page.locator(".movie-card").count() >= 1


def test_an_empty_question_is_a_hint(page: Page) -> None:
    new_conversation(page)
    page.locator("#question textarea").fill("")
    page.click("#send")
    page.locator("#chat .answer-error").wait_for(timeout=WAIT_MS)
    assert "Please type a question first" in page.inner_text("#chat")


RATING = re.compile(r"^★ \d{1,2}\.\d/10$")


def _one_answer_with_rated_cards(page: Page) -> None:
    bots = page.locator('#chat [data-testid="bot"]')
    assert bots.count() == 1  # one answer, one message
    answer = bots.first
    assert answer.locator(".movie-grid").count() == 1
    cards = answer.locator(".movie-card")
    assert cards.count() == 5
    ratings = answer.locator(".movie-card .movie-rating").all_inner_texts()
    assert len(ratings) == 5 and all(RATING.match(r) for r in ratings), ratings
    # No poster base URL is configured: every card shows the placeholder, nothing loads.
    assert answer.locator(".movie-poster").count() == 5
    assert answer.locator(".movie-poster-image, img").count() == 0


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_the_question_box_is_in_view_and_an_answer_is_one_message_of_rated_cards(
    browser: Browser, app_url: tuple[str, Path], viewport: dict[str, int]
) -> None:
    with open_page(browser, app_url[0], "cleo", viewport) as page:
        page.wait_for_timeout(1000)  # the sidebar script runs once the page has loaded
        sidebar_open = page.locator(".sidebar.open").count() == 1
        if viewport is PHONE:
            assert not sidebar_open  # folded away: it would cover the question box
        else:
            page.locator(".sidebar.open").wait_for(timeout=WAIT_MS)
            assert in_view(page, "#genres")
        assert in_view(page, "#question textarea") and in_view(page, "#send")
        assert page.evaluate("window.scrollY") == 0

        ask(page, EXAMPLE_QUESTIONS[2])
        _one_answer_with_rated_cards(page)
        # The chat fills the window and scrolls inside: the box stays in view after an answer.
        assert in_view(page, "#question textarea")
        chat = page.locator("#chat").bounding_box()
        assert chat is not None and chat["height"] >= 0.45 * viewport["height"]
        assert page.console_errors == []  # type: ignore[attr-defined]
        assert page.off_host == []  # type: ignore[attr-defined]


def test_the_answer_and_its_cards_are_rated_apart(
    page: Page, app_url: tuple[str, Path], uc_table: SqlStatementsEmulator
) -> None:
    _, workdir = app_url
    store = LocalFeedbackStore(workdir)
    before = len(store.events())
    new_conversation(page)
    ask(page, EXAMPLE_QUESTIONS[3])
    status = page.locator("#feedback-status")
    vote_answer(page, "Dislike")
    status.get_by_text("thumbs down on the answer").wait_for(timeout=WAIT_MS)
    vote(page, 2, "Dislike")
    status.get_by_text("thumbs down on “").wait_for(timeout=WAIT_MS)
    button = page.locator(".movie-card").nth(2).locator("button.card-vote.vote-down")
    assert "pressed" in (button.get_attribute("class") or "")
    vote(page, 2, "Dislike")  # the same thumb again takes the vote back
    status.get_by_text("was withdrawn").wait_for(timeout=WAIT_MS)
    assert "pressed" not in (button.get_attribute("class") or "")
    events = store.events()[before:]
    assert [(e.target, e.vote) for e in events] == [("answer", -1), ("movie", -1), ("movie", 0)]
    assert events[1].movie_id == events[1].recommended_ids[2]
    assert page.console_errors == []  # type: ignore[attr-defined]
