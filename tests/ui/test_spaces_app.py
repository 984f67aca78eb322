"""The Spaces entry point (app.py at the repository root) reads the original secrets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.model_invocations import ModelInvocationsEmulator
from movie_rag.ui.app import TITLE

pytestmark = [pytest.mark.spark, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def space(endpoint: ModelInvocationsEmulator, tmp_path: Path) -> Iterator[str]:
    """``python app.py`` as a Space runs it, with the two secrets set; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "API_END_POINT": endpoint.url,
        "API_TOKEN": endpoint.token,
        "MOVIE_RAG_WORKDIR": str(tmp_path),
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    env.pop("SPACE_ID", None)
    log = tmp_path / "app.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/config", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = log.read_text()[-3000:]
                    raise AssertionError(f"app.py did not start: {output}") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_app_py_answers_from_api_end_point_with_api_token(
    space: str, endpoint: ModelInvocationsEmulator
) -> None:
    with urllib.request.urlopen(f"{space}/config", timeout=30) as reply:
        config = json.loads(reply.read())
    assert config["title"] == TITLE
    texts = json.dumps(config["components"])
    assert f"endpoint {endpoint.url.split('/')[2]}" in texts  # answers from API_END_POINT
    from gradio_client import Client

    client = Client(space, verbose=False)
    # The conversation state is per session and not part of the API.
    messages, box = client.predict("a heist movie", "ana", [], 1900, 2026, 0, api_name="/respond")
    assert box == ""
    assert any("movie-card" in str(m["content"]) for m in messages)
    assert endpoint.requests[-1]["headers"]["Authorization"] == f"Bearer {endpoint.token}"


def test_the_remote_mode_needs_no_heavy_packages() -> None:
    # A Space installs the base package and Gradio: no Spark, torch, embeddings or MLflow.
    code = (
        "import sys; from movie_rag.ui.main import app_from_settings; "
        "app_from_settings(endpoint='http://127.0.0.1:9/invocations'); "
        "heavy = [m for m in ('pyspark', 'torch', 'mlflow', 'sentence_transformers', 'faiss') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
