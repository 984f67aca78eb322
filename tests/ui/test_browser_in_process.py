"""The chat in a real browser in in-process mode: ``movie-rag ui --workdir W`` answers with the
chain loaded from the workdir (no server), and a thumbs down counts at once: the same user's
next answer leaves the movie out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_helpers import WAIT_MS, ask, card_titles, new_conversation, open_page, running_ui, vote

from movie_rag.cli import EXAMPLE_QUESTIONS
from movie_rag.feedback import LocalFeedbackStore

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.spark]


@pytest.fixture(scope="module")
def local_app(
    ui_workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """``movie-rag ui`` on a copy of the sample workdir (its votes stay out of other tests)."""
    workdir = tmp_path_factory.mktemp("ui_local") / "workdir"
    shutil.copytree(ui_workdir, workdir, ignore=shutil.ignore_patterns("spark"))
    with running_ui(["--workdir", str(workdir)], {"API_END_POINT": ""}) as info:
        assert info["mode"] == "in-process"
        yield info["url"], workdir


def test_cards_and_a_thumbs_down_that_counts_at_once(
    browser: Browser, local_app: tuple[str, Path]
) -> None:
    url, workdir = local_app
    with open_page(browser, url, "ben") as page:
        ask(page, EXAMPLE_QUESTIONS[0])
        first = card_titles(page)
        assert len(first) == 5
        vote(page, 0, "Dislike")
        page.locator("#feedback-status").get_by_text("Thanks!").wait_for(timeout=WAIT_MS)
        (event,) = LocalFeedbackStore(workdir).events()
        assert (event.user_id, event.target, event.vote) == ("ben", "movie", -1)
        assert event.title and first[0].startswith(f"1. {event.title}")
        new_conversation(page)
        ask(page, EXAMPLE_QUESTIONS[0])
        again = card_titles(page)
        assert len(again) == 5
        assert not any(event.title in title for title in again), again
        assert page.off_host == []  # type: ignore[attr-defined]
