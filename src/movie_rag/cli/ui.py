"""``movie-rag ui``: the Gradio chat UI, answering in-process or from an endpoint."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from movie_rag.cli._app import (
    DebugOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    WorkdirOption,
    _settings,
    _start,
    app,
    out,
)
from movie_rag.cli._errors import _reported_errors, _require, _require_for_chain


@app.command(
    epilog="""
Examples:

    movie-rag ui
    movie-rag ui --port 0 --json
    API_END_POINT=http://127.0.0.1:5000/invocations movie-rag ui
"""
)
def ui(
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            metavar="URL",
            envvar="API_END_POINT",
            help="Served model's invocations URL (default API_END_POINT); unset: answer "
            "in-process from the workdir's index.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TOKEN",
            envvar="API_TOKEN",
            help="Bearer token of the endpoint (prefer the API_TOKEN variable).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0: any free).")
    ] = 7860,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Interface to bind.")
    ] = "127.0.0.1",
    k: Annotated[int, typer.Option("--k", metavar="N", min=1, max=50, help="Recommendations.")] = 5,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", metavar="SECONDS", min=1, help="Seconds to wait for the endpoint."
        ),
    ] = 60.0,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Chat UI (Gradio): movie cards, filters, thumbs up/down kept in the workdir.

    Answers come from --endpoint (a served model) or, without one, from the chain in this
    process. Serves until Ctrl-C; with --json prints {"url": ...} once it is up.
    """
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    with _reported_errors(as_json):
        _require("ui")
        if not endpoint:
            _require_for_chain(_settings(workdir))
        from movie_rag.ui.app import create_app, launch_app
        from movie_rag.ui.feedback import FeedbackRecorder
        from movie_rag.ui.main import backend_from_settings

        settings = _settings(workdir)
        backend = backend_from_settings(settings, endpoint, token, timeout=timeout)
        recorder = FeedbackRecorder.from_settings(settings)
        app_ = create_app(backend, feedback=recorder, k=k)
        url = launch_app(app_, host=host, port=port, block=False)
    info = {
        "url": url,
        "mode": "remote" if endpoint else "in-process",
        "answers_from": backend.label,
        "feedback": [repr(sink) for sink in recorder.sinks],
    }
    if as_json:
        print(json.dumps(info), flush=True)
    else:
        out.print(f"chat UI at [bold]{url}[/] ({backend.label}); Ctrl-C stops", highlight=False)
    import contextlib

    # Gradio says goodbye on stdout after Ctrl-C; stdout is for the JSON line only.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            app_.block_thread()
        finally:
            app_.close()
