"""The corruption corpus through the real ``movie-rag build``: every record accounted for.

Each kind of :mod:`hardening_corpus` breaks a small generated MovieLens release (or adds a
broken IMDB-like file) and the command line runs in-process on the shared Spark session. A
usable input must come out with, for every file, ``rows_in`` equal to the records counted
here independently and to ``rows_loaded + rows_quarantined``, each quarantined row naming its
file and line; an unusable one must stop with exit code 2 and a one-line error naming the
file. No kind may produce a traceback.

To keep the corpus fast, usable kinds that break different files share one build (one kind
per MovieLens file, any number of IMDB files); a kind's own checks look at its file only.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hardening_corpus import (
    KINDS,
    Kind,
    imdb_file,
    itemsapi_record,
    ndjson,
    records_in,
    write_release,
)
from typer.testing import CliRunner

from movie_rag.cli import app

pytestmark = [pytest.mark.spark]

# The collaborative model has its own tests; here it would only add Spark jobs per build.
ENV = {"MOVIE_RAG_COLLAB_ENABLED": "false", "COLUMNS": "400"}
_IMDB_PREFIXES = {"tmdb": "imdb_tmdb_5000", "bright": "imdb_bright_data",
                  "itemsapi": "imdb_itemsapi", "imdb": "imdb_"}  # fmt: skip
_SOURCES = {"movies": ("movielens_movies",), "links": ("movielens_links",),
            "ratings": ("movielens_ratings",), "tags": ("movielens_tags",),
            "genome": ("movielens_genome",), "release": ("movielens_",)}  # fmt: skip
_ORPHANS = {"movies": "", "links": "links", "ratings": "ratings", "tags": "tags",
            "genome": "genome", "release": ""}  # fmt: skip


def _slot(kind: Kind) -> str:
    prefix = kind.name.split("-")[0]
    return "imdb" if prefix in _IMDB_PREFIXES else prefix


def _batches() -> dict[str, int]:
    """Kind name → batch number: unusable kinds alone, usable ones one per MovieLens file."""
    batch_of: dict[str, int] = {}
    filled: dict[int, set[str]] = defaultdict(set)
    next_alone = 1000
    for kind in KINDS:
        slot = _slot(kind)
        if kind.unusable is not None or slot == "release":
            batch_of[kind.name] = next_alone
            next_alone += 1
            continue
        number = 0
        while slot in filled[number] and slot != "imdb":
            number += 1
        filled[number].add(slot)
        batch_of[kind.name] = number
    return batch_of


BATCH_OF = _batches()


class _Build:
    def __init__(self, root: Path, kinds: list[Kind]) -> None:
        self.release = write_release(root / "ml")
        self.imdb = [path for kind in kinds for path in kind.mutate(self.release)]
        args = ["build", "--movielens", str(self.release), "--workdir", str(root / "wd"), "--json"]
        for path in self.imdb:
            args += ["--imdb", str(path)]
        started = time.perf_counter()
        self.result = CliRunner().invoke(app, args, env=ENV)
        self.seconds = time.perf_counter() - started
        self.output = self.result.stdout + self.result.stderr
        self.report: dict[str, Any] = {}
        self.quarantined: list[dict[str, Any]] = []
        if self.result.exit_code == 0:
            self.report = json.loads(self.result.stdout)
            where = root / "wd" / "quarantine"
            if any(where.rglob("*.parquet")):
                self.quarantined = pq.read_table(where).to_pylist()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, spark: object) -> Any:
    done: dict[int, _Build] = {}

    def get(kind: Kind) -> _Build:
        number = BATCH_OF[kind.name]
        if number not in done:
            kinds = [k for k in KINDS if BATCH_OF[k.name] == number]
            done[number] = _Build(tmp_path_factory.mktemp(f"batch{number}"), kinds)
        return done[number]

    started = time.perf_counter()
    yield get
    usable = sum(1 for n in done if n < 1000)
    print(
        f"\ncorruption corpus: {len(KINDS)} kinds in {len(done)} builds ({usable} usable), "
        f"{time.perf_counter() - started:.1f} s"
    )


def _input_files(build: _Build) -> list[Path]:
    files = [p for p in sorted(build.release.iterdir()) if p.is_file() and ".loop" not in p.name]
    return files + [p for p in build.imdb if p.is_file()]


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_kind(builds: Any, kind: Kind) -> None:
    build = builds(kind)
    result = build.result
    assert "Traceback" not in build.output, build.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{kind.name}: {result.exception!r}") from result.exception
    if kind.unusable is not None:
        assert result.exit_code == 2, build.output
        error = json.loads(result.stdout)["error"]
        assert kind.unusable in error and "\n" not in error, error
        return
    assert result.exit_code == 0, build.output
    report = build.report
    by_path = {i["path"]: i for i in report["inputs"]}
    for path in _input_files(build):
        summary = by_path.get(str(path))
        assert summary is not None, f"{path.name} is not in the report: {sorted(by_path)}"
        counted = records_in(path)
        assert summary["rows_in"] == counted, (path.name, summary, counted)
        assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_quarantined"], summary
        rows = [q for q in build.quarantined if q["path"] == str(path)]
        assert len(rows) == summary["rows_quarantined"], (path.name, rows)
        assert all(q["row"] >= 1 and q["reason"] for q in rows), rows
    slot = _slot(kind)
    prefixes = _SOURCES.get(slot) or (_IMDB_PREFIXES[kind.name.split("-")[0]],)
    own = [q for q in build.quarantined if q["source"].startswith(prefixes)]
    assert len(own) >= kind.quarantined, own
    if kind.reason:
        assert any(kind.reason in q["reason"] or kind.reason == q["field"] for q in own), own
    if kind.orphans:
        role = _ORPHANS[slot]
        orphans = sum(v for k, v in report["orphans"].items() if k.startswith(role))
        assert orphans >= kind.orphans, report["orphans"]
    if kind.warning:
        assert any(kind.warning in w for w in report["warnings"]), report["warnings"]


def test_corpus_is_large_enough() -> None:
    assert len(KINDS) >= 60
    assert len({k.name for k in KINDS}) == len(KINDS)


# -- implausible values: nulled and counted per field, the record kept -----------------------

# One implausible value says nothing about the rest of its record (title, overview, cast): the
# value becomes null, the record is loaded, and the report counts the value under its field.
_OUT_OF_RANGE = [
    itemsapi_record(1) | {"rating": 11.5},
    itemsapi_record(2) | {"votes": -3},
    itemsapi_record(3) | {"runtime": -10},
    itemsapi_record(4) | {"runtime": 10**7},
    itemsapi_record(5) | {"year": 1500},
    itemsapi_record(6) | {"rating": -0.5, "votes": 10**13},
    itemsapi_record(7),
]


def test_out_of_range_values_are_nulled_and_counted_per_field(
    tmp_path: Path, spark: object
) -> None:
    kind = Kind("itemsapi-out-of-range", imdb_file("itemsapi_imdb.json", ndjson(_OUT_OF_RANGE)))
    build = _Build(tmp_path, [kind])
    assert build.result.exit_code == 0 and "Traceback" not in build.output, build.output
    (path,) = build.imdb
    summary = next(i for i in build.report["inputs"] if i["path"] == str(path))
    assert summary["rows_in"] == records_in(path) == len(_OUT_OF_RANGE)
    assert summary["rows_loaded"] == len(_OUT_OF_RANGE) and summary["rows_quarantined"] == 0
    assert summary["values_nulled"] == {
        "imdb_rating: out of range 0-10": 2,
        "runtime: out of range 1-100,000": 2,
        "votes: out of range 0-1,000,000,000,000": 2,
        "year: out of range 1870-2100": 1,
    }
    warning = next(w for w in build.report["warnings"] if str(path) in w)
    assert "values set to null, records kept (first at row 1)" in warning, warning
