"""Local serving: MLflow's scoring server (as ``mlflow models serve`` runs it) under a supervisor.

:class:`LocalServing` is the local sibling of
:class:`~movie_rag.publish.databricks.DatabricksServing` behind the
:class:`~movie_rag.publish.serving.Serving` interface; :class:`LocalServer` is one running
server process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from movie_rag.publish.errors import LocalServerError
from movie_rag.publish.registry import ModelRegistry
from movie_rag.publish.serving import EndpointStatus

__all__ = ["LocalServer", "LocalServing"]

logger = logging.getLogger("movie_rag")


class LocalServer:
    """A running MLflow scoring server process (see :meth:`LocalServing.serve`).

    Use it as a context manager, or call :meth:`stop`.

    Attributes:
        url: Base URL (``http://127.0.0.1:5000``); POST to ``url + "/invocations"``.
        model_uri: The model it serves.
        log_path: The server's own output (startup errors are there).
        ready_seconds: How long it took to answer ``/ping``.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, model_uri: str, log_path: Path
    ) -> None:
        self.process = process
        self.url = url
        self.model_uri = model_uri
        self.log_path = log_path
        self.ready_seconds: float | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited {self.process.returncode}"
        return f"LocalServer(url={self.url!r}, model_uri={self.model_uri!r}, {state})"

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """Process id of the server (its process group leader)."""
        return self.process.pid

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Block until ``/ping`` answers 200.

        Args:
            timeout: Seconds to wait.

        Returns:
            Seconds waited.

        Raises:
            LocalServerError: The process exited or did not get ready in time (with the tail of
                its output).
        """
        started = time.perf_counter()
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if not self.running:
                raise LocalServerError(
                    f"the model server for {self.model_uri} exited with code "
                    f"{self.process.returncode}; its output ({self.log_path}) ends with:\n"
                    f"{self._tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as reply:
                    if reply.status == 200:
                        self.ready_seconds = time.perf_counter() - started
                        return self.ready_seconds
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise LocalServerError(
            f"the model server for {self.model_uri} was not ready after {timeout:.0f} s; its "
            f"output ({self.log_path}) ends with:\n{self._tail()}"
        )

    def wait(self) -> int:
        """Block until the server exits; returns its exit code."""
        return self.process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and its workers (SIGTERM, then SIGKILL after ``timeout``)."""
        if not self.running:
            self._close_pipe()
            return
        # The server runs in its own session: signalling its group reaches uvicorn's workers
        # and nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def _tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


