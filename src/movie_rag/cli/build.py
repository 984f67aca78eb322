"""``movie-rag build``: ingest the inputs, write movies_info, train, index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

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
)
from movie_rag.cli._errors import _fail, _reported_errors, _require
from movie_rag.cli._render import print_report
from movie_rag.platform import platform_for

_BUILD_EXAMPLES = """
Examples:

    movie-rag build --sample
    movie-rag build --movielens data/ml-latest-small --genome data/ml-genome \\
        --imdb data/imdb/movies_metadata.csv --imdb data/imdb/brightdata_imdb.json
    movie-rag build --movielens data/ml-32m --overwrite --json > build.json
"""


@app.command(epilog=_BUILD_EXAMPLES)
def build(
    movielens: Annotated[
        Path | None,
        typer.Option("--movielens", metavar="DIR", help="MovieLens release directory."),
    ] = None,
    imdb: Annotated[
        list[Path] | None,
        typer.Option(
            "--imdb",
            metavar="FILE",
            help="IMDB-like file or directory (repeatable; format auto-detected).",
        ),
    ] = None,
    genome: Annotated[
        Path | None,
        typer.Option("--genome", metavar="DIR", help="Directory with the genome files."),
    ] = None,
    sample: Annotated[
        bool, typer.Option("--sample", metavar="", help="Build the bundled sample catalogue.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", metavar="", help="Replace movies_info instead of merging."),
    ] = False,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Ingest MovieLens (+ IMDB, genome) files and write the bronze tables and movies_info.

    Then trains the collaborative model and embeds the changed movies into the vector index.
    Progress and a per-stage timing table go to stderr.
    """
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    with _reported_errors(as_json):
        imdb_paths = list(imdb or [])
        if sample:
            from movie_rag.datasets import sample_catalogue

            catalogue = sample_catalogue()
            movielens = movielens or catalogue.movielens_dir
            imdb_paths = imdb_paths or list(catalogue.imdb_paths)
        if movielens is None:
            raise _fail("give --movielens DIR (or --sample)", as_json, "UsageError")
        settings = _settings(workdir)
        local = platform_for(settings).is_local
        _require("spark", "embeddings") if local else _require("databricks")
        from movie_rag.pipeline import build_catalogue

        with _progress(not quiet, summary=not quiet) as progress:
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
        print_report(report)
    for warning in report.warnings:
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
