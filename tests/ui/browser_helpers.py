"""Helpers of the browser tests: the system chromium, ``movie-rag ui`` in its own process,
a page that refuses any request leaving loopback, and the chat's gestures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("MOVIE_RAG_CHROMIUM", "/usr/bin/chromium"))
# Headless on a closed network: no sandbox (containers), no GPU, and none of the background
# services that would keep dialling out (component updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000
USER_FIELD = "#user input, #user textarea"


@contextmanager
def running_ui(args: list[str], env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """``movie-rag ui --port 0 --json ARGS`` in its own process; yields its JSON line.

    On the way out the process is stopped, and its stderr must hold no traceback.
    """
    command = [sys.executable, "-m", "movie_rag.cli", "ui", "--port", "0", "--json", *args]
    process = subprocess.Popen(
        command,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    threading.Thread(target=lambda: stderr.extend(process.stderr or []), daemon=True).start()
    try:
        try:
            info = json.loads(_first_line(process, timeout=180))
        except (AssertionError, ValueError):
            raise AssertionError(f"the UI did not start: {''.join(stderr)[-3000:]}") from None
        yield info
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert "Traceback" not in "".join(stderr), "".join(stderr)[-3000:]


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.append(process.stdout.readline() if process.stdout else ""),
        daemon=True,
    )
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0].strip():
        raise AssertionError(f"no URL within {timeout} s (exit code {process.poll()})")
    return lines[0]


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def open_page(
    browser: Browser, url: str, user: str, viewport: dict[str, int] | None = None
) -> Iterator[Page]:
    """The app at ``url/?user=USER``; requests leaving loopback are refused and listed in
    ``page.off_host``; console errors and uncaught page errors are listed in
    ``page.console_errors``."""
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000})
    page = context.new_page()
    off_host: list[str] = []
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))

    def guard(route: Any) -> None:
        target = route.request.url
        if re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]|^(data|blob):", target):
            route.continue_()
        else:
            off_host.append(target)
            route.abort()

    page.route("**/*", guard)
    page.goto(f"{url.rstrip('/')}/?user={user}")
    page.wait_for_selector("#question textarea", timeout=WAIT_MS)
    # The user name arrives from the URL parameter once the page has loaded.
    page.wait_for_function(
        f"document.querySelector('{USER_FIELD}')?.value === '{user}'", timeout=WAIT_MS
    )
    page.off_host = off_host  # type: ignore[attr-defined]
    page.console_errors = console_errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def new_conversation(page: Page) -> None:
    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('.movie-card').length === 0")


def ask(page: Page, question: str | None = None) -> None:
    """Send the question (or whatever the box holds) and wait for the answer to finish:
    the box clears on success; a failure adds an error message and keeps the question."""
    box = page.locator("#question textarea")
    if question is not None:
        box.fill(question)
    errors = page.locator("#chat .answer-error").count()
    page.click("#send")
    page.wait_for_function(
        "errors => document.querySelector('#question textarea').value === '' "
        "|| document.querySelectorAll('#chat .answer-error').length > errors",
        arg=errors,
        timeout=WAIT_MS,
    )


def card_titles(page: Page) -> list[str]:
    return page.locator(".movie-card .movie-title").all_inner_texts()


def card_genres(page: Page) -> list[list[str]]:
    cards = page.locator(".movie-card")
    return [cards.nth(i).locator(".movie-genre").all_inner_texts() for i in range(cards.count())]


def vote(page: Page, card: int, button: str) -> None:
    """Click the ``Like`` or ``Dislike`` thumb of the ``card``-th movie card (0-based) of the
    latest answer."""
    kind = {"Like": "up", "Dislike": "down"}[button]
    page.locator("#chat .movie-answer").last.locator(".movie-card").nth(card).locator(
        f"button.card-vote.vote-{kind}"
    ).click()


def vote_answer(page: Page, button: str) -> None:
    """Click the chat's own ``Like`` or ``Dislike`` under the latest answer (the answer as a
    whole)."""
    page.locator(f"#chat button[aria-label='{button}']").last.click()


def in_view(page: Page, selector: str) -> bool:
    """Whether the element is entirely inside the viewport, without scrolling."""
    return bool(
        page.evaluate(
            """selector => {
                const box = document.querySelector(selector).getBoundingClientRect();
                return box.width > 0 && box.top >= 0 && box.left >= 0
                    && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
            }""",
            selector,
        )
    )
