"""End-to-end recommendation latency and cold demo time.

Usage: .venv/bin/python benchmarks/bench_recommend.py [--workdir DIR] [--runs N]
       .venv/bin/python benchmarks/bench_recommend.py --workdir DIR --cold-only --cold-runs 9

1. Cold ``movie-rag demo`` wall time in a fresh process and an empty workdir (Spark start,
   build, index, four answers), target <= 60 s.
2. Cold ``movie-rag recommend`` on the built workdir: a fresh process per question (imports,
   settings, catalogue and index load, query encode, answer), median of ``--cold-runs``,
   target <= 3 s on a quiet machine for the real build.
3. Warm ``RecommenderChain.invoke`` with the grounded generator over a set of distinct
   queries, p50/p95/p99, target p50 <= 60 ms. Uses the demo's workdir unless --workdir names
   another built workdir (e.g. one built from the real data).
Results: a table on stdout and JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

QUERIES = [
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
    "a sci-fi movie about time travel", "romantic comedies from the 90s",
    "movies with Tom Hanks", "films directed by Steven Spielberg", "a heist thriller",
    "animated movies for kids", "war movies rated above 8", "something like The Matrix",
    "a classic film noir", "feel-good musicals", "dark crime dramas", "westerns",
    "a mind-bending mystery", "space adventure", "movies like Alien", "a funny road trip",
    "documentaries about music", "best fantasy films", "a scary ghost story",
    "action movies from the 80s", "movies similar to Toy Story", "a courtroom drama",
    "superhero movies", "a love story set during war", "movies about dinosaurs",
    "Pixar movies", "an epic historical drama", "a psychological thriller",
]  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cold_demo(workdir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "movie_rag.cli", "demo", "--workdir", str(workdir), "--json"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def cold_recommend(workdir: Path, runs: int) -> dict[str, Any]:
    """Median wall time of a fresh ``movie-rag recommend`` process (the first run is kept).

    Each run is a new interpreter with a different question, so nothing but the operating
    system's file cache is warm; the first run also pays for a cold file cache.
    """
    timings = []
    load_before = os.getloadavg()
    for position in range(runs):
        query = QUERIES[position % len(QUERIES)]
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "movie_rag.cli", "recommend", "--workdir", str(workdir), query],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timings.append(time.perf_counter() - started)
    return {
        "workdir": str(workdir),
        "runs": len(timings),
        "first_s": round(timings[0], 2),
        "median_s": round(statistics.median(timings), 2),
        "min_s": round(min(timings), 2),
        "max_s": round(max(timings), 2),
        "all_s": [round(t, 2) for t in timings],
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def warm_latency(workdir: Path, runs: int) -> dict[str, float]:
    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.settings import MovieRagSettings

    chain = RecommenderChain.from_settings(MovieRagSettings(workdir=workdir))
    for query in QUERIES:  # warm-up: model load, first index load, BM25
        chain.invoke(query)
    timings = []
    for _ in range(runs):
        for query in QUERIES:
            started = time.perf_counter()
            chain.invoke(query)
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "queries": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 95), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "movies": len(chain.catalogue),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, help="an already built workdir to query")
    parser.add_argument("--runs", type=int, default=5, help="passes over the query set")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh `recommend` processes")
    parser.add_argument(
        "--cold-only",
        action="store_true",
        help="only the cold `recommend` processes on --workdir (no demo, no warm pass)",
    )
    args = parser.parse_args()
    if args.cold_only:
        if args.workdir is None:
            parser.error("--cold-only needs --workdir (a built workdir)")
        cold_query = cold_recommend(args.workdir, args.cold_runs)
        print(
            f"cold `movie-rag recommend`, {cold_query['runs']} fresh processes: median "
            f"{cold_query['median_s']} s, first {cold_query['first_s']} s, min "
            f"{cold_query['min_s']} s (target <= 3 s); load {cold_query['load_before']} -> "
            f"{cold_query['load_after']}"
        )
        out = REPO / "benchmarks" / "results"
        out.mkdir(parents=True, exist_ok=True)
        result = {"machine": {"cpus": os.cpu_count()}, "cold_recommend": cold_query}
        (out / "recommend_cold.json").write_text(json.dumps(result, indent=2) + "\n")
        return
    with tempfile.TemporaryDirectory() as tmp:
        demo_dir = Path(tmp) / "demo"
        cold = cold_demo(demo_dir)
        cold_query = cold_recommend(args.workdir or demo_dir, args.cold_runs)
        warm = warm_latency(args.workdir or demo_dir, args.runs)
    result = {
        "machine": {"cpus": os.cpu_count(), "load": os.getloadavg()},
        "cold_demo_seconds": round(cold, 1),
        "cold_recommend": cold_query,
        "warm_recommend": warm,
    }
    print(f"cold `movie-rag demo`: {cold:.1f} s (target <= 60 s)")
    print(
        f"cold `movie-rag recommend`, {cold_query['runs']} fresh processes: median "
        f"{cold_query['median_s']} s, first {cold_query['first_s']} s (target <= 3 s)"
    )
    print(
        f"warm recommend over {warm['movies']:,} movies, {warm['queries']} queries: "
        f"p50 {warm['p50_ms']} ms, p95 {warm['p95_ms']} ms, p99 {warm['p99_ms']} ms "
        "(target p50 <= 60 ms)"
    )
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "recommend.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
