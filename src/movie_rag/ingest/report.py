"""The build report: what went in, what came out, what was set aside and why."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["BuildReport", "FieldCoverage", "InputSummary", "SourceMatches"]


class InputSummary(BaseModel):
    """Row accounting of one input file: ``rows_in == rows_loaded + rows_quarantined``.

    ``rows_in`` counts records as a person counts them: the non-blank lines after the header
    of a CSV file (a quoted field that spans lines makes one record of them), the non-blank
    lines of NDJSON, the items of a JSON array.
    """

    source: str
    path: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_orphaned: int = Field(
        0,
        description=(
            "Of rows_loaded, the rows that reference a movie (or genome tag) the release "
            "lacks: kept in the bronze table, never reach movies_info."
        ),
    )
    values_nulled: dict[str, int] = Field(
        default_factory=dict,
        description=(
            'Of rows_loaded, values set to null with the record kept, by "<field>: <reason>" '
            "(unparseable, or out of its plausible range such as a rating outside 0-10)."
        ),
    )


class SourceMatches(BaseModel):
    """How one IMDB-like source's records were attached to MovieLens movies."""

    records: int = 0
    by_imdb_id: int = Field(0, description="Movies matched on imdb_id.")
    by_tmdb_id: int = Field(0, description="Movies matched on tmdb_id (year agreed).")
    by_title: int = Field(0, description="Movies matched on normalised title + year.")
    tmdb_year_conflicts: int = Field(
        0, description="tmdb_id joins rejected because the years disagree (wrong link)."
    )
    ambiguous: int = Field(0, description="Movies with several equally good title matches.")
    unmatched_records: int = Field(0, description="Records that matched no movie.")


class FieldCoverage(BaseModel):
    """Non-empty values of one movies_info column."""

    count: int
    share: float


class BuildReport(BaseModel):
    """Returned by :meth:`MovieInfoBuilder.build` and printed by ``movie-rag build``."""

    table: str
    rows: int
    inputs: list[InputSummary] = Field(default_factory=list)
    quarantined: dict[str, int] = Field(default_factory=dict)
    quarantine_location: str | None = None
    orphans: dict[str, int] = Field(
        default_factory=dict,
        description="Valid rows referencing a movie the release lacks (kept in bronze only).",
    )
    matches: dict[str, SourceMatches] = Field(default_factory=dict)
    coverage: dict[str, FieldCoverage] = Field(default_factory=dict)
    unmapped_genres: dict[str, int] = Field(
        default_factory=dict, description="Source genre names with no MovieLens counterpart."
    )
    changes: dict[str, int] = Field(default_factory=dict)
    index: dict[str, float] | None = Field(
        None, description="What the vector index sync changed (added, updated, embedded...)."
    )
    collab: dict[str, float] | None = Field(
        None, description="Collaborative training: trained (1) or up to date (0), counts."
    )
    document_max_tokens: int = 0
    documents_truncated: int = 0
    document_tokens_mean: float = 0.0
    timings: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(
        default_factory=list,
        description="Inputs that were read but changed nothing (an IMDB file matching no "
        "movie, genome files covering no movie), and problems of the file set that are not "
        "row errors (an empty movies.csv with ratings present, rows referencing unknown "
        "movies, values set to null).",
    )

    def input_warnings(self) -> list[str]:
        """Warnings about inputs that were loaded but matched nothing."""
        found = []
        for source, m in self.matches.items():
            if m.records and not (m.by_imdb_id or m.by_tmdb_id or m.by_title):
                found.append(
                    f"{source}: none of its {m.records:,} records matched a MovieLens movie "
                    "(check that the file belongs to this release: imdb_id, tmdb_id or "
                    "title + year)"
                )
        genome_rows = next(
            (i.rows_loaded for i in self.inputs if i.source.endswith("genome_scores")), 0
        )
        genome = self.coverage.get("genome_tags")
        if genome_rows and genome is not None and genome.count == 0:
            found.append(
                f"genome: {genome_rows:,} genome scores loaded but no movie got a genome tag "
                "(genome_threshold too high, or genome files from another release)"
            )
        return found

    def rows_accounted(self) -> bool:
        """Whether every input's rows are either loaded or quarantined."""
        return all(i.rows_in == i.rows_loaded + i.rows_quarantined for i in self.inputs)
