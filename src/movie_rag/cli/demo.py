"""``movie-rag demo``: the bundled sample built end to end and four questions answered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from movie_rag.cli._app import (
    DebugOption,
    JsonOption,
    QuietOption,
    VerboseOption,
    _progress,
    _settings,
    _start,
    app,
    out,
)
from movie_rag.cli._errors import _reported_errors, _require
from movie_rag.cli._render import print_response
from movie_rag.datasets import EXAMPLE_QUESTIONS


@app.command(
    epilog="""
Examples:

    movie-rag demo
    movie-rag demo --k 3 --json
"""
)
def demo(
    workdir: Annotated[
        Path,
        typer.Option(
            "--workdir", metavar="DIR", help="Where the demo builds (never the default workdir)."
        ),
    ] = Path(".movie_rag/demo"),
    k: Annotated[
        int, typer.Option("--k", metavar="N", min=1, max=20, help="Movies per answer.")
    ] = 5,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Build the bundled sample end to end and answer the original UI's four questions."""
    import time

    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    with _reported_errors(as_json):
        _require("spark", "embeddings")
        from movie_rag.chain.recommender import RecommenderChain
        from movie_rag.datasets import sample_catalogue
        from movie_rag.pipeline import build_catalogue

        started = time.perf_counter()
        settings = _settings(workdir)
        sample = sample_catalogue()
        with _progress(not quiet, summary=not quiet) as progress:
            report = build_catalogue(
                settings, sample.movielens_dir, sample.imdb_paths, progress=progress
            )
        built = time.perf_counter()
        chain = RecommenderChain.from_settings(settings)
        answers = []
        for question in EXAMPLE_QUESTIONS:
            asked = time.perf_counter()
            response = chain.invoke({"query": question, "k": k})
            answers.append((response, time.perf_counter() - asked))
        finished = time.perf_counter()
    timings = {
        "build_seconds": round(built - started, 2),
        "chain_load_seconds": round(finished - built - sum(a[1] for a in answers), 2),
        "answer_seconds": [round(a[1], 3) for a in answers],
        "total_seconds": round(finished - started, 2),
    }
    if as_json:
        print(
            json.dumps(
                {
                    "workdir": str(settings.workdir),
                    "movies": report.rows,
                    "answers": [a[0].model_dump() for a in answers],
                    "timings": timings,
                },
                ensure_ascii=False,
            )
        )
        return
    out.print(f"[bold]Built[/] {report.rows} movies into {settings.workdir}")
    for response, seconds in answers:
        out.rule(f"[bold]{response.query}")
        print_response(response)
        out.print(f"[dim]{seconds * 1000:.0f} ms[/]")
    out.rule()
    out.print(
        f"timings: build {timings['build_seconds']} s, chain load "
        f"{timings['chain_load_seconds']} s, total {timings['total_seconds']} s"
    )
