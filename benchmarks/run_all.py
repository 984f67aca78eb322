"""Every benchmark in one command, results as one JSON and one table.

Usage::

    .venv/bin/python benchmarks/run_all.py --workdir /tmp/realwd [--data ../shared/data]
        [--only build,index,recommend,serving,scaling,evaluate] [--quick]

Runs, one after the other (never two heavy jobs at once on a 2-core machine), the scripts
in this directory, each in its own process:

``build``      bench_build.py: ingest + movies_info on the real data, cold and warm
``index``      bench_index.py: embedding throughput vs raw encode, query latency vs raw FAISS,
               incremental sync (on 2,000 rows of the workdir's movies_info)
``recommend``  bench_recommend.py: cold demo, warm end-to-end recommend latency
``serving``    bench_serving.py: the served model under 8 concurrent clients
``scaling``    bench_scaling.py: synthetic sizes up to 20k movies / 5M ratings, ml-25m
               extrapolated
``evaluate``   bench_evaluate.py: ``movie-rag evaluate`` wall time and grounding under an
               adversarial LLM

If ``--workdir`` holds no build yet, it is built from ``--data`` first (``movie-rag build``;
the first full embedding takes minutes). ``--quick`` shortens every run (fewer queries, one
small scaling sizes, the reduced protocol, and no ``build`` stage unless ``--only`` names it,
since its cold build embeds the whole catalogue) to check the machinery, not to measure.
Results: ``benchmarks/results/summary.json`` (every script's JSON plus the machine and the
key ratios) and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "benchmarks"
RESULTS = HERE / "results"
PYTHON = sys.executable
STAGES = ("build", "index", "recommend", "serving", "scaling", "evaluate")
REAL_IMDB = (
    "movies_metadata.head5000.csv",
    "tmdb_5000_movies.csv",
    "imdb_top_1000.csv",
    "itemsapi_imdb.json",
)


def commands(stage: str, workdir: Path, data: Path, quick: bool, scratch: Path) -> list[str]:
    if stage == "build":
        return [PYTHON, str(HERE / "bench_build.py"), "--data", str(data), "--runs", "1"]
    if stage == "index":
        limit = "300" if quick else "2000"
        queries = "500"
        table = workdir / "tables" / "movies_info"
        return [PYTHON, str(HERE / "bench_index.py"), "--table", str(table), "--limit", limit,
                "--queries", queries, "--out", str(scratch)]  # fmt: skip
    if stage == "recommend":
        runs = "1" if quick else "5"
        return [PYTHON, str(HERE / "bench_recommend.py"), "--workdir", str(workdir), "--runs", runs]
    if stage == "serving":
        seconds = "5" if quick else "30"
        return [
            PYTHON,
            str(HERE / "bench_serving.py"),
            "--workdir",
            str(workdir),
            "--seconds",
            seconds,
        ]
    if stage == "scaling":
        sizes = (
            "500x20000,1000x50000,2000x100000"
            if quick
            else "2000x200000,8000x1000000,20000x5000000"
        )
        return [PYTHON, str(HERE / "bench_scaling.py"), "--sizes", sizes]
    if stage == "evaluate":
        return [PYTHON, str(HERE / "bench_evaluate.py"), "--workdir", str(workdir)] + (
            ["--reduced"] if quick else []
        )
    raise ValueError(stage)


def result_of(stage: str, scratch: Path) -> dict[str, Any]:
    if stage == "index":
        found = sorted(scratch.glob("bench_index-*.json"), key=lambda p: p.stat().st_mtime)
        return json.loads(found[-1].read_text()) if found else {}
    name = {"build": "build.json", "recommend": "recommend.json", "serving": "serving.json",
            "scaling": "scaling.json", "evaluate": "evaluation.json"}[stage]  # fmt: skip
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else {}


def ensure_build(workdir: Path, data: Path) -> None:
    if (workdir / "reports" / "build.json").exists():
        return
    command = [str(REPO / ".venv" / "bin" / "movie-rag"), "build", "--workdir", str(workdir)]
    command += ["--movielens", str(data / "ml-latest-small"), "--genome", str(data / "ml-genome")]
    for name in REAL_IMDB:
        command += ["--imdb", str(data / "imdb" / name)]
    print("building", workdir, flush=True)
    subprocess.run(command, check=True)


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The machine-independent figures: ours against the raw library calls."""
    out: dict[str, float] = {}
    index = results.get("index", {})
    emb = index.get("embedding", {})
    if emb.get("raw_encode_docs_per_s"):
        out["embedding_index_vs_raw_encode"] = round(
            emb["full_build_docs_per_s"] / emb["raw_encode_docs_per_s"], 2
        )
    query = index.get("query", {})
    raw = query.get("raw_encode_plus_faiss", {}).get("p50_ms")
    if raw:
        out["query_p50_search_vs_raw_faiss"] = round(query["search_dense"]["p50_ms"] / raw, 2)
        warm = results.get("recommend", {}).get("warm_recommend", {})
        if warm.get("p50_ms"):
            out["recommend_p50_vs_raw_faiss_query"] = round(warm["p50_ms"] / raw, 2)
    serving = results.get("serving", {})
    warm = results.get("recommend", {}).get("warm_recommend", {})
    if serving.get("sequential_p50_ms") and warm.get("p50_ms"):
        out["served_p50_vs_in_process_p50"] = round(
            serving["sequential_p50_ms"] / warm["p50_ms"], 2
        )
    return out


