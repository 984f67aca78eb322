"""``movie-rag evaluate``: the chain against baselines on held-out users and tags."""

from __future__ import annotations

import json
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
    out,
)
from movie_rag.cli._errors import _reported_errors, _require
from movie_rag.cli._render import print_evaluation


def _complete_protocols(incomplete: str) -> list[str]:
    from movie_rag.evaluation.protocols import PROTOCOLS
    from movie_rag.evaluation.runner import register_extensions

    register_extensions()
    return [name for name in PROTOCOLS if name.startswith(incomplete)]


def _complete_systems(incomplete: str) -> list[str]:
    from movie_rag.evaluation.runner import register_extensions
    from movie_rag.evaluation.systems import SYSTEMS

    register_extensions()
    return [name for name in SYSTEMS if name.startswith(incomplete)]


@app.command(
    epilog="""
Examples:

    movie-rag evaluate --reduced
    movie-rag evaluate --protocol similar --system popularity --system chain
    movie-rag evaluate --movielens data/ml-latest-small --genome data/ml-genome --json
"""
)
def evaluate(
    protocol: Annotated[
        list[str] | None,
        typer.Option(
            "--protocol",
            metavar="NAME",
            autocompletion=_complete_protocols,
            help="tags, similar, per-user, grounding (repeatable; default: all, grounding only "
            "when an LLM is configured).",
        ),
    ] = None,
    system: Annotated[
        list[str] | None,
        typer.Option(
            "--system",
            metavar="NAME",
            autocompletion=_complete_systems,
            help="random, popularity, bm25, item-knn, hybrid, chain, chain-llm (repeatable; "
            "default all).",
        ),
    ] = None,
    reduced: Annotated[
        bool,
        typer.Option("--reduced", metavar="", help="The CI protocol: same rules, fewer queries."),
    ] = False,
    movielens: Annotated[
        Path | None,
        typer.Option(
            "--movielens",
            metavar="DIR",
            help="MovieLens release (default: the workdir's build input).",
        ),
    ] = None,
    genome: Annotated[
        Path | None,
        typer.Option("--genome", metavar="DIR", help="Directory with the genome files."),
    ] = None,
    imdb: Annotated[
        list[Path] | None,
        typer.Option("--imdb", metavar="FILE", help="IMDB-like file (repeatable)."),
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report-dir",
            metavar="DIR",
            help="Where the report goes (default: reports/evaluation).",
        ),
    ] = None,
    no_mlflow: Annotated[
        bool,
        typer.Option(
            "--no-mlflow", metavar="", help="Do not log the run to the local MLflow store."
        ),
    ] = False,
    judge: Annotated[
        bool | None,
        typer.Option(
            "--judge/--no-judge",
            metavar="",
            help="MLflow LLM judges on the chain's answers (default: when an LLM is configured).",
        ),
    ] = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Evaluate the chain against baselines on held-out MovieLens users and tags.

    Needs a built workdir (its embedding cache is reused). Prints a table, writes a markdown
    and HTML report with plots and logs the metrics and the report to MLflow.
    """
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    with _reported_errors(as_json):
        _require("spark", "embeddings", "plots")
        if not no_mlflow:
            _require("mlflow")
        from movie_rag.evaluation.build import EvaluationInputs
        from movie_rag.evaluation.protocols import ProtocolParams
        from movie_rag.evaluation.report import (
            default_directory,
            log_to_mlflow,
            write_report,
        )
        from movie_rag.evaluation.runner import run_evaluation

        settings = _settings(workdir)
        inputs = (
            EvaluationInputs(movielens, genome, list(imdb or []))
            if movielens is not None
            else EvaluationInputs.from_build_report(settings.workdir)
        )
        protocols = list(protocol or [])
        params = ProtocolParams.reduced() if reduced else ProtocolParams()
        with _progress(not quiet, summary=not quiet) as progress:
            report, _ = run_evaluation(
                settings,
                inputs,
                params,
                protocols=protocols or None,
                systems=system,
                judge=judge,
                progress=progress,
            )
            files = write_report(report, report_dir or default_directory(settings.workdir))
            run_id = None if no_mlflow else log_to_mlflow(report, files, settings.workdir)
    if as_json:
        document = report.model_dump()
        document["files"] = {name: str(path) for name, path in files.items()}
        document["mlflow_run_id"] = run_id
        print(json.dumps(document, indent=2))
        return
    print_evaluation(report)
    for name, reason in report.skipped.items():
        out.print(f"[yellow]skipped[/] {name}: {escape(reason)}", highlight=False)
    out.print(f"Report: {files['markdown']} ({report.timings['total']:.1f} s)")
    if run_id:
        out.print(f"MLflow run: {run_id} (experiment movie_rag-evaluation)")
