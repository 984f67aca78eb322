"""Readers of CSV and JSON inputs that account for every record.

Every reader here yields good records and puts each bad one into a
:class:`~movie_rag.ingest.quality.Quarantine` with the reason and its source location, so that
for every file ``rows in = rows loaded + rows quarantined``. Problems that make a whole file
unusable (missing, empty, wrong delimiter, missing columns, UTF-16, broken gzip) raise
:class:`~movie_rag.errors.InputFileError` naming the file and what was expected.
"""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movie_rag.errors import InputFileError
from movie_rag.ingest.quality import Quarantine

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_JSON_DEPTH",
    "CsvRecord",
    "JsonLimitError",
    "check_readable",
    "json_depth",
    "load_json_limited",
    "open_text",
    "read_csv_records",
    "read_json_records",
]

# A single field longer than this is not movie metadata but a broken quote or a dump.
MAX_FIELD_CHARS = 100_000
# JSON nested deeper than this is not movie metadata; Python's parser would also overflow its
# stack on it (a RecursionError) long before running out of memory.
MAX_JSON_DEPTH = 100
_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}

csv.field_size_limit(64 * 1024 * 1024)


@dataclass(frozen=True)
class CsvRecord:
    """A parsed CSV record: its 1-based starting line and its fields by column name."""

    line: int
    values: dict[str, str]
    raw: str


def open_text(path: Path, expected: str = "") -> io.TextIOBase:
    """Open a text file (optionally gzip) as UTF-8, checking it exists and is not UTF-16/32.

    Undecodable bytes are kept as surrogates so the reader can quarantine the rows that hold
    them instead of failing the whole file. Only LF ends a line (CRLF included): a carriage
    return alone is a character of the record it is in, as ``wc -l`` and every spreadsheet
    count records, so it cannot split one record into two.

    Args:
        path: The file; a ``.gz`` name is read compressed.
        expected: Human description of the file, used in errors.

    Returns:
        A text stream with newlines left as they are (for :mod:`csv`).

    Raises:
        InputFileError: The file is missing (or a symlink that does not resolve), a
            directory, unreadable, UTF-16/UTF-32 or, for ``.gz``, not valid gzip (also raised
            later, by reads, when the compressed data is cut short).
    """
    check_readable(path, expected)
    try:
        with _open_binary(path, expected) as probe:
            head = probe.read(4)
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})", expected) from None
    encoding = _wide_encoding(head)
    if encoding:
        raise InputFileError(path, f"file is {encoding}-encoded", "UTF-8 text; re-save it as UTF-8")
    return io.TextIOWrapper(
        _open_binary(path, expected), encoding="utf-8-sig", errors="surrogateescape", newline="\n"
    )


def check_readable(path: Path, expected: str = "") -> None:
    """Raise a one-line error when ``path`` is not a regular file that can be opened.

    A symlink that points nowhere or into a loop is named as such (it would otherwise look
    like a missing file, or be skipped by a directory listing).

    Raises:
        InputFileError: Missing, a dangling or looping symlink, or a directory.
    """
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            raise InputFileError(path, "symlink loop", expected or "a file") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InputFileError(path, "symlink loop", expected or "a file") from None
            target = os.readlink(path)
            raise InputFileError(
                path, f"symlink to {target}, which does not exist", expected or "a file"
            ) from None
    if not path.exists():
        raise InputFileError(path, "file not found", expected)
    if path.is_dir():
        raise InputFileError(path, "is a directory", "a file")


