"""``movie-rag build`` in a real terminal (tmux): a moving progress bar, no library noise."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Lines the libraries print when they are not silenced.
NOISE = re.compile(
    r"(?i:log4j|NativeCodeLoader|incubator|setLogLevel|netlib|libblas|Loading weights|"
    r"Downloading artifacts|py4j|SparkContext|mlflow|transformers|Traceback)|"
    r"\bWARN(ING)?\b|\bINFO\b"
)
COUNT = re.compile(r"(\d[\d,]*)/(\d[\d,]*)")


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_build_in_a_terminal_shows_a_moving_count_and_no_library_lines(tmp_path: Path) -> None:
    session = f"movie-rag-{uuid.uuid4().hex[:8]}"
    stdout = tmp_path / "stdout.txt"
    done = tmp_path / "exit_code"
    command = (
        f"{shlex.quote(sys.executable)} -m movie_rag.cli build --sample "
        f"--workdir {shlex.quote(str(tmp_path / 'w'))} > {shlex.quote(str(stdout))}; "
        f"echo $? > {shlex.quote(str(done))}; sleep 600"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "50", command)
    screens: list[str] = []
    try:
        deadline = time.monotonic() + 500
        while not done.exists() and time.monotonic() < deadline:
            screens.append(_tmux("capture-pane", "-p", "-t", session, "-S", "-200"))
            time.sleep(0.2)
        screens.append(_tmux("capture-pane", "-p", "-t", session, "-S", "-200"))
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=30)
    assert done.exists(), "the build did not finish:\n" + screens[-1]
    assert done.read_text().strip() == "0", screens[-1]
    final = screens[-1]
    # Only the terminal shows stderr; stdout (the report) went to the file.
    noisy = [line for line in final.splitlines() if NOISE.search(line)]
    assert noisy == [], "\n".join(noisy)
    assert "embedding documents" in final
    counts = [
        (int(a.replace(",", "")), int(b.replace(",", "")))
        for screen in screens
        for line in screen.splitlines()
        if "embedding documents" in line
        for a, b in COUNT.findall(line)
    ]
    assert counts, "no document count was shown"
    total = counts[-1][1]
    assert counts[-1] == (total, total) and total >= 90
    assert any(done_ < total for done_, _ in counts), "the count never showed work in progress"
    assert "timings" in final and "total" in final
    assert "movies_info" in stdout.read_text()
    assert (tmp_path / "w" / "logs").is_dir()
