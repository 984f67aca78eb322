"""The ``movie-rag`` command line.

Every command takes ``--workdir``. With ``--json`` stdout carries only JSON; logs and progress
always go to stderr.
"""

from __future__ import annotations

import json
import logging
import os
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

    from movie_rag.privacy import install_log_redaction

    handler = RichHandler(console=err, show_path=False, show_time=False)
    # Every record that reaches stderr, from any logger and at any verbosity, is redacted.
    install_log_redaction([handler])
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s")
    logging.getLogger("movie_rag").setLevel(logging.INFO if verbose else logging.WARNING)


@contextmanager
def _reported_errors(as_json: bool) -> Iterator[None]:
    try:
        yield
    except MovieRagError as exc:
        from rich.markup import escape

        from movie_rag.privacy import redact_pii

        message = redact_pii(str(exc))
        if as_json:
            print(json.dumps({"error": message, "type": type(exc).__name__}))
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
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


EXAMPLE_QUESTIONS = (
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="Free text to search for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of hits.")] = 10,
    genre: Annotated[
        list[str] | None, typer.Option("--genre", help="Any of these genres (repeatable).")
    ] = None,
    year_from: Annotated[int | None, typer.Option("--year-from")] = None,
    year_to: Annotated[int | None, typer.Option("--year-to")] = None,
    min_rating: Annotated[float | None, typer.Option("--min-rating", help="0-10 scale.")] = None,
    person: Annotated[
        list[str] | None, typer.Option("--person", help="Director or cast member (repeatable).")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="dense or hybrid.")] = "dense",
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Search the vector index directly (no ranking blend, no generation)."""
    _configure_logging(verbose)
    with _reported_errors(as_json):
        from movie_rag.index.filters import SearchFilters
        from movie_rag.index.manager import VectorIndexManager

        if mode not in ("dense", "hybrid"):
            raise typer.BadParameter("--mode must be dense or hybrid")
        try:
            filters = SearchFilters(
                genres_any=tuple(genre) if genre else None,
                year_min=year_from,
                year_max=year_to,
                min_rating=min_rating,
                people=tuple(person) if person else None,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        manager = VectorIndexManager(_settings(workdir))
        hits = manager.search(text, k, None if filters.is_empty else filters, mode=mode)  # type: ignore[arg-type]
    if as_json:
        rows = [
            {
                "movie_id": h.movie_id,
                "title": h.metadata.get("title"),
                "year": h.metadata.get("year"),
                "genres": h.metadata.get("genres"),
                "rating": h.metadata.get("rating"),
                "url": h.metadata.get("url"),
                "score": h.score,
            }
            for h in hits
        ]
        print(json.dumps({"query": text, "hits": rows}, ensure_ascii=False))
        return
    table = Table(title=f"{len(hits)} hits for {text!r}", title_justify="left")
    for column in ("score", "title", "year", "genres", "rating"):
        table.add_column(column)
    for h in hits:
        m = h.metadata
        rating = m.get("rating")
        table.add_row(
            f"{h.score:.3f}",
            str(m.get("title")),
            str(m.get("year") or ""),
            ", ".join(m.get("genres") or []),
            f"{rating:.1f}" if rating is not None else "",
        )
    out.print(table)


@app.command()
def recommend(
    query: Annotated[str | None, typer.Argument(help="Your question.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Recommendations.")] = 10,
    user_id: Annotated[str | None, typer.Option("--user-id", help="Who is asking.")] = None,
    queries: Annotated[
        Path | None,
        typer.Option("--queries", help="File with one question per line (batch mode)."),
    ] = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Recommend movies for a question (or for every line of --queries FILE)."""
    _configure_logging(verbose)
    if (query is None) == (queries is None):
        err.print("[bold red]error:[/] give a QUERY or --queries FILE (not both)")
        raise typer.Exit(2)
    with _reported_errors(as_json):
        from movie_rag.chain.recommender import RecommenderChain

        chain = RecommenderChain.from_settings(_settings(workdir))
        if queries is not None:
            _recommend_batch(chain, queries, k, user_id, as_json)
            return
        assert query is not None
        response = chain.invoke({"query": query, "k": k, "user_id": user_id})
    if as_json:
        print(response.model_dump_json())
    else:
        _print_response(response)