def table(results: dict[str, dict[str, Any]], derived: dict[str, float]) -> str:
    rows = []
    build = results.get("build", {})
    if build:
        rows.append(("cold build (ingest + Spark + movies_info)", f"{build['cold_seconds']} s"))
    index = results.get("index", {})
    if index:
        emb = index["embedding"]
        docs = f"{emb['full_build_docs_per_s']} vs {emb['raw_encode_docs_per_s']}"
        rows.append(("embedding docs/s, index vs raw encode", docs))
        query = index["query"]
        p50 = f"{query['search_dense']['p50_ms']} vs {query['raw_encode_plus_faiss']['p50_ms']}"
        rows.append(("query p50 ms, search() vs raw encode + FAISS", p50))
    warm = results.get("recommend", {}).get("warm_recommend")
    if warm:
        rows.append(("recommend p50 / p95 ms", f"{warm['p50_ms']} / {warm['p95_ms']}"))
    serving = results.get("serving", {})
    if serving:
        rows.append(("served req/s (8 clients)", str(serving["concurrent"]["req_per_s"])))
    evaluation = results.get("evaluate", {})
    if evaluation:
        rows.append(("movie-rag evaluate wall time", f"{evaluation['evaluate_wall_seconds']} s"))
    for name, value in derived.items():
        rows.append((name.replace("_", " "), f"{value}x"))
    lines = ["| what | measured |", "| --- | --- |"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True, help="a (real-data) workdir")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--only", help="comma-separated stages (default: all)")
    parser.add_argument("--quick", action="store_true", help="check the machinery only")
    args = parser.parse_args()
    default = [s for s in STAGES if not (args.quick and s == "build")]
    stages = [s for s in args.only.split(",") if s] if args.only else default
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; choose from {STAGES}")
    ensure_build(args.workdir, args.data)
    scratch = RESULTS / "index"
    scratch.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    for stage in stages:
        print(f"== {stage}", flush=True)
        started = time.perf_counter()
        subprocess.run(commands(stage, args.workdir, args.data, args.quick, scratch), check=True)
        seconds[stage] = round(time.perf_counter() - started, 1)
        results[stage] = result_of(stage, scratch)
    derived = ratios(results)
    summary = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m": os.getloadavg()[0],
        },
        "quick": args.quick,
        "stage_seconds": seconds,
        "ratios": derived,
        "results": results,
    }
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(table(results, derived))


if __name__ == "__main__":
    main()
