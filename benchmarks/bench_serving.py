"""The served model under load: ready time, sequential latency, 8 concurrent clients.

Usage: .venv/bin/python benchmarks/bench_serving.py [--workdir DIR] [--workers N] [--seconds S]

Publishes the chain of a built workdir (default: builds the bundled sample into a temporary
one) to the local registry, serves ``models:/movie_rag@champion`` with ``mlflow models serve``
on 127.0.0.1, and measures: seconds until ready, the first request, sequential p50/p90, then
8 client threads posting the original UI's ``dataframe_records`` payload for S seconds
(req/s, p50/p99, errors). Target: >= 30 req/s with the grounded generator on 2 cores.
Results: stdout and benchmarks/results/serving.json. Traffic goes to loopback only.
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


def main() -> None:
    from movie_rag import MovieRagSettings
    from movie_rag.publish import ModelPublisher

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, help="a built workdir (default: build the sample)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp) / "wd"
        settings = MovieRagSettings(workdir=workdir)
        if args.workdir is None:
            from movie_rag import build_catalogue, sample_catalogue

            sample = sample_catalogue()
            build_catalogue(settings, sample.movielens_dir, sample.imdb_paths)
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
