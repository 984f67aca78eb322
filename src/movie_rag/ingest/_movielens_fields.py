"""Parsing MovieLens fields and finding a release's files: the exact, row-by-row checks.

Each parser raises :class:`FieldError` naming the field, so the loader quarantines the row
with the reason; :func:`arrow_read` is the fast path for files that need no row checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from movie_rag.errors import InputFileError
from movie_rag.ingest.readers import check_readable

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")


class FieldError(ValueError):
    """A field that does not parse: the row goes to the quarantine naming it."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def parse_field(fn: Callable[[str], Any], value: str, name: str) -> Any:
    try:
        return fn(value)
    except ValueError as exc:
        raise FieldError(name, str(exc)) from None


def parse_int(value: str, name: str) -> int:
    # int() alone would also take "1_0", "+3" and other scripts' digits.
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise FieldError(name, f"not an integer: {value!r}")
    return int(text)


def parse_positive_int(value: str, name: str) -> int:
    number = parse_int(value, name)
    if not 0 < number <= INT32_MAX:
        raise FieldError(name, f"{name} must be a positive integer, got {value!r}")
    return number


def parse_timestamp(value: str) -> int:
    """Seconds since 1970 (MovieLens' timestamps), in the int64 range of the bronze tables."""
    number = parse_int(value, "timestamp")
    if not 0 <= number <= INT64_MAX:
        raise FieldError(
            "timestamp", f"timestamp must be seconds since 1970 (0 to 2**63-1), got {value!r}"
        )
    return number


def parse_optional_int(value: str, name: str) -> int | None:
    if not value.strip():
        return None
    return parse_positive_int(value, name)


def parse_float(value: str, name: str) -> float:
    text = value.strip()
    try:
        # float() alone would also take "1_0" and other scripts' digits.
        if not text.isascii() or "_" in text:
            raise ValueError(text)
        number = float(text)
    except ValueError:
        raise FieldError(name, f"not a number: {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise FieldError(name, f"not a finite number: {value!r}")
    return number


def rows_to_table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
    return pa.table(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def count_orphans(table: pa.Table, known: pa.Array) -> int:
    if table.num_rows == 0:
        return 0
    missing = pc.invert(pc.is_in(table.column("movie_id"), value_set=known))
    return int(pc.sum(missing).as_py() or 0)


def arrow_read(path: Path, columns: tuple[str, ...], schema: pa.Schema) -> pa.Table | None:
    try:
        with path.open("rb") as probe:
            header = probe.readline().decode("utf-8-sig").strip().split(",")
        if header != list(columns):
            return None  # let the exact reader explain what is wrong
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=dict(zip(columns, schema.types, strict=True)),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError):
        return None
    if table.num_columns != len(columns) or any(
        table.column(i).null_count for i in range(table.num_columns)
    ):
        return None
    return pa.Table.from_arrays(table.columns, schema=schema)


PATTERNS = {
    "movies": ("movies.csv",),
    "links": ("links.csv",),
    "ratings": ("ratings.csv",),
    "tags": ("tags.csv",),
    "genome_scores": ("genome-scores*.csv", "genome_scores*.csv"),
    "genome_tags": ("genome-tags*.csv", "genome_tags*.csv"),
}


def find_files(directory: Path, genome_dir: Path | None) -> dict[str, Path]:
    if genome_dir is not None and not genome_dir.is_dir():
        raise InputFileError(genome_dir, "directory not found", "a directory with genome files")
    found: dict[str, Path] = {}
    for role, patterns in PATTERNS.items():
        where = [directory]
        if role.startswith("genome") and genome_dir is not None:
            where.insert(0, genome_dir)
        for place in where:
            for pattern in patterns:
                if "*" not in pattern:
                    for name in (pattern, f"{pattern}.gz"):
                        # A listing skips a symlink that does not resolve: name it instead.
                        if (place / name).is_symlink():
                            check_readable(place / name, f"MovieLens {pattern}")
            matches = sorted({p for pattern in patterns for p in place.glob(pattern)})
            matches += sorted({p for pattern in patterns for p in place.glob(pattern + ".gz")})
            if len(matches) > 1:
                raise InputFileError(
                    place, f"several {role} files: {[m.name for m in matches]}", "exactly one"
                )
            if matches:
                found[role] = matches[0]
                break
    if genome_dir is not None and not any(
        found.get(role, directory).parent == genome_dir for role in ("genome_scores", "genome_tags")
    ):
        raise InputFileError(
            genome_dir, "no genome files here", "genome-scores.csv and genome-tags.csv"
        )
    if "movies" not in found:
        raise InputFileError(
            directory / "movies.csv", "file not found", "a MovieLens release with movies.csv"
        )
    if ("genome_scores" in found) != ("genome_tags" in found):
        have = "genome_scores" if "genome_scores" in found else "genome_tags"
        raise InputFileError(
            found[have], "genome scores and genome tags come together", "both genome files"
        )
    return found
