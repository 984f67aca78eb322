"""The ``movie-rag`` application object, its consoles and the options every command shares."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from movie_rag.progress import ProgressDisplay
    from movie_rag.settings import MovieRagSettings

app = typer.Typer(
    name="movie-rag",
    help="Movie-recommendation RAG: build the catalogue, index it, ask for movies.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
out = Console()
err = Console(stderr=True)

WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        metavar="DIR",
        help="Working directory (default: ./.movie_rag or MOVIE_RAG_WORKDIR).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", metavar="", help="Print only JSON on stdout.")]
VerboseOption = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        metavar="",
        help="More output on stderr: -v movie_rag INFO and the libraries' logs, -vv DEBUG.",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", metavar="", help="Errors only: no progress, no timings."),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", metavar="", help="Show the full traceback of a failure.")
]

# Set by _start: whether tracebacks are shown, and the log file of this run.
_run: dict[str, Any] = {"debug": False, "quiet": False, "log_file": None}


def _start(
    workdir: Path | None, *, verbose: int = 0, quiet: bool = False, debug: bool = False
) -> None:
    """Logging for this command: libraries' chatter to ``<workdir>/logs/`` unless ``-v``."""
    from movie_rag.logs import configure_logging

    if err.is_terminal:
        # The JVM's output is pointed away from fd 2 while Spark starts; the live display
        # keeps its own copy of the terminal so it goes on drawing meanwhile.
        err.file = os.fdopen(os.dup(sys.stderr.fileno()), "w", encoding="utf-8", buffering=1)
    root = workdir if workdir is not None else os.environ.get("MOVIE_RAG_WORKDIR", ".movie_rag")
    _run["debug"] = debug
    _run["quiet"] = quiet
    _run["log_file"] = configure_logging(-1 if quiet else verbose, workdir=Path(root), console=err)


def _print_version(value: bool) -> None:
    if value:
        from movie_rag._version import __version__

        print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            metavar="",
            help="Print the version.",
        ),
    ] = False,
) -> None:
    """Movie-recommendation RAG: build the catalogue, index it, ask for movies.

    First hour: [bold]movie-rag demo[/], then [bold]movie-rag build --sample[/],
    [bold]movie-rag recommend "something like Heat"[/] and [bold]movie-rag ui[/].
    """


def _settings(workdir: Path | None) -> MovieRagSettings:
    from movie_rag.settings import MovieRagSettings

    return MovieRagSettings(workdir=workdir) if workdir is not None else MovieRagSettings()


@contextmanager
def _progress(enabled: bool, *, summary: bool = False) -> Iterator[ProgressDisplay]:
    """The stage display on stderr; ``summary`` prints the per-stage timings at the end."""
    from movie_rag.progress import ProgressDisplay

    display = ProgressDisplay(err, mode=None if enabled and not _run["quiet"] else "off")
    with display:
        yield display
    if summary:
        display.summary()
