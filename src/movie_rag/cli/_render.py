"""Rich rendering of the commands' results on the terminal (``--json`` bypasses it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from movie_rag.cli._app import out

if TYPE_CHECKING:
    from movie_rag.ingest.report import BuildReport


def print_response(response: Any) -> None:
    """A chain response: the answer's introduction, then each pick with its reason."""
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


def print_report(report: BuildReport) -> None:
    """The build report: inputs, IMDB matches, coverage, changes, index, timings."""
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


def print_evaluation(report: Any) -> None:
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


def print_hits(text: str, hits: list[Any]) -> None:
    """The hits of ``search`` as one table."""
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
