"""`movie-rag publish` and `movie-rag serve`, run as a user runs them (real subprocesses)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from publish_helpers import post

from movie_rag.publish import RegisteredVersion


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "movie_rag.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )


def test_unity_catalog_names_are_validated_before_any_network_call(tmp_path: Path) -> None:
    result = _cli(
        "publish", "--registry", "databricks-uc", "--name", "models.movie_rag",
        "--workdir", str(tmp_path), "--json",
    )  # fmt: skip
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["type"] == "ConfigurationError"
    assert "<catalog>.<schema>.<model>" in error["error"]


def test_unknown_registry_is_refused(tmp_path: Path) -> None:
    result = _cli("publish", "--registry", "s3", "--workdir", str(tmp_path))
    assert result.returncode == 2
    assert "local or databricks-uc" in result.stderr


@pytest.mark.spark
@pytest.mark.slow
def test_publish_again_from_the_cli_is_idempotent(
    sample_workdir: Path, champion: RegisteredVersion
) -> None:
    result = _cli("publish", "--workdir", str(sample_workdir), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    published = json.loads(result.stdout)  # stdout carries only JSON
    assert published["version"] == champion.version
    assert published["alias_uri"] == "models:/movie_rag@champion"
    assert published["tracking_uri"].startswith("sqlite:///")
    assert "champion" in published["aliases"]


@pytest.mark.spark
@pytest.mark.slow
def test_serve_an_unknown_alias_is_a_clear_error(
    sample_workdir: Path, champion: RegisteredVersion
) -> None:
    result = _cli(
        "serve", "--model-uri", "models:/movie_rag@nope", "--workdir", str(sample_workdir),
        "--port", "0", "--json",
    )  # fmt: skip
    assert result.returncode == 2
    error = json.loads(result.stdout)
    assert error["type"] == "ModelNotFoundError"
    assert "'nope'" in error["error"]


@pytest.mark.spark
@pytest.mark.slow
def test_serve_runs_until_terminated_and_takes_its_server_down(
    sample_workdir: Path, champion: RegisteredVersion
) -> None:
    command = [
        sys.executable, "-m", "movie_rag.cli", "serve",
        "--workdir", str(sample_workdir), "--port", "0", "--json",
    ]  # fmt: skip
    server_pid = None
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    ) as process:  # fmt: skip
        assert process.stdout is not None and process.stderr is not None
        try:
            line: list[str] = []
            reader = threading.Thread(target=lambda: line.append(process.stdout.readline()))  # type: ignore[union-attr]
            reader.start()
            reader.join(timeout=600)
            assert line and line[0].strip(), "the command printed no JSON line"
            info = json.loads(line[0])
            server_pid = info["pid"]
            assert info["model_uri"] == "models:/movie_rag@champion"
            assert info["invocations"] == f"{info['url']}/invocations"
            assert Path(info["inference_log"]) == sample_workdir / "logs" / "inference"

            status, reply = post(
                info["invocations"], {"dataframe_records": [{"query": "a western"}]}
            )
            assert status == 200 and reply["predictions"][0]

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) in (0, 143)
            with pytest.raises(ProcessLookupError):
                os.kill(server_pid, 0)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if server_pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server_pid, signal.SIGKILL)
