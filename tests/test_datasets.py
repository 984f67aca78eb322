from __future__ import annotations

import csv
import io
import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from movie_rag.catalog.titles import parse_movielens_title
from movie_rag.datasets import (
    DATA_HOME_ENV,
    SampleCatalogue,
    fetch_movielens,
    get_data_home,
    sample_catalogue,
    sha256_file,
)
from movie_rag.errors import DownloadError
from movie_rag.ingest.quality import Quarantine, read_csv_records, read_json_records

REPO_ROOT = Path(__file__).resolve().parents[1]
RELEASE_FILES = ("movies.csv", "links.csv", "ratings.csv", "tags.csv", "README.txt")
# From SOURCES.md: the digest of the genuine ml-latest-small movies.csv.
MOVIES_SHA256 = "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07"
ML_GENRES = {
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
}  # fmt: skip
RELEASE_DATE = re.compile(r"[A-Z][a-z]+ \d{1,2}, \d{4} \([A-Za-z ]+\)")
# A sentence ends after a word of 3+ lower-case letters, so "J.J." and "Mrs." do not count.
SENTENCE_END = re.compile(r"(?<=[a-z]{3}[.!?])\s+(?=[A-Z])")


# -- a real HTTP server on loopback ------------------------------------------------------


@dataclass
class FileServer:
    """Serves ``files`` (URL path → bytes) on 127.0.0.1 and records every request path."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[FileServer]:
    state = FileServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/datasets/movielens"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def release_zip(source: Path, top: str, changes: dict[str, bytes] | None = None) -> bytes:
    """A GroupLens-style zip (``<top>/<file>``) of the real files, some replaced by ``changes``."""
    changes = changes or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{top}/", b"")
        for name in RELEASE_FILES:
            data = changes.get(name, (source / name).read_bytes())
            archive.writestr(f"{top}/{name}", data)
    return buffer.getvalue()


def leftovers(home: Path, variant: str) -> list[str]:
    """Anything in the cache besides the release, its checksums and its lock file."""
    expected = {variant, f"{variant}.sha256", f".{variant}.lock"}
    return sorted(p.name for p in home.iterdir() if p.name not in expected)


@pytest.fixture
def small(shared_data: Path) -> Path:
    return shared_data / "ml-latest-small"


# -- fetch_movielens -----------------------------------------------------------------------


def test_fetch_downloads_extracts_and_verifies(
    server: FileServer, small: Path, tmp_path: Path
) -> None:
    server.files["/datasets/movielens/ml-latest-small.zip"] = release_zip(small, "ml-latest-small")

    release = fetch_movielens("ml-latest-small", tmp_path, base_url=server.url)

    assert release == tmp_path / "ml-latest-small"
    assert sorted(p.name for p in release.iterdir()) == sorted(RELEASE_FILES)
    assert sha256_file(release / "movies.csv") == MOVIES_SHA256
    for name in RELEASE_FILES:
        assert (release / name).read_bytes() == (small / name).read_bytes()
    recorded = (tmp_path / "ml-latest-small.sha256").read_text(encoding="utf-8")
    assert f"{MOVIES_SHA256}  movies.csv" in recorded.splitlines()
    assert server.requests == ["/datasets/movielens/ml-latest-small.zip"]
    assert leftovers(tmp_path, "ml-latest-small") == []


def test_second_call_uses_the_verified_cache_without_a_request(
    server: FileServer, small: Path, tmp_path: Path
) -> None:
    server.files["/datasets/movielens/ml-latest-small.zip"] = release_zip(small, "ml-latest-small")

    first = fetch_movielens("ml-latest-small", tmp_path, base_url=server.url)
    second = fetch_movielens("ml-latest-small", tmp_path, base_url=server.url)
    assert first == second
    assert len(server.requests) == 1

    fetch_movielens("ml-latest-small", tmp_path, base_url=server.url, force=True)
    assert len(server.requests) == 2
    assert sha256_file(first / "movies.csv") == MOVIES_SHA256
    assert leftovers(tmp_path, "ml-latest-small") == []


def test_tampered_file_in_the_served_zip_is_rejected(
    server: FileServer, small: Path, tmp_path: Path
) -> None:
    tampered = (small / "movies.csv").read_bytes() + b"999999,Fake Movie (2030),Drama\r\n"
    server.files["/datasets/movielens/ml-latest-small.zip"] = release_zip(
        small, "ml-latest-small", {"movies.csv": tampered}
    )

    with pytest.raises(DownloadError) as caught:
        fetch_movielens("ml-latest-small", tmp_path, base_url=server.url)

    message = str(caught.value)
    assert f"{server.url}/ml-latest-small.zip" in message
    assert "movies.csv" in message
    assert MOVIES_SHA256 in message
    assert fetch_sha(tampered) in message
    # Nothing half-verified was installed and no temporary files remain.
    assert not (tmp_path / "ml-latest-small").exists()
    assert leftovers(tmp_path, "ml-latest-small") == []


def fetch_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_unfrozen_release_records_digests_then_detects_a_change(
    server: FileServer, small: Path, tmp_path: Path
) -> None:
    path = "/datasets/movielens/ml-latest.zip"
    server.files[path] = release_zip(small, "ml-latest")

    release = fetch_movielens("ml-latest", tmp_path, base_url=server.url)

    checksums = tmp_path / "ml-latest.sha256"
    recorded = dict(
        reversed(line.split("  ", 1)) for line in checksums.read_text("utf-8").splitlines()
    )
    assert recorded == {name: sha256_file(small / name) for name in RELEASE_FILES}

    # GroupLens publishes a changed ratings.csv under the same name.
    changed = (small / "ratings.csv").read_bytes().replace(b",4.0,", b",3.5,", 1)
    server.files[path] = release_zip(small, "ml-latest", {"ratings.csv": changed})

    # A plain call trusts the verified cache and asks nothing of the server...
    assert fetch_movielens("ml-latest", tmp_path, base_url=server.url) == release
    assert len(server.requests) == 1

    # ...a forced re-download compares the new files with the recorded digests.
    with pytest.raises(DownloadError) as caught:
        fetch_movielens("ml-latest", tmp_path, base_url=server.url, force=True)
    message = str(caught.value)
    assert "ratings.csv" in message
    assert recorded["ratings.csv"] in message
    assert fetch_sha(changed) in message
    assert str(checksums) in message
    assert len(server.requests) == 2
    # The cached copy is untouched and still verifies.
    assert sha256_file(release / "ratings.csv") == recorded["ratings.csv"]
    assert fetch_movielens("ml-latest", tmp_path, base_url=server.url) == release
    assert leftovers(tmp_path, "ml-latest") == []


def test_a_cached_file_changed_on_disk_is_detected_and_force_repairs_it(
    server: FileServer, small: Path, tmp_path: Path
) -> None:
    server.files["/datasets/movielens/ml-latest-small.zip"] = release_zip(small, "ml-latest-small")
    release = fetch_movielens("ml-latest-small", tmp_path, base_url=server.url)
    with (release / "tags.csv").open("ab") as handle:
        handle.write(b"1,1,edited by hand,1\r\n")

    with pytest.raises(DownloadError) as caught:
        fetch_movielens("ml-latest-small", tmp_path, base_url=server.url)
    message = str(caught.value)
    assert str(release / "tags.csv") in message
    assert sha256_file(small / "tags.csv") in message
    assert "force=True" in message
    assert len(server.requests) == 1

    fetch_movielens("ml-latest-small", tmp_path, base_url=server.url, force=True)
    assert sha256_file(release / "tags.csv") == sha256_file(small / "tags.csv")
    assert leftovers(tmp_path, "ml-latest-small") == []


def test_a_release_directory_without_checksums_is_downloaded_again(
    server: FileServer, small: Path, tmp_path: Path
) -> None:
    server.files["/datasets/movielens/ml-32m.zip"] = release_zip(small, "ml-32m")
    stale = tmp_path / "ml-32m"
    stale.mkdir()
    (stale / "movies.csv").write_text("movieId,title,genres\r\n", encoding="utf-8")

    release = fetch_movielens("ml-32m", tmp_path, base_url=server.url)

    assert len(server.requests) == 1
    assert sha256_file(release / "movies.csv") == MOVIES_SHA256
    assert (tmp_path / "ml-32m.sha256").is_file()
    assert leftovers(tmp_path, "ml-32m") == []


def test_a_zip_in_a_local_folder_is_read_through_a_file_url(small: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "ml-latest-small.zip").write_bytes(release_zip(small, "ml-latest-small"))

    release = fetch_movielens("ml-latest-small", tmp_path / "cache", base_url=mirror.as_uri())

    assert sha256_file(release / "movies.csv") == MOVIES_SHA256
    assert leftovers(tmp_path / "cache", "ml-latest-small") == []


def test_http_404_names_the_url(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as caught:
        fetch_movielens("ml-25m", tmp_path, base_url=server.url)

    message = str(caught.value)
    assert f"{server.url}/ml-25m.zip" in message
    assert "404" in message
    assert "base_url=" in message  # says what to do
    assert not (tmp_path / "ml-25m").exists()
    assert leftovers(tmp_path, "ml-25m") == []


def test_unreachable_server_is_a_download_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is closed again: nothing listens there.
    url = f"http://127.0.0.1:{port}/movielens"

    with pytest.raises(DownloadError, match=re.escape(f"{url}/ml-20m.zip")):
        fetch_movielens("ml-20m", tmp_path, base_url=url, timeout=5)
    assert leftovers(tmp_path, "ml-20m") == []


def test_a_broken_zip_is_a_download_error(server: FileServer, tmp_path: Path) -> None:
    server.files["/datasets/movielens/ml-100k.zip"] = b"<html>maintenance</html>"

    with pytest.raises(DownloadError, match="not a readable zip"):
        fetch_movielens("ml-100k", tmp_path, base_url=server.url)
    assert leftovers(tmp_path, "ml-100k") == []


@pytest.mark.parametrize(
    ("entry", "problem"),
    [("../escaped.txt", "unexpected entry"), ("ml-20m/movies.csv", "holds ml-20m/")],
)
def test_zip_entries_outside_the_release_folder_are_refused(
    server: FileServer, tmp_path: Path, entry: str, problem: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(entry, b"x")
    server.files["/datasets/movielens/ml-25m.zip"] = buffer.getvalue()
    home = tmp_path / "cache"

    with pytest.raises(DownloadError, match=problem):
        fetch_movielens("ml-25m", home, base_url=server.url)
    assert not (tmp_path / "escaped.txt").exists()
    assert leftovers(home, "ml-25m") == []


def test_unknown_variant_is_refused_before_any_download(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ml-latest-small"):
        fetch_movielens("ml-1b", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_data_home_comes_from_the_argument_then_the_environment(
    server: FileServer, small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path / "from_env"))
    assert get_data_home() == tmp_path / "from_env"
    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv(DATA_HOME_ENV)
    assert get_data_home() == Path.home() / ".cache" / "movie_rag"

    monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path / "from_env"))
    server.files["/datasets/movielens/ml-latest-small.zip"] = release_zip(small, "ml-latest-small")
    release = fetch_movielens(base_url=server.url)
    assert release == tmp_path / "from_env" / "ml-latest-small"


# -- the bundled sample ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> SampleCatalogue:
    return sample_catalogue()


def read_sample_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    quarantine = Quarantine()
    rows = [
        record.values
        for record in read_csv_records(
            path, source=path.stem, required=required, quarantine=quarantine
        )
    ]
    assert quarantine.count() == 0, quarantine.rows
    return rows


@pytest.fixture(scope="module")
def movies(sample: SampleCatalogue) -> list[dict[str, str]]:
    return read_sample_csv(sample.movielens_dir / "movies.csv", ("movieId", "title", "genres"))


@pytest.fixture(scope="module")
def links(sample: SampleCatalogue) -> list[dict[str, str]]:
    return read_sample_csv(sample.movielens_dir / "links.csv", ("movieId", "imdbId", "tmdbId"))


@pytest.fixture(scope="module")
def ratings(sample: SampleCatalogue) -> list[dict[str, str]]:
    columns = ("userId", "movieId", "rating", "timestamp")
    return read_sample_csv(sample.movielens_dir / "ratings.csv", columns)


@pytest.fixture(scope="module")
def records(sample: SampleCatalogue) -> list[dict[str, Any]]:
    [path] = sample.imdb_paths
    quarantine = Quarantine()
    items = [item for _, item in read_json_records(path, source="bright", quarantine=quarantine)]
    assert quarantine.count() == 0
    return items


def test_sample_catalogue_points_at_the_packaged_files(sample: SampleCatalogue) -> None:
    for name in ("movies.csv", "links.csv", "ratings.csv", "tags.csv"):
        assert (sample.movielens_dir / name).is_file()
    assert [p.name for p in sample.imdb_paths] == ["bright_data_sample.json"]
    assert (sample.movielens_dir.parent / "README.md").is_file()


def test_sample_uses_the_genuine_movielens_layout(sample: SampleCatalogue) -> None:
    for name in ("movies.csv", "links.csv", "ratings.csv", "tags.csv"):
        data = (sample.movielens_dir / name).read_bytes()
        # CRLF everywhere, like the GroupLens files; no BOM.
        assert data.count(b"\r\n") == data.count(b"\n") > 1
        assert not data.startswith(b"\xef\xbb\xbf")


def test_sample_movies_have_unique_ids_and_one_link_each(
    movies: list[dict[str, str]], links: list[dict[str, str]]
) -> None:
    movie_ids = [int(m["movieId"]) for m in movies]
    assert 90 <= len(movie_ids) == len(set(movie_ids)) <= 130
    assert [int(link["movieId"]) for link in links] == movie_ids
    imdb_ids = [link["imdbId"] for link in links]
    assert len(set(imdb_ids)) == len(imdb_ids)
    assert all(re.fullmatch(r"\d{7}", i) for i in imdb_ids)
    assert all(link["tmdbId"].isdigit() for link in links)


def test_sample_titles_and_genres_are_in_movielens_form(movies: list[dict[str, str]]) -> None:
    parsed = [parse_movielens_title(m["title"]) for m in movies]
    years = [p.year for p in parsed]
    assert None not in years
    assert {y // 10 * 10 for y in years if y} >= set(range(1940, 2020, 10))
    assert sum(bool(re.search(r", (The|A) \(", m["title"])) for m in movies) >= 2
    assert any(not m["title"].isascii() for m in movies)
    assert "The Matrix" in {p.title for p in parsed}
    genres = Counter(g for m in movies for g in m["genres"].split("|"))
    assert set(genres) == ML_GENRES


def test_sample_facts_are_the_real_movielens_ones(
    movies: list[dict[str, str]], links: list[dict[str, str]], small: Path
) -> None:
    with (small / "movies.csv").open(encoding="utf-8", newline="") as handle:
        real_movies = {row["movieId"]: row for row in csv.DictReader(handle)}
    with (small / "links.csv").open(encoding="utf-8", newline="") as handle:
        real_links = {row["movieId"]: row for row in csv.DictReader(handle)}
    for movie in movies:
        assert movie == real_movies[movie["movieId"]]
    for link in links:
        assert link == real_links[link["movieId"]]


def test_sample_covers_the_four_example_questions(
    movies: list[dict[str, str]], records: list[dict[str, Any]]
) -> None:
    genres = {m["movieId"]: set(m["genres"].split("|")) for m in movies}
    titles = {parse_movielens_title(m["title"]).title for m in movies}
    # "Suggest me the best horror movie, that can scare anyone."
    assert sum("Horror" in g for g in genres.values()) >= 8
    # "Movies similar to Jurassic Park": the film itself plus its kind of neighbours.
    assert {"Jurassic Park", "The Lost World: Jurassic Park", "Jurassic World"} <= titles
    assert sum({"Adventure", "Sci-Fi"} <= g for g in genres.values()) >= 8
    # Feel-good mood lifters and crowd-pleasers to watch with friends.
    assert sum("Comedy" in g for g in genres.values()) >= 10
    assert sum(bool(g & {"Children", "Animation", "Musical"}) for g in genres.values()) >= 10
    popular_comedies = [
        r for r in records if "Comedy" in r["genres"] and (r.get("imdb_rating_count") or 0) > 3e5
    ]
    assert len(popular_comedies) >= 8


def test_bright_data_records_match_the_links(
    links: list[dict[str, str]], records: list[dict[str, Any]]
) -> None:
    expected = {"tt" + link["imdbId"] for link in links}
    url_ids = []
    for record in records:
        match = re.fullmatch(r"https://www\.imdb\.com/title/(tt\d{7,})/", record["url"])
        assert match, record["url"]
        assert record["id"] == match.group(1)
        url_ids.append(match.group(1))
    assert len(url_ids) == len(set(url_ids))
    assert set(url_ids) == expected


def test_bright_data_records_follow_the_schema(records: list[dict[str, Any]]) -> None:
    required = {"id", "title", "url", "media_type", "genres", "presentation", "credit"}
    optional = {
        "imdb_rating", "imdb_rating_count", "popularity", "storyline", "top_cast",
        "details_release_date", "details_countries_of_origin", "details_language", "awards",
        "boxoffice_budget",
    }  # fmt: skip
    patchy = 0
    for record in records:
        assert required <= set(record) <= required | optional, record["title"]
        assert record["credit"][0]["title"] in {"Director", "Directors"}
        assert all(isinstance(c["names"], list) and c["names"] for c in record["credit"])
        for cast in record.get("top_cast") or []:
            assert set(cast) == {"name", "character"}
        if record.get("imdb_rating") is not None:
            assert 1 <= record["imdb_rating"] <= 10
            assert isinstance(record["imdb_rating_count"], int)
        if record.get("details_release_date"):
            assert RELEASE_DATE.fullmatch(record["details_release_date"]), record["title"]
        if record.get("boxoffice_budget"):
            assert record["boxoffice_budget"].endswith(" (estimated)")
        sentences = SENTENCE_END.split(record.get("storyline") or "")
        assert record.get("storyline") is None or 2 <= len(sentences) <= 4, record["title"]
        core = {"imdb_rating", "storyline", "top_cast", "details_release_date", "popularity"}
        patchy += any(record.get(name) is None for name in core)
    assert 2 <= patchy <= 4


def test_people_recur_so_people_filters_have_matches(records: list[dict[str, Any]]) -> None:
    directors = Counter(
        name for r in records for c in r["credit"] if c["title"].startswith("Director")
        for name in c["names"]
    )  # fmt: skip
    actors = Counter(c["name"] for r in records for c in r.get("top_cast") or [])
    assert directors["Steven Spielberg"] >= 5
    assert sum(count >= 3 for count in directors.values()) >= 3
    assert sum(count >= 3 for count in actors.values()) >= 3


def test_descriptions_are_not_copied_from_the_real_overviews(
    records: list[dict[str, Any]], shared_data: Path
) -> None:
    def shingles(text: str, n: int = 8) -> set[str]:
        words = re.findall(r"[a-z0-9']+", text.lower())
        return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}

    imdb = shared_data / "imdb"
    texts: list[str] = []
    for name, columns in (
        ("movies_metadata.head5000.csv", ("overview", "tagline")),
        ("tmdb_5000_movies.csv", ("overview", "tagline")),
        ("imdb_top_1000.csv", ("Overview",)),
    ):
        with (imdb / name).open(encoding="utf-8", newline="") as handle:
            texts += [row[c] for row in csv.DictReader(handle) for c in columns]
    for item in json.loads((imdb / "itemsapi_imdb.json").read_text("utf-8")):
        texts += [item["description"], item["storyline"]]
    published = set().union(*(shingles(t) for t in texts))

    for record in records:
        ours = shingles(record["presentation"]) | shingles(record.get("storyline") or "")
        assert not ours & published, record["title"]


def test_synthetic_ratings_are_half_stars_by_about_thirty_users(
    ratings: list[dict[str, str]], movies: list[dict[str, str]]
) -> None:
    assert 2000 <= len(ratings) <= 5000
    users = {r["userId"] for r in ratings}
    assert 25 <= len(users) <= 35
    keys = [(int(r["userId"]), int(r["movieId"])) for r in ratings]
    assert keys == sorted(set(keys))  # MovieLens order, one rating per user and movie
    for row in ratings:
        value = float(row["rating"])
        assert 0.5 <= value <= 5.0 and value * 2 == int(value * 2)
        assert re.fullmatch(r"\d\.\d", row["rating"])
        assert row["timestamp"].isdigit()
    per_movie = Counter(r["movieId"] for r in ratings)
    assert set(per_movie) == {m["movieId"] for m in movies}
    assert min(per_movie.values()) >= 3


def test_well_regarded_movies_rate_higher(
    ratings: list[dict[str, str]],
    links: list[dict[str, str]],
    records: list[dict[str, Any]],
) -> None:
    imdb = {r["id"]: r.get("imdb_rating") for r in records}
    by_movie: defaultdict[str, list[float]] = defaultdict(list)
    for row in ratings:
        by_movie[row["movieId"]].append(float(row["rating"]))
    pairs = [
        (imdb["tt" + link["imdbId"]], statistics.mean(by_movie[link["movieId"]]))
        for link in links
        if imdb["tt" + link["imdbId"]] is not None
    ]
    assert statistics.correlation([p[0] for p in pairs], [p[1] for p in pairs]) > 0.5


def test_ratings_generator_reproduces_the_file_byte_for_byte(
    sample: SampleCatalogue, tmp_path: Path
) -> None:
    output = tmp_path / "ratings.csv"
    script = REPO_ROOT / "scripts" / "make_sample_ratings.py"
    subprocess.run(
        [sys.executable, str(script), "--sample-dir", str(sample.movielens_dir.parent),
         "--output", str(output)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert output.read_bytes() == (sample.movielens_dir / "ratings.csv").read_bytes()


def test_sample_tags_are_by_sample_users_on_sample_movies(
    sample: SampleCatalogue, ratings: list[dict[str, str]], movies: list[dict[str, str]]
) -> None:
    columns = ("userId", "movieId", "tag", "timestamp")
    tags = read_sample_csv(sample.movielens_dir / "tags.csv", columns)
    assert len(tags) >= 20
    assert {t["userId"] for t in tags} <= {r["userId"] for r in ratings}
    assert {t["movieId"] for t in tags} <= {m["movieId"] for m in movies}
    assert any("," in t["tag"] for t in tags)  # a quoted field, as in the real tags.csv
