"""Corruption corpus: corrupted copies of the real MovieLens files, each with its exact outcome.

Every case starts from the first 50 rows of the real ml-latest-small and ml-genome files (CRLF,
as published), breaks one thing, and checks what the loader does with it: a file-level problem
raises an InputFileError naming the file and what was expected; a bad row goes to the
quarantine with its 1-based line, field and reason while the good rows still load; harmless
variations (BOM, gzip, LF, blank lines) load exactly like the clean copy.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from movie_rag.catalog.titles import parse_movielens_title
from movie_rag.errors import InputFileError
from movie_rag.ingest.imdb import IMDBLoader
from movie_rag.ingest.movielens import MovieLensData, MovieLensLoader
from movie_rag.ingest.quality import MAX_FIELD_CHARS, Quarantine, read_json_records

ROWS = 50
ML_FILES = ("movies.csv", "links.csv", "ratings.csv", "tags.csv")
GENOME_FILES = {
    "genome-tags.csv": "genome-tags.csv",
    "genome-scores.csv": "genome_scores.subset.csv",
}
ROLES = {
    "movies.csv": "movies",
    "links.csv": "links",
    "ratings.csv": "ratings",
    "tags.csv": "tags",
    "genome-scores.csv": "genome_scores",
    "genome-tags.csv": "genome_tags",
}
TABLES = ("movies", "ratings", "tags", "genome_scores", "genome_tags")

Corrupt = Callable[[Path], None]


# -- building and breaking a small release -------------------------------------------------


def _head(path: Path, rows: int = ROWS) -> bytes:
    """Header and the first ``rows`` records of a real (CRLF, one line per record) file."""
    with path.open("rb") as handle:
        lines = [handle.readline() for _ in range(rows + 1)]
    assert all(line.endswith(b"\r\n") for line in lines)
    return b"".join(lines)


@pytest.fixture(scope="module")
def heads(shared_data: Path) -> dict[str, bytes]:
    """The first rows of each real file, read once per module."""
    files = {name: shared_data / "ml-latest-small" / name for name in ML_FILES}
    files |= {name: shared_data / "ml-genome" / original for name, original in GENOME_FILES.items()}
    return {name: _head(path) for name, path in files.items()}


@pytest.fixture
def release(tmp_path: Path, heads: dict[str, bytes]) -> Path:
    directory = tmp_path / "ml"
    directory.mkdir()
    for name, content in heads.items():
        (directory / name).write_bytes(content)
    return directory


def _load(directory: Path, genome_dir: Path | None = None) -> MovieLensData:
    return MovieLensLoader().load(directory, genome_dir=genome_dir)


def set_line(name: str, line: int, new: bytes) -> Corrupt:
    """Replace physical line ``line`` (1-based, header is 1) of a file."""

    def corrupt(directory: Path) -> None:
        path = directory / name
        lines = path.read_bytes().split(b"\r\n")
        lines[line - 1] = new
        path.write_bytes(b"\r\n".join(lines))

    return corrupt


def insert_lines(name: str, after: int, *new: bytes) -> Corrupt:
    def corrupt(directory: Path) -> None:
        path = directory / name
        lines = path.read_bytes().split(b"\r\n")
        lines[after:after] = list(new)
        path.write_bytes(b"\r\n".join(lines))

    return corrupt


def rewrite(names: Iterable[str], transform: Callable[[bytes], bytes]) -> Corrupt:
    def corrupt(directory: Path) -> None:
        for name in names:
            path = directory / name
            path.write_bytes(transform(path.read_bytes()))

    return corrupt


def gzip_files(names: Iterable[str]) -> Corrupt:
    def corrupt(directory: Path) -> None:
        for name in names:
            path = directory / name
            (directory / f"{name}.gz").write_bytes(gzip.compress(path.read_bytes()))
            path.unlink()

    return corrupt


def delete(name: str) -> Corrupt:
    def corrupt(directory: Path) -> None:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

    return corrupt


def copy_file(source: str, target: str) -> Corrupt:
    def corrupt(directory: Path) -> None:
        shutil.copyfile(directory / source, directory / target)

    return corrupt


def recsv(name: str, transform: Callable[[list[list[str]]], list[list[str]]], **dialect: str):
    """Re-write a file through the csv module (other delimiter, fewer columns)."""

    def corrupt(directory: Path) -> None:
        path = directory / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n", **dialect).writerows(transform(rows))
        path.write_text(out.getvalue(), encoding="utf-8", newline="")

    return corrupt


def both(*steps: Corrupt) -> Corrupt:
    def corrupt(directory: Path) -> None:
        for step in steps:
            step(directory)

    return corrupt


def _params(cases: Iterable) -> list:
    """One test parameter per case, named by its kind."""
    return [pytest.param(case, id=case.kind) for case in cases]


# -- file-level problems: InputFileError naming the file and what was expected ---------------

MOVIES_EXPECTED = "MovieLens movies.csv (movieId,title,genres)"
RATINGS_EXPECTED = "MovieLens ratings.csv (userId,movieId,rating,timestamp)"
UTF16 = "file is UTF-16-encoded"
AS_UTF8 = "UTF-8 text; re-save it as UTF-8"


@dataclass(frozen=True)
class Broken:
    kind: str
    corrupt: Corrupt
    path: str  # the file (or directory) the error must name, relative to the release's parent
    problem: str | re.Pattern[str]
    expected: str
    genome_dir: str | None = None


BROKEN = [
    Broken(
        "movies_file_missing",
        delete("movies.csv"),
        "ml/movies.csv",
        "file not found",
        "a MovieLens release with movies.csv",
    ),
    Broken(
        "release_directory_missing",
        lambda d: shutil.rmtree(d),
        "ml",
        "directory not found",
        "a MovieLens release directory",
    ),
    Broken(
        "genome_directory_missing",
        lambda d: None,
        "genome",
        "directory not found",
        "a directory with genome files",
        genome_dir="genome",
    ),
    Broken(
        "empty_file_0_bytes",
        rewrite(["ratings.csv"], lambda b: b""),
        "ml/ratings.csv",
        "file is empty",
        RATINGS_EXPECTED,
    ),
    Broken(
        "empty_movies_file",
        rewrite(["movies.csv"], lambda b: b""),
        "ml/movies.csv",
        "file is empty",
        MOVIES_EXPECTED,
    ),
    Broken(
        "utf16_le_with_bom",
        rewrite(["movies.csv"], lambda b: codecs.BOM_UTF16_LE + b.decode().encode("utf-16-le")),
        "ml/movies.csv",
        UTF16,
        AS_UTF8,
    ),
    Broken(
        "utf16_be_with_bom",
        rewrite(["ratings.csv"], lambda b: codecs.BOM_UTF16_BE + b.decode().encode("utf-16-be")),
        "ml/ratings.csv",
        UTF16,
        AS_UTF8,
    ),
    Broken(
        "utf16_le_without_bom",
        rewrite(["movies.csv"], lambda b: b.decode().encode("utf-16-le")),
        "ml/movies.csv",
        UTF16,
        AS_UTF8,
    ),
    Broken(
        "latin1_header",
        set_line("movies.csv", 1, "movieId,title,genres,año".encode("latin-1")),
        "ml/movies.csv",
        "header is not valid UTF-8",
        MOVIES_EXPECTED,
    ),
    Broken(
        "semicolon_delimiter",
        recsv("movies.csv", lambda rows: rows, delimiter=";"),
        "ml/movies.csv",
        "fields are separated by ';', not ','",
        MOVIES_EXPECTED,
    ),
    Broken(
        "tab_delimiter",
        recsv("ratings.csv", lambda rows: rows, delimiter="\t"),
        "ml/ratings.csv",
        "fields are separated by tab, not ','",
        RATINGS_EXPECTED,
    ),
    Broken(
        "missing_column",
        recsv("movies.csv", lambda rows: [row[:2] for row in rows]),
        "ml/movies.csv",
        "missing column(s) ['genres']; header is ['movieId', 'title']",
        MOVIES_EXPECTED,
    ),
    Broken(
        "genome_scores_without_tags_file",
        delete("genome-tags.csv"),
        "ml/genome-scores.csv",
        "genome scores and genome tags come together",
        "both genome files",
    ),
    Broken(
        "genome_tags_without_scores_file",
        delete("genome-scores.csv"),
        "ml/genome-tags.csv",
        "genome scores and genome tags come together",
        "both genome files",
    ),
    Broken(
        "two_genome_scores_files",
        copy_file("genome-scores.csv", "genome_scores.subset.csv"),
        "ml",
        "several genome_scores files: ['genome-scores.csv', 'genome_scores.subset.csv']",
        "exactly one",
    ),
    Broken(
        "plain_and_gzip_movies",
        lambda d: (d / "movies.csv.gz").write_bytes(gzip.compress((d / "movies.csv").read_bytes())),
        "ml",
        "several movies files: ['movies.csv', 'movies.csv.gz']",
        "exactly one",
    ),
    Broken(
        "gz_name_but_not_gzip",
        lambda d: (d / "movies.csv").rename(d / "movies.csv.gz"),
        "ml/movies.csv.gz",
        re.compile(r".*gzip.*"),
        MOVIES_EXPECTED,
    ),
    Broken(
        "truncated_gzip",
        both(
            gzip_files(["ratings.csv"]),
            rewrite(["ratings.csv.gz"], lambda b: b[: len(b) // 2]),
        ),
        "ml/ratings.csv.gz",
        re.compile(r".*gzip.*"),
        RATINGS_EXPECTED,
    ),
]


@pytest.mark.parametrize("case", _params(BROKEN))
def test_file_level_problem_raises(release: Path, case: Broken) -> None:
    case.corrupt(release)
    genome_dir = release.parent / case.genome_dir if case.genome_dir else None
    with pytest.raises(InputFileError) as info:
        _load(release, genome_dir)
    error = info.value
    assert error.path == release.parent / case.path
    if isinstance(case.problem, re.Pattern):
        assert case.problem.fullmatch(error.problem), error.problem
    else:
        assert error.problem == case.problem
    assert error.expected == case.expected
    assert str(error) == f"{release.parent / case.path}: {error.problem} (expected {case.expected})"


# -- bad rows: quarantined with line, field and reason; good rows still load ----------------


@dataclass(frozen=True)
class Bad:
    kind: str
    file: str
    corrupt: Corrupt
    row: int  # 1-based physical line of the bad record
    field: str | None
    reason: str | re.Pattern[str]
    raw: bytes  # the bad line as written
    blank_lines_before: int = 0

    @property
    def role(self) -> str:
        return ROLES[self.file]

    @property
    def record_index(self) -> int:
        """Position of the bad record among the data records of the clean file."""
        return self.row - 2 - self.blank_lines_before


def bad(
    kind: str,
    file: str,
    line: int,
    new: bytes,
    field: str | None,
    reason: str | re.Pattern[str],
) -> Bad:
    return Bad(kind, file, set_line(file, line, new), line, field, reason, new)


HUGE = b"2,60756," + b"x" * (MAX_FIELD_CHARS + 1) + b",1445714992"
UNTERMINATED = re.compile(r"expected \d fields, found \d \(unterminated quote\?\)")

BAD = [
    bad(
        "latin1_row_in_movies",
        "movies.csv",
        4,
        "3,Grumpier Old Men (Les Vieux fâchés) (1995),Comedy|Romance".encode("latin-1"),
        "title",
        "not valid UTF-8 (wrong file encoding?)",
    ),
    bad(
        "latin1_row_in_tags",
        "tags.csv",
        3,
        "2,60756,très drôle,1445714996".encode("latin-1"),
        "tag",
        "not valid UTF-8 (wrong file encoding?)",
    ),
    bad(
        "extra_field",
        "ratings.csv",
        3,
        b"1,3,4.0,964981247,5",
        None,
        "expected 4 fields, found 5",
    ),
    bad(
        "missing_field",
        "movies.csv",
        4,
        b"3,Grumpier Old Men (1995)",
        None,
        "expected 3 fields, found 2",
    ),
    bad(
        "duplicate_movie_id",
        "movies.csv",
        5,
        b"3,Waiting to Exhale (1995),Comedy|Drama|Romance",
        "movieId",
        "duplicate movieId 3 (first at row 4)",
    ),
    bad(
        "duplicate_movie_id_in_links",
        "links.csv",
        5,
        b"3,0114885,31357",
        "movieId",
        "duplicate movieId 3 (first at row 4)",
    ),
    bad(
        "non_numeric_rating",
        "ratings.csv",
        3,
        b"1,3,four,964981247",
        "rating",
        "not a number: 'four'",
    ),
    bad(
        "rating_above_five",
        "ratings.csv",
        3,
        b"1,3,5.5,964981247",
        "rating",
        "rating 5.5 is not a half star in 0.5–5",
    ),
    bad(
        "rating_zero",
        "ratings.csv",
        3,
        b"1,3,0.0,964981247",
        "rating",
        "rating 0.0 is not a half star in 0.5–5",
    ),
    bad(
        "rating_not_half_star",
        "ratings.csv",
        3,
        b"1,3,3.7,964981247",
        "rating",
        "rating 3.7 is not a half star in 0.5–5",
    ),
    bad(
        "rating_nan",
        "ratings.csv",
        3,
        b"1,3,NaN,964981247",
        "rating",
        "not a finite number: 'NaN'",
    ),
    bad(
        "zero_movie_id",
        "movies.csv",
        4,
        b"0,Grumpier Old Men (1995),Comedy|Romance",
        "movieId",
        "movieId must be a positive integer, got '0'",
    ),
    bad(
        "negative_user_id",
        "ratings.csv",
        3,
        b"-1,3,4.0,964981247",
        "userId",
        "userId must be a positive integer, got '-1'",
    ),
    bad(
        "non_numeric_timestamp_in_ratings",
        "ratings.csv",
        3,
        b"1,3,4.0,2000-07-30",
        "timestamp",
        "not an integer: '2000-07-30'",
    ),
    bad(
        "non_numeric_timestamp_in_tags",
        "tags.csv",
        3,
        b"2,60756,Highly quotable,yesterday",
        "timestamp",
        "not an integer: 'yesterday'",
    ),
    bad(
        "empty_tag",
        "tags.csv",
        3,
        b'2,60756,"  ",1445714996',
        "tag",
        "empty tag",
    ),
    bad(
        "huge_field",
        "tags.csv",
        4,
        HUGE,
        "tag",
        f"field is {MAX_FIELD_CHARS + 1:,} characters (limit {MAX_FIELD_CHARS:,})",
    ),
    bad(
        "nul_byte_in_title",
        "movies.csv",
        4,
        b"3,Grumpier\x00Old Men (1995),Comedy|Romance",
        "title",
        "contains a NUL byte",
    ),
    bad(
        "nul_byte_in_ratings",
        "ratings.csv",
        3,
        b"1,3,4.0,9649\x0081247",
        "timestamp",
        "contains a NUL byte",
    ),
    bad(
        "unterminated_quote_to_end_of_file",
        "ratings.csv",
        3,
        b'1,3,"4.0,964981247',
        None,
        UNTERMINATED,
    ),
    bad(
        "unterminated_quote_up_to_next_quote",
        "movies.csv",
        4,
        b'3,"Grumpier Old Men (1995),Comedy|Romance',
        None,
        UNTERMINATED,
    ),
    bad(
        "plus_sign_in_user_id",
        "ratings.csv",
        3,
        b"+1,3,4.0,964981247",
        "userId",
        "not an integer: '+1'",
    ),
    bad(
        "arabic_indic_digits_in_timestamp",
        "tags.csv",
        3,
        "2,60756,Highly quotable,١٤٤٥٧١٤٩٩٦".encode(),
        "timestamp",
        "not an integer: '١٤٤٥٧١٤٩٩٦'",
    ),
    bad(
        "relevance_above_one",
        "genome-scores.csv",
        3,
        b"1,2,1.025",
        "relevance",
        "relevance 1.025 is outside 0–1",
    ),
    bad(
        "duplicate_genome_tag_id",
        "genome-tags.csv",
        4,
        b"2,18th century",
        "tagId",
        "duplicate tagId 2 (first at row 3)",
    ),
    bad(
        "bad_imdb_id",
        "links.csv",
        4,
        b"3,tt01132x8,15602",
        "imdbId",
        re.compile(r"not an IMDb (title )?id: 'tt01132x8'"),
    ),
    bad(
        "zero_imdb_id",
        "links.csv",
        4,
        b"3,0000000,15602",
        "imdbId",
        re.compile(r"not an IMDb (title )?id: '0000000'"),
    ),
    bad(
        "non_numeric_tmdb_id",
        "links.csv",
        4,
        b"3,0113228,n/a",
        "tmdbId",
        "not an integer: 'n/a'",
    ),
    bad(
        "non_ascii_digits_in_imdb_id",
        "links.csv",
        4,
        "3,٠١١٣٢٢٨,15602".encode(),
        "imdbId",
        re.compile(r"not an IMDb (title )?id: '٠١١٣٢٢٨'"),
    ),
    bad(
        "digit_separator_in_movie_id",
        "movies.csv",
        4,
        b"1_0,Grumpier Old Men (1995),Comedy|Romance",
        "movieId",
        "not an integer: '1_0'",
    ),
]

# Blank lines are not records, but they are lines: the bad row's number counts them.
BAD.append(
    Bad(
        "blank_lines_before_a_bad_row",
        "ratings.csv",
        both(
            set_line("ratings.csv", 5, b"1,47,5.0,964983815,5"),
            insert_lines("ratings.csv", 2, b"", b"", b""),
        ),
        8,
        None,
        "expected 4 fields, found 5",
        b"1,47,5.0,964983815,5",
        blank_lines_before=3,
    )
)


def _loaded(data: MovieLensData, role: str) -> int:
    return data.rows_loaded()[role]


@pytest.mark.parametrize("case", _params(BAD))
def test_bad_row_is_quarantined(release: Path, case: Bad) -> None:
    case.corrupt(release)
    data = _load(release)
    rejected = data.quarantine.rows
    assert [(r.source, r.path, r.row, r.field) for r in rejected] == [
        (f"movielens_{case.role}", str(release / case.file), case.row, case.field)
    ]
    reason = rejected[0].reason
    if isinstance(case.reason, re.Pattern):
        assert case.reason.fullmatch(reason), reason
    else:
        assert reason == case.reason
    expected_raw = (case.raw + b"\r\n").decode("utf-8", "replace")
    assert rejected[0].raw.startswith(expected_raw[:2_000])
    assert len(rejected[0].raw) <= 2_000
    # The other files are untouched.
    for role in ("movies", "links", "ratings", "tags", "genome_scores", "genome_tags"):
        if role != case.role:
            assert _loaded(data, role) == ROWS, role


@pytest.mark.parametrize("case", _params([c for c in BAD if c.role in TABLES]))
def test_good_rows_still_load(release: Path, case: Bad) -> None:
    clean = getattr(_load(release), case.role).to_pylist()
    case.corrupt(release)
    loaded = getattr(_load(release), case.role).to_pylist()
    # Tables keep file order: the clean table minus the record of the bad line.
    index = case.record_index
    assert loaded == clean[:index] + clean[index + 1 :]


@pytest.mark.parametrize("case", _params(BAD))
def test_rows_in_balance(release: Path, case: Bad) -> None:
    case.corrupt(release)
    data = _load(release)
    assert data.rows_in[case.role] == ROWS
    assert _loaded(data, case.role) + data.quarantine.count(f"movielens_{case.role}") == ROWS


def test_rejected_link_leaves_the_movie_without_ids(release: Path) -> None:
    set_line("links.csv", 4, b"3,tt01132x8,15602")(release)
    data = _load(release)
    movies = {m["movie_id"]: m for m in data.movies.to_pylist()}
    assert data.movies.num_rows == ROWS
    assert (movies[3]["imdb_id"], movies[3]["tmdb_id"]) == (None, None)
    assert (movies[2]["imdb_id"], movies[2]["tmdb_id"]) == ("tt0113497", 8844)


def test_duplicate_movie_keeps_the_first_row(release: Path) -> None:
    set_line("movies.csv", 5, b"3,Waiting to Exhale (1995),Comedy|Drama|Romance")(release)
    movies = {m["movie_id"]: m for m in _load(release).movies.to_pylist()}
    assert movies[3]["title"] == "Grumpier Old Men"
    assert 4 not in movies


# -- harmless variations: loaded exactly like the clean copy --------------------------------

ALL_FILES = (*ML_FILES, *GENOME_FILES)


@dataclass(frozen=True)
class Same:
    kind: str
    corrupt: Corrupt


def _to_lf(text: bytes) -> bytes:
    return text.replace(b"\r\n", b"\n")


def _mixed_endings(text: bytes) -> bytes:
    lines = text.split(b"\r\n")
    return (
        b"".join(line + (b"\n" if i % 2 else b"\r\n") for i, line in enumerate(lines[:-1]))
        + lines[-1]
    )


def _blank_lines(text: bytes) -> bytes:
    lines = text.split(b"\r\n")
    lines[10:10] = [b"", b""]
    return b"\r\n".join(lines) + b"\r\n\r\n"


SAME = [
    Same("utf8_bom_at_start", rewrite(ALL_FILES, lambda b: codecs.BOM_UTF8 + b)),
    Same("gzip_files", gzip_files(ALL_FILES)),
    Same("lf_instead_of_crlf", rewrite(ALL_FILES, _to_lf)),
    Same("mixed_crlf_and_lf", rewrite(ALL_FILES, _mixed_endings)),
    Same("blank_lines", rewrite(ALL_FILES, _blank_lines)),
    Same("no_final_newline", rewrite(ALL_FILES, lambda b: b.removesuffix(b"\r\n"))),
    Same(
        "bom_gzip_and_lf_together",
        both(rewrite(ALL_FILES, lambda b: codecs.BOM_UTF8 + _to_lf(b)), gzip_files(ALL_FILES)),
    ),
]


@pytest.mark.parametrize("case", _params(SAME))
def test_variation_loads_like_the_clean_copy(release: Path, case: Same) -> None:
    clean = _load(release)
    case.corrupt(release)
    data = _load(release)
    assert data.quarantine.rows == []
    assert data.rows_in == clean.rows_in
    assert data.rows_in["ratings"] == ROWS
    for role in TABLES:
        assert getattr(data, role).equals(getattr(clean, role)), role
    assert data.orphans == clean.orphans


@pytest.mark.parametrize("name", ALL_FILES)
def test_header_only_file_is_valid_empty_input(release: Path, name: str) -> None:
    path = release / name
    path.write_bytes(path.read_bytes().split(b"\r\n")[0] + b"\r\n")
    data = _load(release)
    role = ROLES[name]
    assert data.quarantine.rows == []
    assert data.rows_in[role] == 0
    assert data.rows_loaded()[role] == 0
    if role in TABLES:
        assert getattr(data, role).num_rows == 0
    if role == "movies":
        assert data.orphans["links"] == ROWS  # links of movies the release does not have
    if role == "links":
        assert data.movies.column("imdb_id").null_count == ROWS


# -- JSON: the IMDB side reads the same way (real records from itemsapi_imdb.json) ---------


@pytest.fixture
def json_records(shared_data: Path) -> list[dict]:
    with (shared_data / "imdb" / "itemsapi_imdb.json").open(encoding="utf-8") as handle:
        return json.load(handle)[:ROWS]


def _read_json(path: Path) -> tuple[list[tuple[int, dict]], Quarantine]:
    quarantine = Quarantine()
    return list(read_json_records(path, source="imdb_test", quarantine=quarantine)), quarantine


def test_broken_ndjson_line_is_quarantined_and_reading_goes_on(
    tmp_path: Path, json_records: list[dict]
) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in json_records]
    lines[2] = lines[2][: len(lines[2]) // 2]  # a record cut in the middle
    path = tmp_path / "imdb.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, quarantine = _read_json(path)
    assert [(r.row, r.field) for r in quarantine.rows] == [(3, None)]
    assert quarantine.rows[0].reason.startswith("broken JSON line: ")
    assert quarantine.rows[0].raw == lines[2]
    assert [n for n, _ in records] == [n for n in range(1, ROWS + 1) if n != 3]
    assert [r for _, r in records] == json_records[:2] + json_records[3:]
    assert len(records) + quarantine.count() == ROWS


def test_latin1_ndjson_line_is_quarantined(tmp_path: Path, json_records: list[dict]) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in json_records[:5]]
    lines[1] = json.dumps({"name": "Amélie"}, ensure_ascii=False).encode("latin-1")
    path = tmp_path / "imdb.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    records, quarantine = _read_json(path)
    assert [(r.row, r.reason) for r in quarantine.rows] == [(2, "not valid UTF-8")]
    assert [n for n, _ in records] == [1, 3, 4, 5]


def test_invalid_json_array_names_line_and_column(tmp_path: Path, json_records: list[dict]) -> None:
    text = json.dumps(json_records, ensure_ascii=False, indent=1)
    # Drop the comma between the second and third record.
    second_end = [m.start() for m in re.finditer(r"\n \},\n \{", text)][1]
    text = text[:second_end] + "\n }\n {" + text[second_end + len("\n },\n {") :]
    brace = second_end + len("\n }\n ")
    line = text.count("\n", 0, brace) + 1
    column = brace - text.rfind("\n", 0, brace)
    path = tmp_path / "imdb.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        _read_json(path)
    assert info.value.path == path
    assert info.value.problem == (
        f"invalid JSON at line {line}, column {column}: Expecting ',' delimiter"
    )
    assert "expected a JSON array of objects or one JSON object per line" in str(info.value)


def test_non_objects_in_json_array_are_quarantined(
    tmp_path: Path, json_records: list[dict]
) -> None:
    items: list = [*json_records[:3], "Toy Story", None, *json_records[3:5]]
    path = tmp_path / "imdb.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    records, quarantine = _read_json(path)
    assert [(r.row, r.raw) for r in quarantine.rows] == [(4, '"Toy Story"'), (5, "null")]
    assert [n for n, _ in records] == [1, 2, 3, 6, 7]
    assert len(records) + quarantine.count() == len(items)


# -- the same JSON kinds through IMDBLoader (Bright Data shape, built from real MovieLens rows) --


@pytest.fixture
def bright_data_records(heads: dict[str, bytes]) -> list[dict]:
    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(heads[name].decode(), newline="")))

    return [
        {
            "url": f"https://www.imdb.com/title/tt{link['imdbId']}/",
            "title": parse_movielens_title(movie["title"]).title,
            "genres": movie["genres"].split("|"),
        }
        for movie, link in zip(rows("movies.csv"), rows("links.csv"), strict=True)
    ]


def test_imdb_loader_quarantines_a_broken_ndjson_line(
    tmp_path: Path, bright_data_records: list[dict]
) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in bright_data_records]
    lines[2] = lines[2][: len(lines[2]) // 2]
    path = tmp_path / "bright_data.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = IMDBLoader().load(path, format="bright_data")
    assert [(r.source, r.path, r.row, r.field) for r in loaded.quarantine.rows] == [
        ("imdb_bright_data", str(path), 3, None)
    ]
    assert loaded.quarantine.rows[0].reason.startswith("broken JSON line: ")
    assert (loaded.rows_in, loaded.rows_loaded) == (ROWS, ROWS - 1)
    assert loaded.table.column("source_row").to_pylist() == [
        n for n in range(1, ROWS + 1) if n != 3
    ]
    assert loaded.table.column("url").to_pylist() == [
        r["url"] for i, r in enumerate(bright_data_records) if i != 2
    ]


def test_imdb_loader_refuses_an_invalid_json_array(
    tmp_path: Path, bright_data_records: list[dict]
) -> None:
    text = json.dumps(bright_data_records, ensure_ascii=False, indent=1)
    cut = text.index("\n },\n {")  # drop the comma after the first record
    text = text[:cut] + "\n }\n {" + text[cut + len("\n },\n {") :]
    brace = cut + len("\n }\n ")
    path = tmp_path / "bright_data.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        IMDBLoader().load(path, format="bright_data")
    line = text.count("\n", 0, brace) + 1
    column = brace - text.rfind("\n", 0, brace)
    assert info.value.path == path
    assert (
        info.value.problem
        == f"invalid JSON at line {line}, column {column}: Expecting ',' delimiter"
    )
