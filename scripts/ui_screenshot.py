"""Take the README's screenshot of the chat UI (docs/images/ui.png).

Usage: .venv/bin/python scripts/ui_screenshot.py [--workdir .movie_rag/demo] [--out PATH]

Needs a built workdir (``movie-rag demo`` builds the bundled sample into .movie_rag/demo) and
Debian's chromium (``/usr/bin/chromium`` or MOVIE_RAG_CHROMIUM). Starts ``movie-rag ui`` in
in-process mode on a free loopback port, asks one of the original examples with a sidebar
filter set, rates a movie, and saves the page.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

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
    args = parser.parse_args()
    if not (args.workdir / "index").exists():
        raise SystemExit(f"{args.workdir} has no index: run `movie-rag demo` first")
    command = [sys.executable, "-m", "movie_rag.cli", "ui", "--port", "0", "--json"]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env.pop("API_END_POINT", None)
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
        shoot(started["url"].rstrip("/"), args.out)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(args.out)


def shoot(url: str, out: Path) -> None:
    chromium = os.environ.get("MOVIE_RAG_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1050})
        page.goto(f"{url}/?user=ana")
        page.wait_for_function(
            "document.querySelector('#user input, #user textarea')?.value === 'ana'"
        )
        page.locator("#year-from input[type=number]").fill("1980")
        page.locator("#year-from input[type=number]").press("Enter")
        page.get_by_text(EXAMPLE_QUESTIONS[1][:30]).first.click()
        page.wait_for_function(
            "document.querySelector('#question textarea').value.length > 0", timeout=30_000
        )
        page.click("#send")
        page.wait_for_function(
            "document.querySelector('#question textarea').value === ''", timeout=120_000
        )
        card = page.locator(".movie-card").nth(1)
        card.locator("xpath=following::button[@aria-label='Like'][1]").click()
        page.locator("#feedback-status").get_by_text("Thanks!").wait_for()
        # Show the answer from its start: the chat keeps scrolling to the newest message.
        page.wait_for_timeout(1000)
        page.evaluate("document.querySelector('#chat .bubble-wrap').scrollTop = 0")
        page.wait_for_timeout(500)
        page.mouse.move(0, 0)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


if __name__ == "__main__":
    main()
