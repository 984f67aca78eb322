"""``movie-rag search``: the vector index directly, no ranking and no generation."""

from __future__ import annotations

import json
from enum import StrEnum
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
)
from movie_rag.cli._errors import _fail, _reported_errors, _require
from movie_rag.cli._render import print_hits
from movie_rag.platform import platform_for


class SearchMode(StrEnum):
    """How ``search`` ranks: embeddings only, or fused with BM25."""

    dense = "dense"
    hybrid = "hybrid"


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
        _require("embeddings") if platform_for(settings).is_local else _require("databricks")
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
    print_hits(text, hits)
