"""Take the screenshots of the chat UI: docs/images/ui.png (1280 px) and ui-phone.png (390 px).

Usage: .venv/bin/python scripts/ui_screenshot.py [--workdir .movie_rag/demo] [--out PATH]
    [--phone-out PATH]

Needs a built workdir (``movie-rag demo`` builds the bundled sample into .movie_rag/demo) and
Debian's chromium (``/usr/bin/chromium`` or MOVIE_RAG_CHROMIUM). Starts ``movie-rag ui`` in
in-process mode on a free loopback port. At 1280 px: sets the year and rating filters, asks
one of the original examples, gives a card a thumbs up, and saves the page with the answer's
start in view. At 390 px: asks another example and saves the phone layout (filters folded
away, question box in view). Every request that leaves loopback is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from movie_rag.cli import EXAMPLE_QUESTIONS

REPO = Path(__file__).resolve().parents[1]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / ".movie_rag" / "demo")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "ui.png")
    parser.add_argument("--phone-out", type=Path, default=REPO / "docs" / "images" / "ui-phone.png")
    args = parser.parse_args()
    if not (args.workdir / "index").exists():
        raise SystemExit(f"{args.workdir} has no index: run `movie-rag demo` first")
    command = [sys.executable, "-m", "movie_rag.cli", "ui", "--port", "0", "--json"]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("API_END_POINT", None)
    env.pop("MOVIE_RAG_POSTER_BASE_URL", None)  # placeholders: the page stays on loopback
    server = subprocess.Popen(
        [*command, "--workdir", str(args.workdir)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started = json.loads(server.stdout.readline() if server.stdout else "{}")
        if "url" not in started:
            raise SystemExit(f"movie-rag ui did not start: {started}")
        shoot(started["url"].rstrip("/"), args.out, args.phone_out)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(args.out)
    print(args.phone_out)


def _open(browser: Browser, url: str, width: int, height: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:"))
            else route.abort()
        ),
    )
    page.goto(f"{url}/?user=ana")
    page.wait_for_function("document.querySelector('#user input, #user textarea')?.value === 'ana'")
    return page


def _ask(page: Page, example: str) -> None:
    page.get_by_text(example[:30]).first.click()
    page.wait_for_function(
        "document.querySelector('#question textarea').value.length > 0", timeout=30_000
    )
    page.click("#send")
    page.wait_for_function(
        "document.querySelector('#question textarea').value === ''", timeout=180_000
    )


def _show_answer_start(page: Page) -> None:
    # The chat keeps scrolling to the newest message: bring the answer's first line to the top.
    page.wait_for_timeout(1000)
    page.evaluate(
        """() => {
            const wrap = document.querySelector('#chat .bubble-wrap');
            const bot = document.querySelector('#chat .movie-answer');
            const offset = bot.getBoundingClientRect().top - wrap.getBoundingClientRect().top;
            wrap.scrollTop += offset - 36;  // below the chat's label
            window.scrollTo(0, 0);  // clicking an example may have scrolled the page
        }"""
    )
    page.wait_for_timeout(500)
    page.mouse.move(0, 0)


def shoot(url: str, out: Path, phone_out: Path) -> None:
    chromium = os.environ.get("MOVIE_RAG_CHROMIUM", "/usr/bin/chromium")
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = _open(browser, url, 1280, 900)
        page.wait_for_selector(".sidebar.open")  # wide screens open the filters
        for field, value in (("#year-from", "1980"), ("#min-rating", "7")):
            page.locator(f"{field} input[type=number]").fill(value)
            page.locator(f"{field} input[type=number]").press("Enter")
        _ask(page, EXAMPLE_QUESTIONS[1])
        page.locator(".movie-card").nth(1).locator("button.card-vote.vote-up").click()
        page.locator("#feedback-status").get_by_text("Thanks!").wait_for()
        _show_answer_start(page)
        page.screenshot(path=str(out))
        page.close()

        phone = _open(browser, url, 390, 844)
        _ask(phone, EXAMPLE_QUESTIONS[3])
        _show_answer_start(phone)
        phone.screenshot(path=str(phone_out))
        browser.close()


if __name__ == "__main__":
    main()