class LocalServing:
    """Serve registered versions of a local (or reachable) registry on this machine.

    Args:
        registry: Where the versions are registered (its stores are handed to the server).

    Example:
        >>> serving = LocalServing(ModelRegistry(MovieRagSettings()))  # doctest: +SKIP
        >>> serving.deploy("movie-rag", "movie_rag", "1", port=5000).url  # doctest: +SKIP
        'http://127.0.0.1:5000/invocations'
    """

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self.servers: dict[str, LocalServer] = {}

    def __repr__(self) -> str:
        return f"LocalServing({self.registry!r}, endpoints={sorted(self.servers)})"

    # -- the Serving interface -------------------------------------------------------------

    def deploy(
        self, endpoint_name: str, model_name: str, model_version: str, **options: Any
    ) -> EndpointStatus:
        """Start (or restart) a server for ``models:/<model_name>/<model_version>``.

        Args:
            endpoint_name: The name this server is known by in :meth:`status`.
            model_name: Registered model name.
            model_version: Registered version.
            **options: Passed to :meth:`serve` (``port``, ``host``, ``workers``, ...).

        Returns:
            The status once the server answers ``/ping``.
        """
        self.teardown(endpoint_name)
        name = self.registry.qualified_name(model_name)
        self.servers[endpoint_name] = self.serve(f"models:/{name}/{model_version}", **options)
        return self.status(endpoint_name)

    def status(self, endpoint_name: str) -> EndpointStatus:
        """Whether the server of ``endpoint_name`` runs, and what it serves."""
        server = self.servers.get(endpoint_name)
        running = server is not None and server.running
        served = []
        if server is not None:
            reference = server.model_uri.removeprefix("models:/")
            name, _, version = reference.rpartition("/")
            served.append({"name": endpoint_name, "entity_name": name, "entity_version": version})
        state = "READY" if running else "NOT_READY"
        url = f"{server.url}/invocations" if running and server is not None else None
        what = f"; serving {server.model_uri} at {server.url}" if running and server else ""
        return EndpointStatus(
            name=endpoint_name,
            ready=running,
            state=state,
            config_update="NOT_UPDATING",
            served_entities=served,
            url=url,
            message=f"{endpoint_name}: {state}{what}",
        )

    def teardown(self, endpoint_name: str) -> None:
        """Stop the server of ``endpoint_name`` (none running is fine)."""
        server = self.servers.pop(endpoint_name, None)
        if server is not None:
            server.stop()

    # -- servers ----------------------------------------------------------------------------

    def serve(
        self,
        model_uri: str,
        *,
        port: int = 5000,
        host: str = "127.0.0.1",
        workers: int = 1,
        timeout: float = 180.0,
        request_timeout: int = 60,
        inference_log: str | os.PathLike[str] | None = None,
    ) -> LocalServer:
        """Serve ``model_uri`` over HTTP with MLflow's scoring server (``mlflow models serve``).

        See :meth:`movie_rag.publish.ModelPublisher.serve_local` for the arguments.

        Raises:
            ModelNotFoundError: The URI names a model, version or alias that is not
                registered.
            LocalServerError: The server did not start.
        """
        started = time.perf_counter()
        self.registry.check_model_uri(model_uri)
        if port == 0:
            port = _free_port(host)
        else:
            _check_port_free(host, port)
        workdir = self.registry.workdir
        log_dir = Path(inference_log) if inference_log is not None else workdir.inference_logs
        log_dir.mkdir(parents=True, exist_ok=True)
        server_log = workdir.root / "logs" / f"serve-{port}.log"
        server_log.parent.mkdir(parents=True, exist_ok=True)
        command, server_env = self._scoring_server(model_uri, host, port, workers, request_timeout)
        env = self.environment(model_uri, log_dir) | server_env
        from movie_rag.publish.model import REQUEST_TIMEOUT_ENV

        # The model stops working on a request a second before the server gives up on it,
        # so an abandoned request does not keep burning CPU (and is logged as a 504).
        env[REQUEST_TIMEOUT_ENV] = str(max(1, request_timeout - 1))
        with server_log.open("wb") as output:
            # The supervisor leads the server's process group and holds the read end of a
            # pipe only this process writes to: when this process dies (even by kill -9) the
            # supervisor stops the whole group, so no server outlives its owner.
            process = subprocess.Popen(
                [sys.executable, "-m", "movie_rag.publish._supervisor", *command],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE,
                start_new_session=True,
            )
        server = LocalServer(process, f"http://{_url_host(host)}:{port}", model_uri, server_log)
        try:
            server.wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        # Ready time counts from the call: the model's download is part of the start.
        seconds = server.ready_seconds = time.perf_counter() - started
        logger.info("serving %s at %s (ready in %.1f s)", model_uri, server.url, seconds)
        return server

    def _scoring_server(
        self, model_uri: str, host: str, port: int, workers: int, request_timeout: int
    ) -> tuple[list[str], dict[str, str]]:
        """The command and environment of MLflow's scoring server for ``model_uri``.

        It is what ``mlflow models serve --env-manager local`` downloads and execs (through
        ``mlflow.pyfunc.scoring_server.get_cmd``), started without the CLI process, which
        would import MLflow once more only to wait on it.
        """
        import shutil

        import mlflow
        from mlflow.pyfunc.scoring_server import get_cmd

        local_path = self.registry.workdir.root / "serving" / f"port-{port}"
        shutil.rmtree(local_path, ignore_errors=True)
        local_path.mkdir(parents=True)
        with self.registry.tracking():
            model_path = mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri, dst_path=str(local_path)
            )
        # MLflow annotates host as int; it is the interface name it passes to uvicorn.
        command, command_env = get_cmd(model_path, port, host, request_timeout, workers)  # type: ignore[arg-type]
        program, *arguments = shlex.split(command)
        if program != "uvicorn":
            raise LocalServerError(f"unexpected MLflow scoring server command: {command}")
        changed = {k: v for k, v in command_env.items() if os.environ.get(k) != v}
        return [sys.executable, "-m", "uvicorn", *arguments], changed

    def environment(self, model_uri: str, log_dir: Path) -> dict[str, str]:
        """Environment of a local model server."""
        from movie_rag.publish.inference_log import INFERENCE_LOG_DIR_ENV
        from movie_rag.publish.model import SERVED_MODEL_URI_ENV

        env = dict(os.environ)
        # Tools the model runs by name come from this venv.
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
        env["MLFLOW_TRACKING_URI"] = self.registry.tracking_uri
        env["MLFLOW_REGISTRY_URI"] = self.registry.registry_uri
        env[INFERENCE_LOG_DIR_ENV] = str(log_dir)
        env[SERVED_MODEL_URI_ENV] = model_uri
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        # Per-file download progress bars would bury startup errors in the server's log.
        env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        return env


def _check_port_free(host: str, port: int) -> None:
    """Raise LocalServerError when something already listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port in TIME_WAIT is free, one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise LocalServerError(
                f"port {port} on {host} is already in use ({exc.strerror or exc}); stop what "
                "listens there (an earlier model server?) or choose another port with --port"
            ) from None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
