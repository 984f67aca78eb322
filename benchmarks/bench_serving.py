"""The served model under load: ready time, sequential latency, 8 concurrent clients.

Usage: .venv/bin/python benchmarks/bench_serving.py [--workdir DIR] [--workers N] [--seconds S]
       .venv/bin/python benchmarks/bench_serving.py --compare-encoders [--rounds R]

Publishes the chain of a built workdir (default: builds the bundled sample into a temporary
one) to the local registry, serves ``models:/movie_rag@champion`` with ``mlflow models serve``
on 127.0.0.1, and measures: seconds until ready, the first request, sequential p50/p90, then
8 client threads posting the original UI's ``dataframe_records`` payload for S seconds
(req/s, p50/p99, errors). Target: >= 30 req/s with the grounded generator on 2 cores.
Results: stdout and benchmarks/results/serving.json. Traffic goes to loopback only.

``--compare-encoders`` measures only the ready time (and the first request), side by side in
one run: the same workdir published twice, once with ``embedding_backend="onnx"`` (the
default query path, no torch) and once with ``embedding_backend="torch"``
(sentence-transformers), under their own aliases, served alternately ``--rounds`` times
each; the median ready times and their ratio go to benchmarks/results/serving_encoders.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
    "a thriller from the 90s",
    "movies with Tom Hanks",
    "a comedy rated above 7",
]


def post(url: str, query: str) -> tuple[float, bool]:
    body = json.dumps({"dataframe_records": [{"query": query}]}).encode()
    request = urllib.request.Request(
        url + "/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        ok = response.status == 200
    return time.perf_counter() - started, ok


def load(url: str, seconds: float, clients: int = 8) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < stop:
            try:
                took, ok = post(url, QUERIES[i % len(QUERIES)])
            except OSError:
                ok, took = False, 0.0
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors += 1
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1)
        if latencies
        else 0.0,
        "errors": errors,
    }


def compare_encoders(workdir: Path, workers: int, rounds: int) -> dict[str, Any]:
    """Ready time of the served model with the ONNX and the torch query encoder, alternated."""
    from movie_rag import MovieRagSettings
    from movie_rag.publish import ModelPublisher

    publishers = {}
    for backend in ("onnx", "torch"):
        settings = MovieRagSettings(workdir=workdir, embedding_backend=backend)
        publisher = ModelPublisher(settings)
        publisher.publish(alias=f"bench_{backend}")
        publishers[backend] = publisher
    load_before = os.getloadavg()
    ready: dict[str, list[float]] = {"onnx": [], "torch": []}
    first: dict[str, list[float]] = {"onnx": [], "torch": []}
    for _ in range(rounds):
        for backend, publisher in publishers.items():
            server = publisher.serve_local(
                model_uri=f"models:/movie_rag@bench_{backend}", port=0, workers=workers
            )
            try:
                first[backend].append(post(server.url, QUERIES[0])[0])
            finally:
                server.stop()
            ready[backend].append(server.ready_seconds or 0.0)
    medians = {backend: statistics.median(values) for backend, values in ready.items()}
    return {
        "workers": workers,
        "rounds": rounds,
        "ready_seconds": {b: [round(v, 1) for v in values] for b, values in ready.items()},
        "ready_median_seconds": {b: round(v, 1) for b, v in medians.items()},
        "first_request_ms": {
            b: round(statistics.median(values) * 1000, 1) for b, values in first.items()
        },
        "onnx_over_torch": round(medians["onnx"] / medians["torch"], 2),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    from movie_rag import MovieRagSettings
    from movie_rag.publish import ModelPublisher

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, help="a built workdir (default: build the sample)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--compare-encoders",
        action="store_true",
        help="only ready times, ONNX vs torch query encoder, alternated in one run",
    )
    parser.add_argument("--rounds", type=int, default=2, help="servers per encoder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp) / "wd"
        settings = MovieRagSettings(workdir=workdir)
        if args.workdir is None:
            from movie_rag import build_catalogue, sample_catalogue

            sample = sample_catalogue()
            build_catalogue(settings, sample.movielens_dir, sample.imdb_paths)
        if args.compare_encoders:
            compared = compare_encoders(workdir, args.workers, args.rounds)
            compared["workdir"] = str(args.workdir or "sample")
            print(json.dumps(compared, indent=2))
            out = REPO / "benchmarks" / "results"
            out.mkdir(parents=True, exist_ok=True)
            (out / "serving_encoders.json").write_text(json.dumps(compared, indent=2) + "\n")
            return
        publisher = ModelPublisher(settings)
        publisher.publish()
        server = publisher.serve_local(port=0, workers=args.workers)
        try:
            first = post(server.url, QUERIES[0])[0]
            sequential = sorted(post(server.url, QUERIES[i % len(QUERIES)])[0] for i in range(50))
            concurrent = load(server.url, args.seconds)
        finally:
            server.stop()
    result = {
        "machine": {"cpus": os.cpu_count(), "load": os.getloadavg()},
        "workers": args.workers,
        "ready_seconds": round(server.ready_seconds or 0.0, 1),
        "first_request_ms": round(first * 1000, 1),
        "sequential_p50_ms": round(statistics.median(sequential) * 1000, 1),
        "sequential_p90_ms": round(sequential[int(0.9 * len(sequential))] * 1000, 1),
        "concurrent": concurrent,
    }
    print(json.dumps(result, indent=2))
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "serving.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
