"""A corruption corpus written for the build: a small MovieLens release and the ways to break it.

Everything is generated here (no data files): a 20-movie release with links, ratings and tags,
a tiny genome, and small IMDB-like files in several formats. Each :class:`Kind` breaks one
thing and says what ``movie-rag build`` must do with it: account for every physical record
(``ok``) or stop with exit code 2 and one line naming the file (``unusable``).

Records are counted here independently of the loaders, the way a user counts them: the
non-blank lines after the header of a CSV file, the non-blank lines of an NDJSON file, the
top-level items of a JSON array (found with a bracket scanner, not a JSON parser).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CRLF = b"\r\n"

MOVIES = [
    (1, "Toy Story (1995)", "Adventure|Animation|Children|Comedy|Fantasy"),
    (2, "Jumanji (1995)", "Adventure|Children|Fantasy"),
    (3, "Grumpier Old Men (1995)", "Comedy|Romance"),
    (4, "Waiting to Exhale (1995)", "Comedy|Drama|Romance"),
    (5, "Father of the Bride Part II (1995)", "Comedy"),
    (6, "Heat (1995)", "Action|Crime|Thriller"),
    (7, "Sabrina (1995)", "Comedy|Romance"),
    (8, "Tom and Huck (1995)", "Adventure|Children"),
    (9, "Sudden Death (1995)", "Action"),
    (10, "GoldenEye (1995)", "Action|Adventure|Thriller"),
    (11, '"American President, The (1995)"', "Comedy|Drama|Romance"),
    (12, "Dracula: Dead and Loving It (1995)", "Comedy|Horror"),
    (13, "Balto (1995)", "Adventure|Animation|Children"),
    (14, "Nixon (1995)", "Drama"),
    (15, "Cutthroat Island (1995)", "Action|Adventure|Romance"),
    (16, "Casino (1995)", "Crime|Drama"),
    (17, "Sense and Sensibility (1995)", "Drama|Romance"),
    (18, "Four Rooms (1995)", "Comedy"),
    (19, "Ace Ventura: When Nature Calls (1995)", "Comedy"),
    (20, "Money Train (1995)", "Action|Comedy|Crime|Drama|Thriller"),
]
TITLES = {movie_id: title.strip('"') for movie_id, title, _ in MOVIES}


def _lines(header: str, rows: list[str]) -> bytes:
    return CRLF.join(line.encode("utf-8") for line in [header, *rows]) + CRLF


def movies_csv() -> bytes:
    return _lines("movieId,title,genres", [f"{m},{t},{g}" for m, t, g in MOVIES])


def links_csv() -> bytes:
    return _lines(
        "movieId,imdbId,tmdbId", [f"{m},{114708 + m:07d},{860 + m}" for m, _, _ in MOVIES]
    )


def ratings_csv() -> bytes:
    rows = []
    for user in range(1, 7):
        for movie in range(1, 21):
            if (user + movie) % 3:
                continue
            rating = 0.5 + ((user * 7 + movie * 3) % 10) * 0.5
            rows.append(f"{user},{movie},{rating:g},{964982703 + user * 1000 + movie}")
    return _lines("userId,movieId,rating,timestamp", rows)


def tags_csv() -> bytes:
    words = ["funny", "pixar", "dark", "classic", "heist", "spy", "romance", "boring"]
    rows = [f"{1 + i % 4},{1 + (i * 3) % 20},{words[i % 8]},{1445714994 + i}" for i in range(16)]
    return _lines("userId,movieId,tag,timestamp", rows)


def genome_tags_csv() -> bytes:
    return _lines("tagId,tag", [f"{i},{w}" for i, w in enumerate(["funny", "dark", "spy"], 1)])


def genome_scores_csv() -> bytes:
    rows = [f"{m},{t},{(m * 7 + t * 13) % 100 / 100:.3f}" for m in range(1, 11) for t in (1, 2, 3)]
    return _lines("movieId,tagId,relevance", rows)


BASE = {
    "movies.csv": movies_csv,
    "links.csv": links_csv,
    "ratings.csv": ratings_csv,
    "tags.csv": tags_csv,
    "genome-tags.csv": genome_tags_csv,
    "genome-scores.csv": genome_scores_csv,
}


def write_release(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in BASE.items():
        (directory / name).write_bytes(make())
    return directory


# -- IMDB-like files ---------------------------------------------------------------------------

TMDB_HEADER = (
    "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,"
    "production_companies,production_countries,release_date,revenue,runtime,spoken_languages,"
    "status,tagline,title,vote_average,vote_count"
)


def _tmdb_row(movie_id: int, genres: str | None = None) -> str:
    title = TITLES[movie_id]
    name = title.rsplit(" (", 1)[0]
    genres = genres if genres is not None else '[{""id"": 18, ""name"": ""Drama""}]'
    keywords = '[{""id"": 1, ""name"": ""friendship""}]'
    return (
        f'0,"{genres}",,{860 + movie_id},"{keywords}",en,"{name}",'
        f'"A story about {name}.",1.5,[],[],1995-10-30,0,90,[],Released,,"{name}",7.1,100'
    )


def tmdb_csv(rows: list[str] | None = None) -> bytes:
    body = rows if rows is not None else [_tmdb_row(m) for m in range(1, 11)]
    return _lines(TMDB_HEADER, body)


def bright_record(movie_id: int, **extra: object) -> dict[str, object]:
    title = TITLES[movie_id].rsplit(" (", 1)[0]
    record: dict[str, object] = {
        "title": title,
        "url": f"https://www.imdb.com/title/tt{114708 + movie_id:07d}/",
        "media_type": "Feature Film",
        "imdb_rating": 7.0,
        "imdb_rating_count": 1000,
        "storyline": f"The story of {title}.",
        "top_cast": [{"name": "Somebody"}],
        "credit": [{"title": "Director", "names": ["A Director"]}],
        "genres": ["Drama"],
        "details_release_date": "October 30, 1995 (United States)",
    }
    record.update(extra)
    return record


def ndjson(records: list[object]) -> bytes:
    return b"\n".join(json.dumps(r).encode() for r in records) + b"\n"


def itemsapi_record(movie_id: int) -> dict[str, object]:
    title = TITLES[movie_id].rsplit(" (", 1)[0]
    return {
        "name": title,
        "year": 1995,
        "storyline": f"All about {title}.",
        "director": ["Someone Else"],
        "actors": ["An Actor"],
        "genre": ["Comedy"],
        "rating": 6.5,
        "votes": 1234,
    }


# -- counting records the way a user does ---------------------------------------------------


def _decoded(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def csv_records(path: Path) -> int:
    """Non-blank physical lines after the header (a line ends at LF; CR alone does not)."""
    lines = _decoded(path).split(b"\n")
    return sum(1 for line in lines[1:] if line.strip(b"\r\t "))


def ndjson_records(path: Path) -> int:
    return sum(1 for line in _decoded(path).split(b"\n") if line.strip(b"\r\t "))


_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def json_array_items(path: Path) -> int:
    """Top-level items of a JSON array, found by scanning brackets outside strings."""
    depth = items = 0
    seen_value = False
    for match in _TOKENS.finditer(_decoded(path)):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth == 2:
                seen_value = True
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b"," and depth == 1:
            items += 1
        elif depth == 1:
            seen_value = True
    return items + 1 if seen_value else 0


def records_in(path: Path) -> int:
    text = _decoded(path).lstrip()
    if path.name.endswith((".json", ".json.gz")) and text.startswith(b"["):
        return json_array_items(path)
    if path.name.endswith((".ndjson", ".jsonl", ".json")):
        return ndjson_records(path)
    return csv_records(path)


# -- kinds ------------------------------------------------------------------------------------

Mutate = Callable[[Path], list[Path]]


@dataclass(frozen=True)
class Kind:
    """One way to break the input.

    Attributes:
        name: Test id.
        mutate: Breaks the release directory in place; returns the IMDB files to pass.
        unusable: The file the build must name when it stops (exit 2), or None when the
            build must go through with every record accounted for.
        quarantined: Minimum rows the kind must put in the quarantine (0: no check).
        reason: A text some quarantine reason must hold.
        warning: A text some report warning must hold.
        orphans: Rows the report must count as referencing a movie the release lacks.
    """

    name: str
    mutate: Mutate
    unusable: str | None = None
    quarantined: int = 0
    reason: str = ""
    warning: str = ""
    orphans: int = 0


def _edit(name: str, change: Callable[[bytes], bytes]) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        path = directory / name
        path.write_bytes(change(path.read_bytes()))
        return []

    return mutate


def replace_line(name: str, line: int, new: bytes) -> Mutate:
    """Replace physical line ``line`` (1-based, header is 1)."""

    def change(data: bytes) -> bytes:
        lines = data.split(CRLF)
        lines[line - 1] = new
        return CRLF.join(lines)

    return _edit(name, change)


def append(name: str, raw: bytes) -> Mutate:
    return _edit(name, lambda data: data + raw)


def truncate_at(name: str, marker: bytes, keep: int) -> Mutate:
    """Cut the file ``keep`` bytes after the start of ``marker``."""

    def change(data: bytes) -> bytes:
        return data[: data.index(marker) + keep]

    return _edit(name, change)


def header_only(name: str) -> Mutate:
    return _edit(name, lambda data: data.split(CRLF)[0] + CRLF)


def remove(name: str) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        (directory / name).unlink()
        return []

    return mutate


def symlink(name: str, target: str) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        (directory / name).unlink()
        os.symlink(target, directory / name)
        return []

    return mutate


def looping_symlink(name: str) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        (directory / name).unlink()
        os.symlink(directory / f"{name}.loop", directory / name)
        os.symlink(directory / name, directory / f"{name}.loop")
        return []

    return mutate


def gzip_file(name: str, cut: int | None = None) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        path = directory / name
        packed = gzip.compress(path.read_bytes())
        (directory / f"{name}.gz").write_bytes(packed[:cut] if cut else packed)
        path.unlink()
        return []

    return mutate


def as_directory(name: str) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        (directory / name).unlink()
        (directory / name).mkdir()
        return []

    return mutate


def imdb_file(name: str, content: bytes | Callable[[], bytes]) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        # One folder per file: several IMDB kinds can share a build.
        root = directory.parent / "imdb"
        target = root / str(len(list(root.glob("*"))) if root.is_dir() else 0) / name
        target.parent.mkdir(parents=True)
        target.write_bytes(content() if callable(content) else content)
        return [target]

    return mutate


def both(*mutations: Mutate) -> Mutate:
    def mutate(directory: Path) -> list[Path]:
        return [path for m in mutations for path in m(directory)]

    return mutate


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _tmdb_with(line_for_movie_3: str) -> Callable[[], bytes]:
    def make() -> bytes:
        rows = [_tmdb_row(m) for m in range(1, 11)]
        rows[2] = line_for_movie_3
        return tmdb_csv(rows)

    return make


def _ndjson_with(bad_line: bytes) -> Callable[[], bytes]:
    def make() -> bytes:
        good = [json.dumps(bright_record(m)).encode() for m in range(1, 6)]
        return b"\n".join([*good[:2], bad_line, *good[2:]]) + b"\n"

    return make


def _items_with(bad_item: str) -> Callable[[], bytes]:
    def make() -> bytes:
        items = [json.dumps(itemsapi_record(m)) for m in range(1, 6)]
        items.insert(2, bad_item)
        return ("[\n" + ",\n".join(items) + "\n]\n").encode()

    return make


M, L, R, T = "movies.csv", "links.csv", "ratings.csv", "tags.csv"
GS, GT = "genome-scores.csv", "genome-tags.csv"

KINDS: list[Kind] = [
    # -- movies.csv: rows -------------------------------------------------------------------
    Kind("movies-truncated-in-quoted-field", truncate_at(M, b'11,"American', 12), quarantined=1,
         reason="unterminated quote"),
    Kind("movies-truncated-mid-row", truncate_at(M, b"20,Money", 9), quarantined=0),
    Kind("movies-truncated-after-id", truncate_at(M, b"20,Money", 3), quarantined=1),
    Kind("movies-latin1-title", replace_line(M, 4, "3,Grumpier Old Mén (1995),Comedy".encode(
        "latin-1")), quarantined=1, reason="UTF-8"),
    Kind("movies-extra-field", replace_line(M, 5, b"4,Waiting to Exhale (1995),Comedy,extra"),
         quarantined=1, reason="expected 3 fields"),
    Kind("movies-missing-field", replace_line(M, 5, b"4,Waiting to Exhale (1995)"),
         quarantined=1, reason="expected 3 fields"),
    Kind("movies-nul-byte", replace_line(M, 6, b"5,Father of the\x00 Bride (1995),Comedy"),
         quarantined=1, reason="NUL"),
    Kind("movies-non-integer-id", replace_line(M, 7, b"six,Heat (1995),Action"), quarantined=1,
         reason="not an integer"),
    Kind("movies-float-id", replace_line(M, 7, b"6.0,Heat (1995),Action"), quarantined=1),
    Kind("movies-negative-id", replace_line(M, 7, b"-6,Heat (1995),Action"), quarantined=1),
    Kind("movies-id-beyond-int64", replace_line(M, 7, b"99999999999999999999999,Heat,Action"),
         quarantined=1),
    Kind("movies-duplicate-id", replace_line(M, 8, b"6,Sabrina (1995),Comedy"), quarantined=1,
         reason="duplicate"),
    Kind("movies-empty-title", replace_line(M, 9, b"8,,Adventure"), quarantined=1),
    Kind("movies-whitespace-title", replace_line(M, 9, b"8,   ,Adventure"), quarantined=1),
    Kind("movies-unterminated-quote-mid-file",
         replace_line(M, 10, b'9,"Sudden Death (1995),Action'), quarantined=1,
         reason="unterminated quote"),
    Kind("movies-bare-cr-in-title", replace_line(M, 10, b"9,Sudden\rDeath (1995),Action"),
         quarantined=1),
    Kind("movies-huge-title", replace_line(M, 10, b"9," + b"x" * 200_000 + b",Action"),
         quarantined=1, reason="limit"),
    Kind("movies-repeated-header", replace_line(M, 11, b"movieId,title,genres"), quarantined=1),
    Kind("movies-blank-lines", _edit(M, lambda d: d.replace(b"\r\n5,", b"\r\n\r\n  \r\n5,"))),
    Kind("movies-lf-endings", _edit(M, lambda d: d.replace(CRLF, b"\n"))),
    Kind("movies-bom", _edit(M, lambda d: b"\xef\xbb\xbf" + d)),
    Kind("movies-no-final-newline", _edit(M, lambda d: d.rstrip(CRLF))),
    Kind("movies-unknown-genre", replace_line(M, 12, b"11,Nixon 2 (1999),Telenovela")),
    Kind("movies-header-only-with-ratings", header_only(M), warning="no movies",
         orphans=len(MOVIES)),
    # -- movies.csv: unusable files -----------------------------------------------------------
    Kind("movies-semicolons", _edit(M, lambda d: d.replace(b",", b";")), unusable=M),
    Kind("movies-missing-column",
         _edit(M, lambda d: d.replace(b"movieId,title,genres", b"movieId,name,genres")),
         unusable=M),
    Kind("movies-utf16", _edit(M, lambda d: d.decode().encode("utf-16")), unusable=M),
    Kind("movies-empty-file", _edit(M, lambda d: b""), unusable=M),
    Kind("movies-missing", remove(M), unusable=M),
    Kind("movies-directory", as_directory(M), unusable=M),
    Kind("movies-dangling-symlink", symlink(M, "/nonexistent/movies.csv"), unusable=M),
    Kind("movies-truncated-gzip", gzip_file(M, cut=60), unusable=M),
    Kind("movies-gzip", gzip_file(M)),
    # -- links.csv ----------------------------------------------------------------------------
    Kind("links-unknown-movie", append(L, b"999,0999999,9999\r\n998,0999998,\r\n"),
         orphans=2),
    Kind("links-non-integer-imdb", replace_line(L, 3, b"2,tt-abc,862"), quarantined=1),
    Kind("links-duplicate", replace_line(L, 4, b"2,0114709,861"), quarantined=1,
         reason="duplicate"),
    Kind("links-empty-tmdb", replace_line(L, 5, b"4,0114712,")),
    Kind("links-header-only", header_only(L)),
    Kind("links-missing", remove(L)),
    Kind("links-truncated-mid-row", truncate_at(L, b"\r\n20,", 7), quarantined=1),
    # -- ratings.csv ----------------------------------------------------------------------------
    Kind("ratings-negative-timestamp", replace_line(R, 3, b"1,5,4.0,-1"), quarantined=1,
         reason="timestamp"),
    Kind("ratings-timestamp-beyond-int64", replace_line(R, 3, b"1,5,4.0,99999999999999999999"),
         quarantined=1, reason="timestamp"),
    Kind("ratings-float-timestamp", replace_line(R, 3, b"1,5,4.0,964982703.5"), quarantined=1),
    Kind("ratings-out-of-range", replace_line(R, 4, b"1,8,7.5,964982703"), quarantined=1,
         reason="half star"),
    Kind("ratings-not-half-star", replace_line(R, 4, b"1,8,3.3,964982703"), quarantined=1),
    Kind("ratings-nan", replace_line(R, 4, b"1,8,NaN,964982703"), quarantined=1),
    Kind("ratings-infinite", replace_line(R, 4, b"1,8,inf,964982703"), quarantined=1),
    Kind("ratings-user-zero", replace_line(R, 5, b"0,8,3.0,964982703"), quarantined=1),
    Kind("ratings-unicode-digits", replace_line(R, 5, "١,8,3.0,964982703".encode()),
         quarantined=1),
    Kind("ratings-unknown-movie", append(R, b"1,999,4.0,964982703\r\n2,998,3.5,964982703\r\n"),
         orphans=2),
    Kind("ratings-truncated-mid-row", _edit(R, lambda d: d + b"6,20,4."), quarantined=1),
    Kind("ratings-extra-field", replace_line(R, 6, b"2,1,4.0,964982703,x"), quarantined=1),
    Kind("ratings-empty-value", replace_line(R, 6, b"2,1,,964982703"), quarantined=1),
    Kind("ratings-nul-byte", replace_line(R, 6, b"2,1,4.0,9649\x0082703"), quarantined=1),
    Kind("ratings-latin1-byte", replace_line(R, 6, b"2,1,4.0,96498\xe92703"), quarantined=1),
    Kind("ratings-header-only", header_only(R)),
    Kind("ratings-gzip", gzip_file(R)),
    Kind("ratings-truncated-gzip", gzip_file(R, cut=80), unusable="ratings.csv.gz"),
    Kind("ratings-dangling-symlink", symlink(R, "/nonexistent/ratings.csv"), unusable=R),
    Kind("ratings-looping-symlink", looping_symlink(R), unusable=R),
    Kind("ratings-directory", as_directory(R), unusable=R),
    # -- tags.csv -----------------------------------------------------------------------------
    Kind("tags-empty-tag", replace_line(T, 3, b'2,4,"",1445714995'), quarantined=1),
    Kind("tags-unknown-movie", append(T, b"1,999,lost,1445714994\r\n"), orphans=1),
    Kind("tags-negative-timestamp", replace_line(T, 3, b"2,4,fun,-5"), quarantined=1),
    Kind("tags-unterminated-quote", replace_line(T, 4, b'3,7,"dark,1445714996'), quarantined=1),
    Kind("tags-dangling-symlink", symlink(T, "/nonexistent/tags.csv"), unusable=T),
    Kind("tags-looping-symlink", looping_symlink(T), unusable=T),
    # -- genome -------------------------------------------------------------------------------
    Kind("genome-relevance-out-of-range", replace_line(GS, 3, b"1,2,1.7"), quarantined=1),
    Kind("genome-truncated-mid-row", truncate_at(GS, b"10,3,", 3), quarantined=1),
    Kind("genome-unknown-tag", append(GS, b"1,99,0.5\r\n"), orphans=1),
    Kind("genome-unknown-movie", append(GS, b"999,1,0.5\r\n"), orphans=1),
    Kind("genome-scores-without-tags", remove(GT), unusable=GS),
    # -- IMDB-like sources --------------------------------------------------------------------
    Kind("tmdb-clean", imdb_file("tmdb_5000_movies.csv", tmdb_csv)),
    Kind("tmdb-malformed-json-list", imdb_file("tmdb_5000_movies.csv", _tmdb_with(
        _tmdb_row(3, genres='[{""id"": 18, ""name"": '))), quarantined=1, reason="genres"),
    Kind("tmdb-deeply-nested-list", imdb_file("tmdb_5000_movies.csv", _tmdb_with(
        _tmdb_row(3, genres=_deep(50_000)))), quarantined=1, reason="nested"),
    Kind("tmdb-truncated-in-quoted-field", imdb_file("tmdb_5000_movies.csv", lambda: tmdb_csv()[
        : tmdb_csv().rindex(b"A story about") + 5]), quarantined=1),
    Kind("tmdb-extra-field", imdb_file("tmdb_5000_movies.csv", _tmdb_with(_tmdb_row(3) + ",x")),
         quarantined=1),
    Kind("bright-ndjson-deep-nesting", imdb_file("bright_data.ndjson", _ndjson_with(
        b'{"title": "Deep", "url": "x", "storyline": "s", "top_cast": ' + _deep(100_000).encode()
        + b"}")), quarantined=1, reason="nested"),
    Kind("bright-ndjson-broken-line", imdb_file("bright_data.ndjson", _ndjson_with(
        b'{"title": "Broken", "url": ')), quarantined=1, reason="JSON"),
    Kind("bright-ndjson-huge-field", imdb_file("bright_data.ndjson", _ndjson_with(json.dumps(
        bright_record(6, storyline="x" * 200_000)).encode())), quarantined=1, reason="limit"),
    Kind("bright-ndjson-not-object", imdb_file("bright_data.ndjson", _ndjson_with(b"[1, 2]")),
         quarantined=1),
    Kind("bright-ndjson-latin1", imdb_file("bright_data.ndjson", _ndjson_with(
        b'{"title": "Caf\xe9", "url": "https://www.imdb.com/title/tt0114714/", '
        b'"storyline": "s", "top_cast": []}')), quarantined=1, reason="UTF-8"),
    Kind("bright-ndjson-truncated", imdb_file("bright_data.ndjson", lambda: ndjson(
        [bright_record(m) for m in range(1, 6)])[:-40]), quarantined=1),
    Kind("bright-ndjson-out-of-range", imdb_file("bright_data.ndjson", _ndjson_with(json.dumps(
        bright_record(7, imdb_rating=99, imdb_rating_count=-5)).encode()))),
    Kind("itemsapi-deep-item", imdb_file("itemsapi_imdb.json", _items_with(_deep(100_000))),
         quarantined=1, reason="nested"),
    Kind("itemsapi-non-object-item", imdb_file("itemsapi_imdb.json", _items_with("42")),
         quarantined=1),
    Kind("itemsapi-truncated", imdb_file("itemsapi_imdb.json", lambda: _items_with("{}")()[:-30]),
         unusable="itemsapi_imdb.json"),
    Kind("imdb-unknown-format", imdb_file("mystery.csv", b"a,b,c\r\n1,2,3\r\n"),
         unusable="mystery.csv"),
    Kind("imdb-empty-file", imdb_file("tmdb_5000_movies.csv", b""),
         unusable="tmdb_5000_movies.csv"),
    Kind("imdb-utf16", imdb_file("tmdb_5000_movies.csv", lambda: tmdb_csv().decode().encode(
        "utf-16")), unusable="tmdb_5000_movies.csv"),
    Kind("imdb-missing", lambda d: [d.parent / "absent.json"], unusable="absent.json"),
    # -- file sets ----------------------------------------------------------------------------
    Kind("release-ratings-and-tags-missing", both(remove(R), remove(T))),
    Kind("release-all-orphan-ratings", _edit(R, lambda d: re.sub(rb"\r\n(\d+),\d+,", lambda m: (
        b"\r\n" + m.group(1) + b",500,"), d)), orphans=40, warning="ratings"),
]  # fmt: skip
