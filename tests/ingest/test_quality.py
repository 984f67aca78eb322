"""Unit tests of the quarantining readers and the Quarantine itself (small hand-written files)."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

import pytest

from movie_rag.errors import InputFileError
from movie_rag.ingest.quality import Quarantine, QuarantinedRow
from movie_rag.ingest.readers import MAX_FIELD_CHARS, CsvRecord, read_csv_records, read_json_records

# -- Quarantine --------------------------------------------------------------------------


def test_quarantine_add_and_count() -> None:
    q = Quarantine()
    q.add("movielens_ratings", Path("/data/ratings.csv"), 7, "rating", "not a number: 'x'", "1,2,x")
    q.add("movielens_ratings", "ratings.csv", 9, None, "expected 4 fields, found 5", "1,2,3,4,5")
    q.add("imdb_bright_data", "imdb.json", 2, None, "broken JSON line: ...", "{")
    assert q.count() == 3
    assert q.count("movielens_ratings") == 2
    assert q.count("movielens_tags") == 0
    assert q.counts() == {"imdb_bright_data": 1, "movielens_ratings": 2}
    assert list(q.counts()) == sorted(q.counts())


def test_quarantine_rows_keep_every_detail() -> None:
    q = Quarantine()
    q.add("movielens_ratings", Path("/data/ratings.csv"), 7, "rating", "not a number: 'x'", "1,2,x")
    assert q.rows == [
        QuarantinedRow(
            source="movielens_ratings",
            path="/data/ratings.csv",
            row=7,
            field="rating",
            reason="not a number: 'x'",
            raw="1,2,x",
        )
    ]
    assert q.as_dicts() == [
        {
            "source": "movielens_ratings",
            "path": "/data/ratings.csv",
            "row": 7,
            "field": "rating",
            "reason": "not a number: 'x'",
            "raw": "1,2,x",
        }
    ]


def test_quarantine_cuts_raw_to_2000_characters() -> None:
    q = Quarantine()
    q.add("s", "f.csv", 1, None, "too long", "é" * 5_000)
    assert q.rows[0].raw == "é" * 2_000


def test_quarantine_for_source_and_extend() -> None:
    first, second = Quarantine(), Quarantine()
    first.add("a", "a.csv", 2, None, "r1", "x")
    second.add("b", "b.csv", 3, "f", "r2", "y")
    second.add("a", "a.csv", 5, None, "r3", "z")
    first.extend(second)
    assert [r.row for r in first.for_source("a")] == [2, 5]
    assert [r.reason for r in first.for_source("b")] == ["r2"]
    assert first.for_source("c") == []
    assert first.count() == 3
    assert second.count() == 2  # extend copies, it does not move


def test_quarantined_row_is_immutable() -> None:
    row = QuarantinedRow("s", "p", 1, None, "r", "raw")
    with pytest.raises(AttributeError):
        row.row = 2  # type: ignore[misc]


# -- read_csv_records ----------------------------------------------------------------------


def _csv(path: Path, **kwargs) -> tuple[list[CsvRecord], Quarantine]:
    quarantine = Quarantine()
    kwargs.setdefault("required", ("id", "text"))
    records = list(read_csv_records(path, source="test", quarantine=quarantine, **kwargs))
    return records, quarantine


def _write(tmp_path: Path, content: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"], ids=["crlf", "lf"])
def test_line_numbers_count_physical_lines_of_multiline_fields(
    tmp_path: Path, newline: bytes
) -> None:
    lines = [
        b"id,text",  # 1
        b'1,"first',  # 2
        b"second",  # 3
        b'third"',  # 4
        b"2,plain",  # 5
        b'3,"with ""quotes""',  # 6
        b'and a newline"',  # 7
        b"4,bad,extra",  # 8
        b"5,last",  # 9
    ]
    path = _write(tmp_path, newline.join(lines) + newline)
    records, quarantine = _csv(path)
    nl = newline.decode()
    assert [(r.line, r.values) for r in records] == [
        (2, {"id": "1", "text": f"first{nl}second{nl}third"}),
        (5, {"id": "2", "text": "plain"}),
        (6, {"id": "3", "text": f'with "quotes"{nl}and a newline'}),
        (9, {"id": "5", "text": "last"}),
    ]
    assert records[0].raw == f'1,"first{nl}second{nl}third"{nl}'
    assert [(r.row, r.reason) for r in quarantine.rows] == [(8, "expected 2 fields, found 3")]
    assert quarantine.rows[0].raw == f"4,bad,extra{nl}"


def test_bad_row_inside_multiline_records_has_its_own_start_line(tmp_path: Path) -> None:
    content = b'id,text\n1,"a\nb"\n2,"c\nd",oops\n3,ok\n'
    records, quarantine = _csv(_write(tmp_path, content))
    assert [r.line for r in records] == [2, 6]
    assert [(r.row, r.reason) for r in quarantine.rows] == [(4, "expected 2 fields, found 3")]
    assert quarantine.rows[0].raw == '2,"c\nd",oops\n'


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    content = b"id,text\r\n\r\n1,a\r\n   \r\n\r\n2,b\r\n\r\n"
    records, quarantine = _csv(_write(tmp_path, content))
    assert [(r.line, r.values["id"]) for r in records] == [(3, "1"), (6, "2")]
    assert quarantine.rows == []


def test_columns_by_name_in_any_order_with_optional_and_extra(tmp_path: Path) -> None:
    content = b"extra, text ,id\nx,hello,7\n"
    records, _ = _csv(_write(tmp_path, content), optional=("note",))
    assert records[0].values == {"id": "7", "text": "hello", "note": ""}


def test_optional_column_present_is_read(tmp_path: Path) -> None:
    records, _ = _csv(_write(tmp_path, b"id,text,note\n1,a,n\n"), optional=("note",))
    assert records[0].values == {"id": "1", "text": "a", "note": "n"}


def test_header_only_gives_no_records(tmp_path: Path) -> None:
    records, quarantine = _csv(_write(tmp_path, b"id,text\r\n"))
    assert records == []
    assert quarantine.rows == []


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputFileError) as info:
        _csv(path)
    assert info.value.path == path
    assert info.value.problem == "file not found"
    assert str(info.value).startswith(f"{path}: file not found")


def test_missing_file_says_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputFileError) as info:
        _csv(path, expected="a list of things (id,text)")
    assert str(info.value) == f"{path}: file not found (expected a list of things (id,text))"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a directory") as info:
        _csv(tmp_path)
    assert info.value.expected == "a file"


def test_empty_file_uses_the_expected_description(tmp_path: Path) -> None:
    path = _write(tmp_path, b"")
    with pytest.raises(InputFileError) as info:
        _csv(path, expected="a list of things (id,text)")
    assert str(info.value) == f"{path}: file is empty (expected a list of things (id,text))"


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,name\n1,a\n")
    with pytest.raises(InputFileError) as info:
        _csv(path, required=("id", "text", "year"))
    assert info.value.problem == "missing column(s) ['text', 'year']; header is ['id', 'name']"


@pytest.mark.parametrize(
    ("content", "delimiter", "named"),
    [
        (b"id;text\n1;a\n", ",", "';'"),
        (b"id\ttext\n1\ta\n", ",", "tab"),
        (b"id|text\n1|a\n", ",", "'|'"),
        (b"id,text\n1,a\n", "\t", "comma"),
    ],
    ids=["semicolon", "tab", "pipe", "comma-when-tab-expected"],
)
def test_wrong_delimiter_is_named(
    tmp_path: Path, content: bytes, delimiter: str, named: str
) -> None:
    with pytest.raises(InputFileError) as info:
        _csv(_write(tmp_path, content), delimiter=delimiter)
    assert info.value.problem == f"fields are separated by {named}, not {delimiter!r}"


def test_tab_delimited_file_reads_with_tab(tmp_path: Path) -> None:
    records, _ = _csv(_write(tmp_path, b"id\ttext\n1\ta, b\n"), delimiter="\t")
    assert records[0].values == {"id": "1", "text": "a, b"}


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    ],
    ids=["utf16le", "utf16be", "utf32le", "utf32be"],
)
def test_wide_encodings_are_refused_clearly(
    tmp_path: Path, bom: bytes, codec: str, name: str
) -> None:
    path = _write(tmp_path, bom + "id,text\n1,Amélie\n".encode(codec))
    with pytest.raises(InputFileError) as info:
        _csv(path)
    assert info.value.problem == f"file is {name}-encoded"
    assert info.value.expected == "UTF-8 text; re-save it as UTF-8"


def test_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    records, _ = _csv(_write(tmp_path, codecs.BOM_UTF8 + b"id,text\n1,a\n"))
    assert records[0].values == {"id": "1", "text": "a"}


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    path = _write(tmp_path, gzip.compress("id,text\r\n1,Amélie\r\n".encode()), "data.csv.gz")
    records, _ = _csv(path)
    assert [(r.line, r.values) for r in records] == [(2, {"id": "1", "text": "Amélie"})]


def test_undecodable_row_is_quarantined_with_readable_raw(tmp_path: Path) -> None:
    content = b"id,text\n1,ok\n2," + "Amélie".encode("latin-1") + b"\n3,fine\n"
    records, quarantine = _csv(_write(tmp_path, content))
    assert [r.values["id"] for r in records] == ["1", "3"]
    [row] = quarantine.rows
    assert (row.row, row.field, row.reason) == (3, "text", "not valid UTF-8 (wrong file encoding?)")
    assert row.raw == "2,Am\ufffdlie\n"


def test_undecodable_header_is_a_file_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,títle\n1,a\n".encode("latin-1"))
    with pytest.raises(InputFileError, match="header is not valid UTF-8"):
        _csv(path)


def test_field_length_limit_is_inclusive(tmp_path: Path) -> None:
    at_limit = b"x" * MAX_FIELD_CHARS
    content = b"id,text\n1," + at_limit + b"\n2," + at_limit + b"y\n"
    records, quarantine = _csv(_write(tmp_path, content))
    assert [r.values["id"] for r in records] == ["1"]
    assert [(r.row, r.field) for r in quarantine.rows] == [(3, "text")]
    assert quarantine.rows[0].reason == "field is 100,001 characters (limit 100,000)"
    assert len(quarantine.rows[0].raw) == 2_000


def test_nul_byte_is_quarantined(tmp_path: Path) -> None:
    records, quarantine = _csv(_write(tmp_path, b"id,text\n1,a\x00b\n2,c\n"))
    assert [r.values["id"] for r in records] == ["2"]
    assert [(r.row, r.field, r.reason) for r in quarantine.rows] == [
        (2, "text", "contains a NUL byte")
    ]


def test_unterminated_quote_at_end_of_file_is_hinted(tmp_path: Path) -> None:
    content = b'id,text,year\n1,a,1995\n2,"b,1996\n3,c,1997\n'
    records, quarantine = _csv(_write(tmp_path, content), required=("id", "text", "year"))
    assert records[0].values == {"id": "1", "text": "a", "year": "1995"}
    assert [(r.row, r.reason) for r in quarantine.rows] == [
        (3, "expected 3 fields, found 2 (unterminated quote?)")
    ]


def test_unterminated_quote_at_end_of_file_is_never_loaded(tmp_path: Path) -> None:
    records, quarantine = _csv(_write(tmp_path, b'id,text\n1,a\n2,"b\n'))
    assert [r.values["id"] for r in records] == ["1"]
    assert [r.row for r in quarantine.rows] == [3]


def test_stray_quote_costs_only_its_own_line(tmp_path: Path) -> None:
    lines = [
        b"id,text,year",  # 1
        b"1,a,1995",  # 2
        b'2,"b,1996',  # 3: the quote is never closed
        b"3,c,1997",  # 4
        b'4,"d, e",1998',  # 5: the next quote, which the stray one would pair with
        b"5,f,1999",  # 6
    ]
    path = _write(tmp_path, b"\r\n".join(lines) + b"\r\n")
    records, quarantine = _csv(path, required=("id", "text", "year"))
    assert [(r.line, r.values["id"], r.values["text"]) for r in records] == [
        (2, "1", "a"),
        (4, "3", "c"),
        (5, "4", "d, e"),
        (6, "5", "f"),
    ]
    assert [(r.row, r.reason, r.raw) for r in quarantine.rows] == [
        (3, "expected 3 fields, found 2 (unterminated quote?)", '2,"b,1996\r\n')
    ]


def test_text_after_a_closing_quote_is_quarantined(tmp_path: Path) -> None:
    records, quarantine = _csv(_write(tmp_path, b'id,text\n1,"a"b\n2,c\n'))
    assert [r.values["id"] for r in records] == ["2"]
    [row] = quarantine.rows
    assert (row.row, row.field) == (2, None)
    assert row.reason.startswith("unparseable CSV: ")
    assert "unterminated" not in row.reason


def test_short_row_on_one_line_has_no_quote_hint(tmp_path: Path) -> None:
    _, quarantine = _csv(_write(tmp_path, b"id,text\n1\n"))
    assert [(r.row, r.reason) for r in quarantine.rows] == [(2, "expected 2 fields, found 1")]


def test_gz_file_that_is_not_gzip_is_a_file_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,text\n1,a\n", "data.csv.gz")
    with pytest.raises(InputFileError) as info:
        _csv(path)
    assert info.value.path == path
    assert info.value.problem.startswith("not a valid gzip file (")


@pytest.mark.parametrize(
    ("codec", "name"),
    [("utf-16-le", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32-le", "UTF-32")],
)
def test_wide_encoding_without_bom_is_refused_clearly(
    tmp_path: Path, codec: str, name: str
) -> None:
    path = _write(tmp_path, "id,text\n1,a\n".encode(codec))
    with pytest.raises(InputFileError) as info:
        _csv(path)
    assert info.value.problem == f"file is {name}-encoded"
    assert info.value.expected == "UTF-8 text; re-save it as UTF-8"


def test_truncated_gzip_is_a_file_error(tmp_path: Path) -> None:
    rows = b"".join(b"%d,text number %d\n" % (n, n) for n in range(20_000))
    packed = gzip.compress(b"id,text\n" + rows)
    path = _write(tmp_path, packed[: len(packed) // 2], "data.csv.gz")
    with pytest.raises(InputFileError) as info:
        _csv(path, expected="a list of things (id,text)")
    assert info.value.path == path
    assert info.value.problem.startswith("not a valid gzip file (")
    assert info.value.expected == "a list of things (id,text)"


# -- read_json_records ---------------------------------------------------------------------


def _json(path: Path) -> tuple[list[tuple[int, dict]], Quarantine]:
    quarantine = Quarantine()
    return list(read_json_records(path, source="test", quarantine=quarantine)), quarantine


def test_json_array_positions(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps([{"a": 1}, 2, {"b": 3}]).encode(), "x.json")
    records, quarantine = _json(path)
    assert records == [(1, {"a": 1}), (3, {"b": 3})]
    assert [(r.row, r.reason, r.raw) for r in quarantine.rows] == [
        (2, "record is an int, not an object", "2")
    ]


def test_ndjson_line_numbers_skip_blank_lines(tmp_path: Path) -> None:
    content = b'{"a": 1}\r\n\r\n{"a": 2}\r\n[1]\r\n{"a": 3}'
    records, quarantine = _json(_write(tmp_path, content, "x.ndjson"))
    assert records == [(1, {"a": 1}), (3, {"a": 2}), (5, {"a": 3})]
    assert [(r.row, r.reason) for r in quarantine.rows] == [(4, "record is a list, not an object")]


def test_gzipped_bom_ndjson(tmp_path: Path) -> None:
    content = gzip.compress(codecs.BOM_UTF8 + '{"title": "Amélie"}\n'.encode())
    records, _ = _json(_write(tmp_path, content, "x.json.gz"))
    assert records == [(1, {"title": "Amélie"})]


@pytest.mark.parametrize("content", [b"", b" \n\t\n"], ids=["0-bytes", "whitespace"])
def test_empty_json_file(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, content, "x.json")
    with pytest.raises(InputFileError) as info:
        _json(path)
    assert info.value.problem == "file is empty"
    assert info.value.expected == "a JSON array of objects or one JSON object per line"


def test_csv_given_as_json_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        _json(_write(tmp_path, b"title,year\nHeat,1995\n", "x.json"))
    assert info.value.problem == "not JSON"


def test_undecodable_json_array_is_a_file_error(tmp_path: Path) -> None:
    path = _write(tmp_path, '[{"title": "Amélie"}]'.encode("latin-1"), "x.json")
    with pytest.raises(InputFileError) as info:
        _json(path)
    assert info.value.problem == "not valid UTF-8"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"], ids=["LS", "PS", "NEL"])
def test_ndjson_string_may_hold_unicode_line_separators(tmp_path: Path, separator: str) -> None:
    rows = [{"title": "A", "storyline": f"one{separator}two"}, {"title": "B"}]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    records, quarantine = _json(_write(tmp_path, text.encode(), "x.ndjson"))
    assert quarantine.rows == []
    assert records == [(1, rows[0]), (2, rows[1])]


def test_pretty_printed_single_object_is_a_file_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path, json.dumps({"title": "Heat", "year": 1995}, indent=2).encode(), "x.json"
    )
    with pytest.raises(InputFileError) as info:
        _json(path)
    assert info.value.problem == "one JSON object spread over several lines, not a list of records"
    assert info.value.expected == "a JSON array of objects or one JSON object per line"


def test_single_object_on_one_line_is_one_record(tmp_path: Path) -> None:
    records, quarantine = _json(_write(tmp_path, b'{"title": "Heat"}\n', "x.json"))
    assert records == [(1, {"title": "Heat"})]
    assert quarantine.rows == []


def test_ndjson_without_any_object_is_a_file_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"title": "Heat",\n"year": 1995\n', "x.ndjson")
    with pytest.raises(InputFileError) as info:
        _json(path)
    assert info.value.problem == "no line holds a JSON object"


def test_ndjson_crlf_line_endings(tmp_path: Path) -> None:
    records, quarantine = _json(_write(tmp_path, b'{"a": 1}\r\n{"a": 2}\r\n', "x.ndjson"))
    assert records == [(1, {"a": 1}), (2, {"a": 2})]
    assert quarantine.rows == []


def test_truncated_gzip_json_is_a_file_error(tmp_path: Path) -> None:
    lines = b"".join(b'{"title": "Movie %d"}\n' % n for n in range(20_000))
    packed = gzip.compress(lines)
    path = _write(tmp_path, packed[: len(packed) // 2], "x.json.gz")
    with pytest.raises(InputFileError) as info:
        _json(path)
    assert info.value.problem.startswith("not a valid gzip file (")


def test_missing_json_file_says_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(InputFileError) as info:
        _json(path)
    assert str(info.value) == (
        f"{path}: file not found (expected a JSON array of objects or one JSON object per line)"
    )
