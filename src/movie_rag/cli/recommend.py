"""``movie-rag recommend``: movies for a question, or for every line of a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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
)
from movie_rag.cli._errors import _fail, _reported_errors, _require_for_chain
from movie_rag.cli._render import print_response
from movie_rag.errors import MovieRagError


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
        print_response(response)


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
            print_response(response)