def _open_binary(path: Path, expected: str) -> io.BufferedReader | _CheckedGzip:
    if path.suffix == ".gz":
        return _CheckedGzip(path, expected)
    return path.open("rb")


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 recognised by their BOM or, without one, by their NUL bytes."""
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            return name
    # UTF-8 text never holds NUL, while UTF-16 of Latin text has one in every other byte.
    nuls = [byte == 0 for byte in head]
    if nuls in ([True, True, True, False], [False, True, True, True]):
        return "UTF-32"
    if len(nuls) >= 2 and nuls[0] != nuls[1]:
        return "UTF-16"
    return None


class _CheckedGzip(io.BufferedIOBase):
    """A gzip stream whose corruption surfaces as InputFileError at whichever read meets it.

    A cut-short file only fails near its end, long after :func:`open_text` returned, so the
    check has to travel with the stream rather than happen once on opening.
    """

    def __init__(self, path: Path, expected: str) -> None:
        super().__init__()
        self._path = path
        self._expected = expected
        self._file = gzip.GzipFile(path, "rb")

    @property
    def name(self) -> str:
        return str(self._path)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            return self._file.read(-1 if size is None else size)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise self._invalid(exc) from None

    def read1(self, size: int = -1) -> bytes:
        try:
            return self._file.read1(size)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise self._invalid(exc) from None

    def close(self) -> None:
        self._file.close()
        super().close()

    def _invalid(self, exc: Exception) -> InputFileError:
        return InputFileError(self._path, f"not a valid gzip file ({exc})", self._expected)


def _has_undecodable(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _clean_raw(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _LineCountingReader:
    """Feeds csv.reader line by line and keeps the raw text of the current record.

    Lines can be pushed back: a record that a stray quote stretched over the lines after it
    gives them back so they are read again as records of their own.
    """

    def __init__(self, handle: io.TextIOBase) -> None:
        self._handle = handle
        self._pushed_back: list[str] = []  # next line last, so pop() takes it
        self.lines: list[str] = []

    def __iter__(self) -> _LineCountingReader:
        return self

    def __next__(self) -> str:
        line = self._pushed_back.pop() if self._pushed_back else self._handle.readline()
        if not line:
            raise StopIteration
        self.lines.append(line)
        return line

    def push_back(self, lines: list[str]) -> None:
        """Make ``lines`` the next ones read, in order."""
        self._pushed_back.extend(reversed(lines))


def read_csv_records(
    path: str | Path,
    *,
    source: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    quarantine: Quarantine,
    delimiter: str = ",",
    expected: str = "",
) -> Iterator[CsvRecord]:
    """Read a delimited file with a header, yielding well-formed records.

    Rows with the wrong number of fields, undecodable bytes, a NUL byte or a field over
    :data:`MAX_FIELD_CHARS` are quarantined. Blank lines are skipped (they are not records).
    Quoted fields may span lines; a quote that is never closed properly costs only the line
    it is on, whose reason then ends in ``(unterminated quote?)``.

    Args:
        path: The file (``.gz`` is read compressed).
        source: Logical source name used in the quarantine.
        required: Columns that must be in the header.
        optional: Columns that may be missing (their values read as ``""``).
        quarantine: Where rejected rows go.
        delimiter: Field delimiter.
        expected: Human description of the file, used in errors.

    Yields:
        One :class:`CsvRecord` per good row, values keyed by column name.

    Raises:
        InputFileError: Missing or empty file, no header, wrong delimiter, missing columns,
            corrupt gzip.
    """
    path = Path(path)
    what = expected or f"a header with {', '.join(required)}"
    with open_text(path, what) as handle:
        feeder = _LineCountingReader(handle)
        reader = csv.reader(feeder, delimiter=delimiter, strict=True)
        header = _read_header(path, reader, feeder, delimiter, required, what)
        missing = [c for c in required if c not in header]
        if missing:
            raise InputFileError(path, f"missing column(s) {missing}; header is {header}", what)
        positions = {name: header.index(name) for name in (*required, *optional) if name in header}
        width = len(header)
        line = len(feeder.lines)  # physical lines the header took
        while True:
            start = line + 1
            feeder.lines = []
            fields: list[str] | None = None
            error = ""
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                error = str(exc)
            lines = feeder.lines or [""]
            if _quote_ran_on(fields, width, lines):
                # Reject only the line with the stray quote and read the lines it took again.
                reason = _unterminated_quote(lines[0], width, delimiter, error)
                quarantine.add(source, path, start, None, reason, _clean_raw(lines[0]))
                feeder.push_back(lines[1:])
                reader = csv.reader(feeder, delimiter=delimiter, strict=True)
                line += 1
                continue
            line += len(lines)
            raw = "".join(lines)
            if fields is None:
                reason = f"unparseable CSV: {error}"
                quarantine.add(source, path, start, None, reason, _clean_raw(raw))
                continue
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            problem, bad_field = _row_problem(fields, header, width)
            if problem:
                quarantine.add(source, path, start, bad_field, problem, _clean_raw(raw))
                continue
            values = {name: fields[pos] for name, pos in positions.items()}
            for name in optional:
                values.setdefault(name, "")
            yield CsvRecord(start, values, raw)


def _quote_ran_on(fields: list[str] | None, width: int, lines: list[str]) -> bool:
    """Whether the record looks made by a quote that was opened and never properly closed.

    Quotes that never balance, or several lines merged into too few fields, are what a stray
    quote does; a record spread over lines that has too many fields is a bad record of its own
    (a legitimate multi-line field next to an extra comma) and is rejected whole.
    """
    if fields is None:
        return len(lines) > 1 or lines[0].count('"') % 2 == 1
    return len(lines) > 1 and len(fields) < width


def _unterminated_quote(first_line: str, width: int, delimiter: str, error: str) -> str:
    """The reason for a line whose quote ran on into the lines after it."""
    try:
        # Read alone and leniently, the line shows how many fields it really has.
        found = len(next(csv.reader([first_line], delimiter=delimiter)))
    except csv.Error:
        found = width
    if found != width:
        return f"expected {width} fields, found {found} (unterminated quote?)"
    problem = f"unparseable CSV: {error}" if error else "quoted field runs on past its line"
    return f"{problem} (unterminated quote?)"


def _read_header(
    path: Path,
    reader: Any,
    feeder: _LineCountingReader,
    delimiter: str,
    required: tuple[str, ...],
    what: str,
) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(path, "file is empty", what) from None
    except csv.Error as exc:
        if "\r" in "".join(feeder.lines).rstrip("\r\n"):
            raise InputFileError(
                path, "lines end with a carriage return alone (old Mac line ends)", what
            ) from None
        raise InputFileError(path, f"header is not readable CSV ({exc})", what) from None
    header = [h.strip() for h in header]
    if _has_undecodable("".join(header)):
        raise InputFileError(path, "header is not valid UTF-8", what)
    if len(header) == 1 and len(required) > 1:
        for other in (";", "\t", "|", ","):
            if other != delimiter and other in header[0]:
                shown = {"\t": "tab", ",": "comma"}.get(other, repr(other))
                raise InputFileError(
                    path,
                    f"fields are separated by {shown}, not {delimiter!r}",
                    what,
                )
    return header


def _row_problem(fields: list[str], header: list[str], width: int) -> tuple[str | None, str | None]:
    if len(fields) != width:
        return f"expected {width} fields, found {len(fields)}", None
    for name, value in zip(header, fields, strict=True):
        if _has_undecodable(value):
            return "not valid UTF-8 (wrong file encoding?)", name
        if "\x00" in value:
            return "contains a NUL byte", name
        if len(value) > MAX_FIELD_CHARS:
            return f"field is {len(value):,} characters (limit {MAX_FIELD_CHARS:,})", name
    return None, None


def read_json_records(
    path: str | Path,
    *,
    source: str,
    quarantine: Quarantine,
    expected: str = "a JSON array of objects or one JSON object per line",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Read a JSON array of objects or newline-delimited JSON (NDJSON), auto-detected.

    In NDJSON a broken line is quarantined and reading goes on; a JSON array must parse as a
    whole (its broken records cannot be told apart), and non-object items are quarantined.

    Args:
        path: The file (``.gz`` is read compressed).
        source: Logical source name used in the quarantine.
        quarantine: Where rejected records go.
        expected: Human description of the file, used in errors.

    Yields:
        ``(row, record)``: the 1-based line (NDJSON) or position (array) and the object.

    Raises:
        InputFileError: Missing or empty file, an array that is not valid JSON, a single
            object spread over several lines, or no line that holds an object.
    """
    path = Path(path)
    with open_text(path, expected) as handle:
        text = handle.read()
    stripped = text.lstrip()
    if not stripped:
        raise InputFileError(path, "file is empty", expected)
    if stripped.startswith("["):
        yield from _json_array(path, text, source, quarantine, expected)
        return
    yield from _ndjson(path, text, source, quarantine, expected)


