"""The collector every IMDB-like format feeds: finishing, duplicates and row accounting.

A format's mapper turns one source record into typed fields (raising
:class:`~movie_rag.ingest.imdb.values.RowError` when the record must be rejected); the
:class:`Collector` finishes the fields (genre mapping, title key, url, plausible ranges),
rejects duplicates and keeps the row accounting: every record read lands in the table or in the
quarantine (``rows_in == rows_loaded + quarantine.count()``). :func:`load_csv` and
:func:`load_json` are the whole loader of a delimited or JSON format.

Values outside their plausible range (a rating outside 0-10, negative votes, a runtime under
one minute or over 100,000, a year outside 1870-2100) are set to null and the record is kept:
one implausible field says nothing about the title, overview or cast of the same record, and
the field then falls through to the next source in the precedence. Each such value is counted
per field in the build report (``values_nulled``) and listed with its line in
:attr:`Collected.nulled`, so none is dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from movie_rag.catalog.genres import map_genres
from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA
from movie_rag.catalog.titles import title_key
from movie_rag.ingest.ids import imdb_url
from movie_rag.ingest.imdb.values import Notes, RowError
from movie_rag.ingest.quality import Quarantine
from movie_rag.ingest.readers import read_csv_records, read_json_records

__all__ = ["Collected", "Collector", "Mapper", "NulledValue", "load_csv", "load_json"]

logger = logging.getLogger("movie_rag")

#: One source record (column or key → value) → the typed fields of ``IMDB_RECORD_SCHEMA``.
Mapper = Callable[[Mapping[str, Any], Notes], dict[str, Any]]

_YEAR_RANGE = (1870, 2100)  # the first films are from the late 1880s
_MAX_RUNTIME = 100_000  # minutes; the longest films run for days, not months
_MAX_VOTES = 10**12


@dataclass(frozen=True)
class NulledValue:
    """A value set to null while its record was kept: where, which field, and why."""

    row: int
    field: str
    reason: str


@dataclass
class Collected:
    """What a format loader hands back to :class:`~movie_rag.ingest.imdb.IMDBLoader`."""

    path: Path
    table: pa.Table
    rows_in: int
    quarantine: Quarantine
    warnings: list[str] = field(default_factory=list)
    nulled: list[NulledValue] = field(default_factory=list)

    def nulled_counts(self) -> dict[str, int]:
        """Values set to null by ``"<field>: <reason>"``, for the build report."""
        counts = Counter(f"{n.field}: {n.reason}" for n in self.nulled)
        return dict(sorted(counts.items()))


@dataclass
class Collector:
    """Finishes, de-duplicates and accounts for the records of one file of one format.

    Args:
        fmt: The format name (the ``source`` column; the quarantine source is ``imdb_<fmt>``).
        path: The file read.
        exact_duplicates: Reject records identical to an earlier one. Off where the source
            has a primary key anyway (IMDb's tconst): saves a digest per row.
    """

    fmt: str
    path: Path
    exact_duplicates: bool = True
    quarantine: Quarantine = field(default_factory=Quarantine)
    notes: Notes = field(default_factory=Counter)
    rows: list[dict[str, Any]] = field(default_factory=list)
    nulled: list[NulledValue] = field(default_factory=list)
    seen: int = 0  # records that reached add() or reject()
    own_rejects: int = 0
    _first_raw: dict[bytes, int] = field(default_factory=dict)
    _first_id: dict[tuple[str, object], int] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The quarantine's source name of this format."""
        return f"imdb_{self.fmt}"

    def reject(self, row: int, field_name: str | None, reason: str, raw: str) -> None:
        """Quarantine the record at ``row`` (1-based line or item number)."""
        self.seen += 1
        self.own_rejects += 1
        self.quarantine.add(self.source, self.path, row, field_name, reason, raw)

    def add(self, row: int, raw: str, mapper: Mapper, record: Mapping[str, Any]) -> None:
        """Map, finish and keep one record, or quarantine it with the reason."""
        # A digest, not the text: big Bright Data dumps would otherwise be held twice.
        if self.exact_duplicates:
            data = raw.encode("utf-8", "surrogateescape")
            digest = hashlib.blake2b(data, digest_size=16).digest()
            first = self._first_raw.setdefault(digest, row)
            if first != row:
                self.reject(row, None, f"exact duplicate of row {first}", raw)
                return
        notes: Notes = Counter()
        try:
            fields = self._finish(mapper(record, notes), notes)
        except RowError as exc:
            self.reject(row, exc.field, exc.reason, raw)
            return
        for key in ("imdb_id", "tmdb_id"):
            value = fields[key]
            if value is not None and (key, value) in self._first_id:
                first = self._first_id[(key, value)]
                self.reject(row, key, f"duplicate {key} {value} (first at row {first})", raw)
                return
        for key in ("imdb_id", "tmdb_id"):
            if fields[key] is not None:
                self._first_id[(key, fields[key])] = row
        self.seen += 1
        for note in notes:
            name, _, reason = note.partition(": ")
            self.nulled.append(NulledValue(row, name, reason or "unparseable"))
        self.notes.update(notes)
        fields["source"] = self.fmt
        fields["source_row"] = row
        self.rows.append(fields)

    def _finish(self, fields: dict[str, Any], notes: Notes) -> dict[str, Any]:
        genres, unmapped = map_genres(fields.pop("genre_names", []))
        imdb_id = fields.get("imdb_id")

        def in_range(name: str, low: float, high: float) -> Any:
            value = fields.get(name)
            if value is None or low <= value <= high:
                return value
            notes[f"{name}: out of range {_number(low)}-{_number(high)}"] += 1
            return None

        return {
            "imdb_id": imdb_id,
            "tmdb_id": fields.get("tmdb_id"),
            "title": fields["title"],
            "title_key": title_key(fields["title"]),
            "year": in_range("year", *_YEAR_RANGE),
            "overview": fields.get("overview"),
            "genres": genres,
            "unmapped_genres": unmapped,
            "directors": fields.get("directors", []),
            "cast": fields.get("cast", []),
            "keywords": fields.get("keywords", []),
            "imdb_rating": in_range("imdb_rating", 0, 10),
            "votes": in_range("votes", 0, _MAX_VOTES),
            "countries": fields.get("countries", []),
            "languages": fields.get("languages", []),
            "runtime": in_range("runtime", 1, _MAX_RUNTIME),
            "url": imdb_url(imdb_id),
            "poster_path": fields.get("poster_path"),
        }

    def result(self) -> Collected:
        """The table, the row count and the quarantine of everything added so far."""
        reader_rejects = self.quarantine.count() - self.own_rejects
        warnings = []
        if self.nulled:
            summary = ", ".join(f"{name} ({count})" for name, count in sorted(self.notes.items()))
            warnings.append(
                f"{self.path}: values set to null, records kept (first at row "
                f"{self.nulled[0].row}): {summary}"
            )
            logger.warning("%s", warnings[-1])
        table = pa.Table.from_pylist(self.rows, schema=IMDB_RECORD_SCHEMA)
        return Collected(
            path=self.path,
            table=table,
            rows_in=self.seen + reader_rejects,
            quarantine=self.quarantine,
            warnings=warnings,
            nulled=list(self.nulled),
        )


def _number(value: float) -> str:
    return f"{value:,}" if abs(value) >= 10_000 else f"{value:g}"


def load_csv(
    fmt: str,
    path: Path,
    mapper: Mapper,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    expected: str = "",
    drop_empty: bool = False,
) -> Collected:
    """The whole loader of a delimited format: read, map and account for every record.

    Args:
        fmt: The format name.
        path: The file.
        mapper: One record's values by column → the typed fields.
        required: Columns the header must have (else :class:`~movie_rag.errors.InputFileError`).
        optional: Columns read when present.
        expected: What the error message says was expected (default: the format's name and
            its required columns).
        drop_empty: Leave empty cells out of the record (the mapper sees them missing).

    Returns:
        The collected table, row count and quarantine.
    """
    collector = Collector(fmt, path)
    records = read_csv_records(
        path,
        source=collector.source,
        required=required,
        optional=optional,
        quarantine=collector.quarantine,
        expected=expected or f"{fmt} with columns {', '.join(required)}",
    )
    for record in records:
        values = record.values
        if drop_empty:
            values = {k: v for k, v in values.items() if v != ""}
        collector.add(record.line, record.raw.rstrip("\r\n"), mapper, values)
    return collector.result()


def load_json(fmt: str, path: Path, mapper: Mapper) -> Collected:
    """The whole loader of a JSON array or NDJSON format (one object per record).

    Args:
        fmt: The format name.
        path: The file.
        mapper: One record → the typed fields.

    Returns:
        The collected table, row count and quarantine.
    """
    collector = Collector(fmt, path)
    for row, record in read_json_records(
        path, source=collector.source, quarantine=collector.quarantine
    ):
        raw = json.dumps(record, ensure_ascii=False, sort_keys=True)
        collector.add(row, raw, mapper, record)
    return collector.result()