def _recommend_batch(chain: Any, queries: Path, k: int, user_id: str | None, as_json: bool) -> None:
    from movie_rag.errors import InputFileError

    if not queries.is_file():
        raise InputFileError(queries, "file not found", "one question per line")
    lines = queries.read_text(encoding="utf-8").splitlines()
    for line in lines:
        try:
            response = chain.invoke({"query": line, "k": k, "user_id": user_id})
        except MovieRagError as exc:
            print(json.dumps({"query": line, "error": str(exc)}, ensure_ascii=False), flush=True)
            continue
        if as_json:
            print(response.model_dump_json(), flush=True)
        else:
            _print_response(response)


@app.command()
def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where the demo builds (never the default workdir).")
    ] = Path(".movie_rag/demo"),
    k: Annotated[int, typer.Option("--k", min=1, max=20)] = 5,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Build the bundled sample end to end and answer the original UI's four questions."""
    import time

    _configure_logging(verbose)
    with _reported_errors(as_json):
        from movie_rag.chain.recommender import RecommenderChain
        from movie_rag.datasets import sample_catalogue
        from movie_rag.pipeline import build_catalogue

        started = time.perf_counter()
        settings = _settings(workdir)
        sample = sample_catalogue()
        with _progress(sys.stderr.isatty()) as progress:
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
        _print_response(response)
        out.print(f"[dim]{seconds * 1000:.0f} ms[/]")
    out.rule()
    out.print(
        f"timings: build {timings['build_seconds']} s, chain load "
        f"{timings['chain_load_seconds']} s, total {timings['total_seconds']} s"
    )


def _print_response(response: Any) -> None:
    out.print(response.answer, highlight=False)
    for i, rec in enumerate(response.recommendations, start=1):
        badge = "" if rec.in_catalog else " [yellow](not on the platform)[/]"
        year = f" ({rec.year})" if rec.year else ""
        out.print(f"  [dim]{i}.[/] [bold]{rec.title}{year}[/]{badge}", highlight=False)
        if rec.url:
            out.print(f"     [dim]{rec.url}[/]", highlight=False)


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
    if report.index:
        i = report.index
        out.print(
            f"[bold]index[/]: {int(i['added'] + i['updated'] + i['unchanged']):,} movies "
            f"({int(i['embedded']):,} embedded, {int(i['deleted']):,} removed)"
        )
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    out.print(f"[dim]timings: {timings}[/]")


@app.command()
def publish(
    registry: Annotated[
        str, typer.Option("--registry", help="local (sqlite under the workdir) or databricks-uc.")
    ] = "local",
    name: Annotated[
        str, typer.Option("--name", help="Registered model name (catalog.schema.model in UC).")
    ] = "movie_rag",
    alias: Annotated[str, typer.Option("--alias", help="Alias to point at it.")] = "champion",
    force: Annotated[
        bool, typer.Option("--force", help="Publish a new version even if nothing changed.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then serve it locally until Ctrl-C.")
    ] = False,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port for --serve (0: any free).")
    ] = 5000,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Log the chain as an MLflow model, register it and point the alias at it (idempotent)."""
    _configure_logging(verbose)
    if registry not in ("local", "databricks-uc"):
        err.print("[bold red]error:[/] --registry must be local or databricks-uc")
        raise typer.Exit(2)
    with _reported_errors(as_json):
        from movie_rag.publish.publisher import ModelPublisher

        publisher = ModelPublisher(_settings(workdir), registry=registry)  # type: ignore[arg-type]
        with _progress(sys.stderr.isatty()) as progress:
            progress("publishing")
            version = publisher.publish(name, alias, force=force)
    alias_uri = f"models:/{version.name}@{alias}"
    if as_json:
        print(
            json.dumps(
                {
                    "registry": registry,
                    "tracking_uri": publisher.tracking_uri,
                    "alias_uri": alias_uri,
                    **version.model_dump(),
                }
            ),
            flush=True,
        )
    else:
        out.print(
            f"[bold]{version.name}[/] version {version.version} is {alias_uri} "
            f"([dim]{publisher.tracking_uri}[/])",
            highlight=False,
        )
    if serve:
        _serve_until_stopped(publisher, alias_uri, port, "127.0.0.1", 1, as_json)


@app.command()
def serve(
    model_uri: Annotated[
        str | None,
        typer.Option("--model-uri", help="Model to serve (default models:/movie_rag@champion)."),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free).")
    ] = 5000,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes.")] = 1,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Serve a registered model over HTTP (mlflow models serve) until Ctrl-C.

    Every request and response is appended to the workdir's inference log.
    """
    _configure_logging(verbose)
    with _reported_errors(as_json):
        from movie_rag.publish.publisher import ModelPublisher

        publisher = ModelPublisher(_settings(workdir))
    _serve_until_stopped(publisher, model_uri, port, host, workers, as_json)