def _json_array(
    path: Path, text: str, source: str, quarantine: Quarantine, expected: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    if _has_undecodable(text):
        raise InputFileError(path, "not valid UTF-8", expected)
    deep = _may_be_deep(text) and json_depth(text) > MAX_JSON_DEPTH + 1
    items: list[tuple[Any, str | None]]
    try:
        if deep:
            # Parse item by item so that only the items nested too deep are set aside.
            items = []
            for piece in _array_items(text):
                try:
                    items.append((load_json_limited(piece), piece))
                except JsonLimitError as exc:
                    items.append((exc, piece))
        else:
            items = [(item, None) for item in json.loads(text)]
    except json.JSONDecodeError as exc:
        raise InputFileError(
            path, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", expected
        ) from None
    check_size = len(text) > MAX_FIELD_CHARS
    for position, (item, item_text) in enumerate(items, start=1):
        if isinstance(item, JsonLimitError):
            quarantine.add(source, path, position, None, str(item), item_text or "")
            continue
        if not isinstance(item, dict):
            raw = item_text if item_text is not None else json.dumps(item, ensure_ascii=False)
            quarantine.add(source, path, position, None, _not_an_object(item), raw)
            continue
        if check_size:
            oversized = _oversized_field(item)
            if oversized is not None:
                name, size = oversized
                raw = item_text if item_text is not None else json.dumps(item, ensure_ascii=False)
                reason = f"field is {size:,} characters (limit {MAX_FIELD_CHARS:,})"
                quarantine.add(source, path, position, name, reason, raw)
                continue
        yield position, item


def _ndjson(
    path: Path, text: str, source: str, quarantine: Quarantine, expected: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    saw_line = saw_object = False
    # Only "\n" ends a record: str.splitlines() would also split at U+2028, U+2029 and U+0085,
    # which JSON strings may hold unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        is_first = not saw_line
        saw_line = True
        if _has_undecodable(line):
            quarantine.add(source, path, number, None, "not valid UTF-8", _clean_raw(line))
            continue
        try:
            item = load_json_limited(line)
        except JsonLimitError as exc:
            quarantine.add(source, path, number, None, str(exc), line)
            continue
        except json.JSONDecodeError as exc:
            if is_first:
                _refuse_if_not_ndjson(path, text, line, expected)
            quarantine.add(source, path, number, None, f"broken JSON line: {exc.msg}", line)
            continue
        if not isinstance(item, dict):
            quarantine.add(source, path, number, None, _not_an_object(item), line)
            continue
        if len(line) > MAX_FIELD_CHARS:
            oversized = _oversized_field(item)
            if oversized is not None:
                reason = f"field is {oversized[1]:,} characters (limit {MAX_FIELD_CHARS:,})"
                quarantine.add(source, path, number, oversized[0], reason, line)
                continue
        saw_object = True
        yield number, item
    if not saw_object:
        raise InputFileError(path, "no line holds a JSON object", expected)


def _refuse_if_not_ndjson(path: Path, text: str, first_line: str, expected: str) -> None:
    """Raise when a first line that does not parse shows the file is not NDJSON at all."""
    if not first_line.lstrip().startswith("{"):
        raise InputFileError(path, "not JSON", expected)
    try:
        whole = load_json_limited(text)
    except (json.JSONDecodeError, JsonLimitError):
        return  # a broken first record of an NDJSON file
    if isinstance(whole, dict):
        raise InputFileError(
            path, "one JSON object spread over several lines, not a list of records", expected
        )


def _not_an_object(item: Any) -> str:
    if item is None:
        return "record is null, not an object"
    kind = type(item).__name__
    article = "an" if kind[0] in "aeiou" else "a"
    return f"record is {article} {kind}, not an object"


# -- JSON limits ------------------------------------------------------------------------------


class JsonLimitError(ValueError):
    """JSON text beyond :data:`MAX_JSON_DEPTH`; the message is the quarantine reason."""


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)


def _may_be_deep(text: str) -> bool:
    # Cheap bound first: text with few brackets cannot be nested deep.
    return text.count("[") + text.count("{") > MAX_JSON_DEPTH


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON (or Python-literal) text, strings ignored.

    Linear in the text and without recursion, so it is safe on hostile input: it decides
    whether the text may be given to a recursive parser at all.

    Example:
        >>> json_depth('{"a": [1, {"b": "[[["}]}')
        3
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    import numpy as np

    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def load_json_limited(text: str) -> Any:
    """``json.loads`` that refuses text nested deeper than :data:`MAX_JSON_DEPTH`.

    Raises:
        JsonLimitError: The text nests too deep (the reason names the limit).
        json.JSONDecodeError: The text is not JSON.
    """
    if _may_be_deep(text):
        depth = json_depth(text)
        if depth > MAX_JSON_DEPTH:
            raise JsonLimitError(f"JSON nested {depth:,} levels deep (limit {MAX_JSON_DEPTH})")
    return json.loads(text)


def _array_items(text: str) -> Iterator[str]:
    """The text of each top-level item of a JSON array, found without parsing it."""
    depth = 0
    start = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first in "[{":
            depth += 1
            if depth == 1:
                start = match.end()
        elif first in "]}":
            depth -= 1
            if depth == 0:
                last = text[start : match.start()]
                if last.strip():
                    yield last
                return
        elif first == "," and depth == 1:
            yield text[start : match.start()]
            start = match.end()
    raise json.JSONDecodeError("unterminated array", text, len(text))


def _oversized_field(value: Any, name: str | None = None) -> tuple[str | None, int] | None:
    """The first string over :data:`MAX_FIELD_CHARS` in a parsed record, with its field."""
    if isinstance(value, str):
        return (name, len(value)) if len(value) > MAX_FIELD_CHARS else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _oversized_field(item, name or str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _oversized_field(item, name)
            if found is not None:
                return found
    return None
