"""The quarantine: every rejected input record with its reason, file and line.

The readers (:mod:`movie_rag.ingest.readers`) and loaders put each bad record here, so that for
every file ``rows in = rows loaded + rows quarantined``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Quarantine", "QuarantinedRow"]

# Enough of a rejected record to recognise it, not a copy of a broken multi-megabyte field.
_RAW_KEEP = 2_000


@dataclass(frozen=True)
class QuarantinedRow:
    """One rejected input row.

    Attributes:
        source: Logical source (``movielens_ratings``, ``imdb_bright_data``...).
        path: File the row came from.
        row: 1-based line of the record start (CSV, NDJSON) or record number (JSON array).
        field: Offending field, when one is to blame.
        reason: Why it was rejected.
        raw: The raw record, cut to 2,000 characters.
    """

    source: str
    path: str
    row: int
    field: str | None
    reason: str
    raw: str


@dataclass
class Quarantine:
    """Collects rejected rows; one instance per build.

    Example:
        >>> q = Quarantine()
        >>> q.add("movielens_ratings", "ratings.csv", 7, "rating", "not a number: 'x'", "1,2,x,3")
        >>> q.count("movielens_ratings")
        1
    """

    rows: list[QuarantinedRow] = field(default_factory=list)

    def add(
        self,
        source: str,
        path: str | Path,
        row: int,
        field: str | None,
        reason: str,
        raw: str,
    ) -> None:
        """Record one rejected row."""
        self.rows.append(QuarantinedRow(source, str(path), row, field, reason, raw[:_RAW_KEEP]))

    def count(self, source: str | None = None) -> int:
        """Number of rows rejected, for one source or in all."""
        if source is None:
            return len(self.rows)
        return sum(1 for r in self.rows if r.source == source)

    def counts(self) -> dict[str, int]:
        """Rejected rows per source."""
        return dict(sorted(Counter(r.source for r in self.rows).items()))

    def for_source(self, source: str) -> list[QuarantinedRow]:
        """The rejected rows of one source."""
        return [r for r in self.rows if r.source == source]

    def as_dicts(self) -> list[dict[str, Any]]:
        """All rows as plain dicts (for writing a table)."""
        return [asdict(r) for r in self.rows]

    def extend(self, other: Quarantine) -> None:
        """Append the rows of another quarantine."""
        self.rows.extend(other.rows)
