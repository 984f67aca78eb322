"""The chat as a Databricks App: SDK auth per request, no static token.

The entry point of ``apps/chat/app.yaml`` (``python -m movie_rag.ui.databricks_app``) runs in
its own process with what the Apps runtime gives it: ``DATABRICKS_APP_PORT``, the app's
service principal (``DATABRICKS_HOST``, ``DATABRICKS_CLIENT_ID``,
``DATABRICKS_CLIENT_SECRET``) and the endpoint resource (``SERVING_ENDPOINT``). The workspace
is an emulator on loopback that issues OAuth M2M tokens (``/oidc/v1/token``) and serves the
real pyfunc model's invocations; headless Chromium asks the question.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("databricks.sdk")

from emulators._workspace import ApiError, WorkspaceEmulator
from emulators.model_invocations import ModelInvocationsEmulator
from movie_rag.errors import ConfigurationError
from movie_rag.ui.databricks_app import WorkspaceEndpointClient, main

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from movie_rag.chain.recommender import RecommenderChain

APP_ID = "6f1c2a8e-app-movie-rag-chat"
APP_SECRET = "dose-app-secret-0123456789"
ENDPOINT = "movie_rag"
REPO = Path(__file__).resolve().parents[2]


def test_the_app_asks_the_endpoint_with_the_workspace_identity(endpoint) -> None:
    from databricks.sdk import WorkspaceClient

    workspace = WorkspaceClient(host=endpoint.base_url, token=endpoint.token)
    client = WorkspaceEndpointClient(workspace, endpoint.endpoint_name)
    response = client.ask("a horror movie", k=2)
    assert len(response.recommendations) == 2
    assert client.token is None  # the bearer lived for that request only


def test_a_wrong_identity_is_refused_by_the_endpoint(endpoint) -> None:
    from databricks.sdk import WorkspaceClient

    from movie_rag.ui.client import EndpointError

    workspace = WorkspaceClient(host=endpoint.base_url, token="dapi-not-the-right-one")
    client = WorkspaceEndpointClient(workspace, endpoint.endpoint_name)
    with pytest.raises(EndpointError):
        client.ask("a horror movie")


def test_the_app_without_its_endpoint_resource_says_what_to_add(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SERVING_ENDPOINT", raising=False)
    with pytest.raises(ConfigurationError, match="app resource"):
        main()


def test_the_app_yaml_runs_this_entry_point() -> None:
    import yaml

    spec = yaml.safe_load((REPO / "apps" / "chat" / "app.yaml").read_text(encoding="utf-8"))
    assert spec["command"] == ["python", "-m", "movie_rag.ui.databricks_app"]
    assert {"name": "SERVING_ENDPOINT", "valueFrom": "serving-endpoint"} in spec["env"]
    # No static token anywhere: the runtime injects the app's own OAuth credentials.
    assert not any("TOKEN" in item["name"] for item in spec["env"])


# -- the app in its own process, against an OAuth workspace ---------------------------------


class AppWorkspace(WorkspaceEmulator):
    """A workspace with OAuth M2M (from :class:`WorkspaceEmulator`) that serves the real
    model at ``POST /serving-endpoints/{name}/invocations`` to any authenticated caller."""

    thread_name = "app-workspace-emulator"

    def __init__(self, served: ModelInvocationsEmulator) -> None:
        super().__init__(token="dapi-deployer-not-given-to-the-app")
        self.served = served

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = path.strip("/").split("/")
        if (
            method == "POST"
            and len(parts) == 3
            and parts[::2] == ["serving-endpoints", "invocations"]
        ):
            if parts[1] != self.served.endpoint_name:
                raise ApiError(404, f"Endpoint '{parts[1]}' does not exist.")
            status, answer = self.served.answer(body)
            if status != 200:
                raise ApiError(status, answer["message"], answer["error_code"])
            return answer
        return super()._route(method, path, query, body)


@pytest.fixture(scope="module")
def workspace(chain: RecommenderChain) -> Iterator[AppWorkspace]:
    served = ModelInvocationsEmulator(chain, endpoint_name=ENDPOINT)  # scored in-process
    with AppWorkspace(served) as emulator:
        emulator.add_service_principal(APP_ID, APP_SECRET)
        yield emulator


def _app_env(workspace: AppWorkspace, secret: str, port: int, workdir: Path) -> dict[str, str]:
    """What the Apps runtime sets, and nothing of this machine's Databricks credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "MOVIE_RAG_DATABRICKS_", "API_"))
    }
    env.update(
        {
            "DATABRICKS_HOST": workspace.url,
            "DATABRICKS_CLIENT_ID": APP_ID,
            "DATABRICKS_CLIENT_SECRET": secret,
            "DATABRICKS_APP_PORT": str(port),
            "DATABRICKS_CONFIG_FILE": str(workdir / "no-databrickscfg"),
            "SERVING_ENDPOINT": ENDPOINT,
            "MOVIE_RAG_WORKDIR": str(workdir),
            # The Apps runtime routes to every interface; a test stays on loopback.
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    """The app's command in its own process; its stderr lines are collected as they come."""
    process = subprocess.Popen(
        [sys.executable, "-m", "movie_rag.ui.databricks_app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(process.stderr or []), daemon=True)
    reader.start()
    process.reader = reader  # type: ignore[attr-defined]
    return process, stderr


def _stop(process: subprocess.Popen[str], timeout: float = 20) -> int:
    """Stop the process if it still runs; wait for its stderr to be read and close it."""
    if process.poll() is None:
        process.terminate()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    process.reader.join(timeout=10)  # type: ignore[attr-defined]
    if process.stderr is not None:
        process.stderr.close()
    return code


@pytest.fixture(scope="module")
def app_url(
    workspace: AppWorkspace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[str]]]:
    port = _free_port()
    workdir = tmp_path_factory.mktemp("databricks_app")
    process, stderr = _start(_app_env(workspace, APP_SECRET, port, workdir))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the app exited: {''.join(stderr)[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the app did not listen within 180 s") from None
                time.sleep(0.5)
        yield url, stderr
    finally:
        _stop(process)
    assert "Traceback" not in "".join(stderr), "".join(stderr)[-3000:]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.spark
def test_the_app_answers_in_a_browser_with_its_own_oauth_identity(
    browser: Browser, workspace: AppWorkspace, app_url: tuple[str, list[str]]
) -> None:
    from browser_helpers import ask, open_page

    url, _ = app_url
    with open_page(browser, url, "ana") as page:
        ask(page, "Suggest me the best horror movie, that can scare anyone.")
        cards = page.locator("#chat .movie-card")
        assert cards.count() == 5
        assert page.locator('#chat [data-testid="bot"]').count() == 1  # one answer message
        assert all("/10" in t for t in page.locator(".movie-rating").all_inner_texts())
        assert page.off_host == []  # type: ignore[attr-defined]
    invocations = workspace.calls("POST", rf"^/serving-endpoints/{ENDPOINT}/invocations$")
    assert invocations and all(r.status == 200 for r in invocations)
    # Every call to the endpoint carried a token the workspace issued to the app itself.
    assert {(r.principal, r.credential) for r in invocations} == {(APP_ID, "oauth-m2m")}
    assert workspace.calls("POST", r"^/oidc/v1/token$")


@pytest.mark.slow
@pytest.mark.spark
def test_a_wrong_client_secret_is_one_clear_line(workspace: AppWorkspace, tmp_path: Path) -> None:
    process, stderr = _start(_app_env(workspace, "not-the-secret", _free_port(), tmp_path))
    try:
        process.wait(timeout=180)
    finally:
        code = _stop(process)
    text = "".join(stderr).strip()
    assert code == 2, text
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    assert text.startswith("movie_rag app: ") and "refused the credentials" in text
    assert workspace.url in text and "not-the-secret" not in text
