"""``movie-rag serve``: a registered model over HTTP until Ctrl-C."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from movie_rag.cli._app import (
    DebugOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    WorkdirOption,
    _progress,
    _settings,
    _start,
    app,
    err,
    out,
)
from movie_rag.cli._errors import _reported_errors, _require


@app.command(
    epilog="""
Examples:

    movie-rag serve
    movie-rag serve --model-uri models:/movie_rag/3 --port 0 --json
"""
)
def serve(
    model_uri: Annotated[
        str | None,
        typer.Option(
            "--model-uri",
            metavar="URI",
            help="Model to serve (default models:/movie_rag@champion).",
        ),
    ] = None,
    port: Annotated[
        int,
        typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0: any free)."),
    ] = 5000,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Interface to bind.")
    ] = "127.0.0.1",
    workers: Annotated[
        int, typer.Option("--workers", metavar="N", min=1, help="Server processes.")
    ] = 1,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Serve a registered model over HTTP (mlflow models serve) until Ctrl-C.

    Every request and response is appended to the workdir's inference log.
    """
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    with _reported_errors(as_json):
        _require("mlflow")
        from movie_rag.publish.publisher import ModelPublisher

        publisher = ModelPublisher(_settings(workdir))
    _serve_until_stopped(publisher, model_uri, port, host, workers, as_json)


def _serve_until_stopped(
    publisher: Any, model_uri: str | None, port: int, host: str, workers: int, as_json: bool
) -> None:
    import signal

    # SIGTERM must unwind like Ctrl-C: the model server runs in its own session and would
    # otherwise outlive this command.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with _reported_errors(as_json), _progress(True) as progress:
        progress("starting the model server")
        server = publisher.serve_local(model_uri, port=port, host=host, workers=workers)
    try:
        info = {
            "url": server.url,
            "invocations": f"{server.url}/invocations",
            "model_uri": server.model_uri,
            "pid": server.pid,
            "ready_seconds": round(server.ready_seconds or 0.0, 2),
            "inference_log": str(publisher.workdir.inference_logs),
            "server_log": str(server.log_path),
        }
        if as_json:
            print(json.dumps(info), flush=True)
        else:
            out.print(
                f"serving [bold]{server.model_uri}[/] at {info['invocations']} "
                f"(ready in {info['ready_seconds']} s); Ctrl-C stops",
                highlight=False,
            )
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    if code not in (0, -signal.SIGTERM):
        err.print(f"[bold red]error:[/] the model server exited with {code}; see {server.log_path}")
        raise typer.Exit(1)
