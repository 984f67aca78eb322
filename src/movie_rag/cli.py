"""The ``movie-rag`` command line.

Every command takes ``--workdir``. With ``--json`` stdout carries only JSON; logs and progress
always go to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from movie_rag.errors import MovieRagError

if TYPE_CHECKING:
    from movie_rag.ingest.report import BuildReport
    from movie_rag.settings import MovieRagSettings

app = typer.Typer(
    name="movie-rag",
    help="Movie-recommendation RAG: build the catalogue, index it, ask for movies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir", help="Working directory (default: ./.movie_rag or MOVIE_RAG_WORKDIR)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")]


def _print_version(value: bool) -> None:
    if value:
        from movie_rag import __version__

        print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Movie-recommendation RAG: build the catalogue, index it, ask for movies."""


def _settings(workdir: Path | None) -> MovieRagSettings:
    from movie_rag.settings import MovieRagSettings

    return MovieRagSettings(workdir=workdir) if workdir is not None else MovieRagSettings()


def _configure_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    handler = RichHandler(console=err, show_path=False, show_time=False)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s")
    logging.getLogger("movie_rag").setLevel(logging.INFO if verbose else logging.WARNING)


@contextmanager
def _reported_errors(as_json: bool) -> Iterator[None]:
    try:
        yield
    except MovieRagError as exc:
        if as_json:
            print(json.dumps({"error": str(exc), "type": type(exc).__name__}))
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield lambda stage: None
        return
    with err.status("starting") as status:
        yield lambda stage: status.update(f"{stage}…")


@app.command()
def build(
    movielens: Annotated[
        Path | None, typer.Option("--movielens", help="MovieLens release directory.")
    ] = None,
    imdb: Annotated[
        list[Path] | None,
        typer.Option("--imdb", help="IMDB-like file or directory (repeatable; format auto)."),
    ] = None,
    genome: Annotated[
        Path | None, typer.Option("--genome", help="Directory with the genome files.")
    ] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="Build the bundled sample catalogue.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace movies_info instead of merging.")
    ] = False,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Ingest MovieLens (+ IMDB, genome) files and write the bronze tables and movies_info."""
    _configure_logging(verbose)
    with _reported_errors(as_json):
        imdb_paths = list(imdb or [])
        if sample:
            from movie_rag.datasets import sample_catalogue

            catalogue = sample_catalogue()
            movielens = movielens or catalogue.movielens_dir
            imdb_paths = imdb_paths or list(catalogue.imdb_paths)
        if movielens is None:
            err.print("[bold red]error:[/] give --movielens DIR (or --sample)")
            raise typer.Exit(2)
        from movie_rag.pipeline import build_catalogue

        settings = _settings(workdir)
        with _progress(sys.stderr.isatty()) as progress:
            report = build_catalogue(
                settings,
                movielens,
                imdb_paths,
                genome_dir=genome,
                mode="overwrite" if overwrite else "merge",
                progress=progress,
            )
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _print_report(report)


def _print_report(report: BuildReport) -> None:
    inputs = Table(title="Inputs", title_justify="left")
    for column in ("source", "rows in", "loaded", "quarantined", "path"):
        inputs.add_column(column, justify="right" if column[0] in "rlq" else "left")
    for item in report.inputs:
        inputs.add_row(
            item.source,
            f"{item.rows_in:,}",
            f"{item.rows_loaded:,}",
            f"{item.rows_quarantined:,}",
            item.path,
        )
    out.print(inputs)
    if report.matches:
        matches = Table(title="IMDB sources attached", title_justify="left")
        for column in ("source", "records", "by imdb_id", "by tmdb_id", "by title", "unmatched"):
            matches.add_column(column, justify="left" if column == "source" else "right")
        for source, m in report.matches.items():
            matches.add_row(
                source,
                f"{m.records:,}",
                f"{m.by_imdb_id:,}",
                f"{m.by_tmdb_id:,}",
                f"{m.by_title:,}",
                f"{m.unmatched_records:,}",
            )
        out.print(matches)
    coverage = Table(title="movies_info coverage", title_justify="left")
    coverage.add_column("field")
    coverage.add_column("movies", justify="right")
    coverage.add_column("share", justify="right")
    for name, c in report.coverage.items():
        coverage.add_row(name, f"{c.count:,}", f"{c.share:.1%}")
    out.print(coverage)
    changes = ", ".join(f"{k} {v:,}" for k, v in report.changes.items())
    out.print(f"[bold]movies_info[/]: {report.rows:,} rows → {report.table} ({changes})")
    if report.quarantined:
        total = sum(report.quarantined.values())
        out.print(f"[yellow]quarantined[/]: {total:,} rows → {report.quarantine_location}")
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    out.print(f"[dim]timings: {timings}[/]")


def main() -> None:
    """Entry point of the ``movie-rag`` console script."""
    app()


if __name__ == "__main__":
    main()