@app.command()
def evaluate(
    protocol: Annotated[
        list[str] | None,
        typer.Option(
            "--protocol",
            help="tags, similar, per-user, grounding (repeatable; default: all, grounding only "
            "when an LLM is configured).",
        ),
    ] = None,
    system: Annotated[
        list[str] | None,
        typer.Option(
            "--system",
            help="random, popularity, bm25, item-knn, chain, chain-llm, ... (repeatable; "
            "default all).",
        ),
    ] = None,
    reduced: Annotated[
        bool, typer.Option("--reduced", help="The CI protocol: same rules, fewer queries.")
    ] = False,
    movielens: Annotated[
        Path | None,
        typer.Option("--movielens", help="MovieLens release (default: the workdir's build input)."),
    ] = None,
    genome: Annotated[
        Path | None, typer.Option("--genome", help="Directory with the genome files.")
    ] = None,
    imdb: Annotated[
        list[Path] | None, typer.Option("--imdb", help="IMDB-like file (repeatable).")
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option("--report-dir", help="Where the report goes (default: reports/evaluation)."),
    ] = None,
    no_mlflow: Annotated[
        bool, typer.Option("--no-mlflow", help="Do not log the run to the local MLflow store.")
    ] = False,
    judge: Annotated[
        bool | None,
        typer.Option(
            "--judge/--no-judge",
            help="MLflow LLM judges on the chain's answers (default: when an LLM is configured).",
        ),
    ] = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Evaluate the chain against baselines on held-out MovieLens users and tags.

    Needs a built workdir (its embedding cache is reused). Prints a table, writes a markdown
    and HTML report with plots and logs the metrics and the report to MLflow.
    """
    _configure_logging(verbose)
    with _reported_errors(as_json):
        from movie_rag.evaluation.build import EvaluationInputs
        from movie_rag.evaluation.protocols import ProtocolParams
        from movie_rag.evaluation.report import (
            default_directory,
            log_to_mlflow,
            table_rows,
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
        with _progress(sys.stderr.isatty()) as progress:
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
    rows = table_rows(report)
    table = Table(*rows[0])
    for row in rows[1:]:
        table.add_row(*row)
    out.print(table)
    for name, reason in report.skipped.items():
        out.print(f"[yellow]skipped[/] {name}: {reason}")
    out.print(f"Report: {files['markdown']} ({report.timings['total']:.1f} s)")
    if run_id:
        out.print(f"MLflow run: {run_id} (experiment movie_rag-evaluation)")


def _serve_until_stopped(
    publisher: Any, model_uri: str | None, port: int, host: str, workers: int, as_json: bool
) -> None:
    import signal

    # SIGTERM must unwind like Ctrl-C: the model server runs in its own session and would
    # otherwise outlive this command.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with _reported_errors(as_json), _progress(sys.stderr.isatty()) as progress:
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


@app.command()
def ui(
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            envvar="API_END_POINT",
            help="Served model's invocations URL (default API_END_POINT); unset: answer "
            "in-process from the workdir's index.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="API_TOKEN",
            help="Bearer token of the endpoint (prefer the API_TOKEN variable).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free).")
    ] = 7860,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Recommendations.")] = 5,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the endpoint.")
    ] = 60.0,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Chat UI (Gradio): movie cards, filters, thumbs up/down kept in the workdir.

    Answers come from --endpoint (a served model) or, without one, from the chain in this
    process. Serves until Ctrl-C; with --json prints {"url": ...} once it is up.
    """
    _configure_logging(verbose)
    with _reported_errors(as_json):
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


def main() -> None:
    """Entry point of the ``movie-rag`` console script."""
    # Nothing may be fetched from a model hub at run time: the model ships in a package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()


if __name__ == "__main__":
    main()
