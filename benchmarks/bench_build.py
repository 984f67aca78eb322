"""Time ingest + build of movies_info on the real data (../shared/data).

Usage: .venv/bin/python benchmarks/bench_build.py [--data DIR] [--runs N]

Reports each stage (read, Spark start, bronze tables, movies_info) for a cold build into an
empty workdir and for a warm re-build (same session, nothing changed), as a table on stdout
and JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from movie_rag.pipeline import build_catalogue
from movie_rag.settings import MovieRagSettings
from movie_rag.spark import get_spark

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--runs", type=int, default=2, help="warm re-builds to time")
    args = parser.parse_args()
    imdb = args.data / "imdb"
    inputs = dict(
        movielens_dir=args.data / "ml-latest-small",
        imdb_paths=[
            imdb / "movies_metadata.head5000.csv",
            imdb / "tmdb_5000_movies.csv",
            imdb / "imdb_top_1000.csv",
            imdb / "itemsapi_imdb.json",
        ],
        genome_dir=args.data / "ml-genome",
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = MovieRagSettings(workdir=tmp, spark_master="local[2]")
        started = time.perf_counter()
        cold = build_catalogue(
            settings, inputs["movielens_dir"], inputs["imdb_paths"], genome_dir=inputs["genome_dir"]
        )
        cold_total = time.perf_counter() - started
        spark = get_spark(settings)
        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            build_catalogue(
                settings,
                inputs["movielens_dir"],
                inputs["imdb_paths"],
                genome_dir=inputs["genome_dir"],
                spark=spark,
            )
            warm.append(time.perf_counter() - started)
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "rows": cold.rows,
        "cold_seconds": round(cold_total, 2),
        "cold_stages": cold.timings,
        "warm_seconds": [round(w, 2) for w in warm],
    }
    print(f"movies_info rows: {cold.rows:,}")
    print(f"cold build (incl. Spark start): {cold_total:6.1f} s")
    for stage, seconds in cold.timings.items():
        print(f"  {stage:<28} {seconds:6.1f} s")
    print(f"warm re-build (session reused): {min(warm):6.1f} s (best of {len(warm)})")
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "build.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
