"""How each build stage scales, measured end to end up to the ml-25m shape.

Usage: .venv/bin/python benchmarks/bench_scaling.py [--sizes 2000x200000,...,62423x25000095]
       .venv/bin/python benchmarks/bench_scaling.py --replot benchmarks/results/scaling.json

For each size (movies x ratings) a synthetic MovieLens release is generated
(:mod:`movie_rag.evaluation.synthetic`) and :func:`movie_rag.pipeline.build_catalogue` runs
on it (local backend, ``collab_engine=auto``: single-node co-likes and implicit ALS). Each
stage's wall time comes from the build report; its peak resident memory from a sampler
thread that reads, every 0.2 s, the RSS of this process plus every descendant (the Spark
driver JVM included) from ``/proc``. Stages:

- ``read``, ``spark``, ``bronze``, ``movies_info``, ``collab``: the build's own stages;
- ``bm25``: the keyword index over every document;
- ``embedding``: **extrapolated** — a sample of ``--embed-sample`` documents is embedded and
  timed, and all documents / that throughput is reported (the only computed figure);
- ``search_ms``: exact top-10 search over N x 384 unit vectors on one BLAS thread, p50 of
  200 queries.

``build_s`` is the sum of the measured build stages (without the embedding). Every row is
measured; nothing is fitted. Results: a table on stdout, ``benchmarks/results/scaling.json``
and ``scaling.png`` beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
_PAGE = os.sysconf("SC_PAGE_SIZE")
GIB = 1024**3
# build_catalogue's progress messages -> stage names of its timings.
STAGES = {
    "reading MovieLens": "read",
    "starting Spark": "spark",
    "writing bronze tables": "bronze",
    "building movies_info": "movies_info",
    "training the collaborative model": "collab",
}
BUILD_STAGES = ("read", "spark", "bronze", "movies_info", "collab")


def tree_rss(root: int | None = None) -> int:
    """Resident bytes of ``root`` (default: this process) and all its descendants."""
    root = root or os.getpid()
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakRss:
    """Samples :func:`tree_rss` in a thread; :meth:`mark` returns the peak since the last mark."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._peak = tree_rss()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = tree_rss()
            with self._lock:
                self._peak = max(self._peak, rss)

    def mark(self) -> float:
        """Peak GiB since the previous mark (then restart from the current RSS)."""
        rss = tree_rss()
        with self._lock:
            peak, self._peak = max(self._peak, rss), rss
        return round(peak / GIB, 2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(
    movies: int, ratings: int, spark: Any, encoder: Any, scratch: Path, sample: int
) -> dict[str, Any]:
    from movie_rag.evaluation.synthetic import generate_movielens
    from movie_rag.index._bm25 import BM25
    from movie_rag.pipeline import build_catalogue
    from movie_rag.settings import MovieRagSettings
    from movie_rag.tables import read_local_table
    from movie_rag.workdir import Workdir

    data_dir = scratch / f"ml-{movies}-{ratings}"
    row: dict[str, Any] = {"movies": movies, "ratings": ratings, "load_1m_before": _load()}
    rss: dict[str, float] = {}
    sampler = PeakRss()
    started = time.perf_counter()
    summary = generate_movielens(data_dir, movies=movies, ratings=ratings, seed=0)
    row["generate"] = round(time.perf_counter() - started, 2)
    row["users"] = summary.users
    rss["generate"] = sampler.mark()

    current: list[str] = []

    def progress(message: str) -> None:
        stage = STAGES.get(message)
        if stage is None:
            return
        peak = sampler.mark()
        if current:
            rss[current[-1]] = peak
        current.append(stage)
        print(f"  {stage}", flush=True)

    settings = MovieRagSettings(workdir=scratch / f"wd-{movies}", spark_master="local[2]")
    report = build_catalogue(
        settings, data_dir, [], spark=spark, mode="overwrite", index=False, progress=progress
    )
    if current:
        rss[current[-1]] = sampler.mark()
    for stage in BUILD_STAGES:
        row[stage] = report.timings.get(stage)
    row["build_s"] = round(sum(row[s] or 0.0 for s in BUILD_STAGES), 1)
    row["collab_spark_als"] = bool(report.collab.get("spark_als")) if report.collab else None
    row["build_timings"] = report.timings

    table = read_local_table(Workdir(settings.workdir).table("movies_info"))
    documents = table.column("document").to_pylist()
    del table
    started = time.perf_counter()
    BM25(documents)
    row["bm25"] = round(time.perf_counter() - started, 2)
    rss["bm25"] = sampler.mark()

    picked = np.random.default_rng(0).choice(len(documents), min(sample, len(documents)), False)
    texts = [documents[i] for i in picked]
    encoder.encode(texts[:8])  # warm
    started = time.perf_counter()
    encoder.encode(texts)
    per_second = len(texts) / (time.perf_counter() - started)
    row["embedding_sample"] = len(texts)
    row["embedding_docs_per_s"] = round(per_second, 1)
    row["embedding_extrapolated"] = round(len(documents) / per_second, 1)
    rss["embedding_sample"] = sampler.mark()

    row["search_ms"] = search_ms(movies)
    sampler.stop()
    row["peak_rss_gib"] = rss
    row["peak_rss_build_gib"] = max(rss.get(s, 0.0) for s in BUILD_STAGES)
    row["load_1m_after"] = _load()
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.rmtree(settings.workdir, ignore_errors=True)
    return row


def search_ms(movies: int) -> float:
    """p50 of 200 single-query exact top-10 searches over ``movies`` x 384 unit vectors.

    BLAS runs on one thread: on a busy 2-core machine a multi-threaded matrix-vector product
    waits for the scheduler, which measures the load, not the search.
    """
    from contextlib import nullcontext

    try:
        from threadpoolctl import threadpool_limits

        limit: Any = threadpool_limits(1)
    except ImportError:
        limit = nullcontext()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((movies, 384), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    times = []
    with limit:
        for q in rng.standard_normal((200, 384), dtype=np.float32):
            started = time.perf_counter()
            scores = vectors @ q
            top = np.argpartition(-scores, 10)[:10]
            top[np.argsort(-scores[top])]
            times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| movies | ratings | load | read | bronze | movies_info | collab | build (s) "
        "| peak RSS build (GiB) | BM25 | embedding (s, extrapolated from sample) "
        "| search p50 (ms) |",
        "|" + " --- |" * 12,
    ]
    for r in rows:
        rss = r["peak_rss_gib"]
        cells = [
            f"{r['movies']:,}",
            f"{r['ratings']:,}",
            f"{r['load_1m_before']}→{r['load_1m_after']}",
            *(
                f"{_cell(r.get(s))} ({rss.get(s, '—')} GiB)"
                for s in ("read", "bronze", "movies_info", "collab")
            ),
            _cell(r["build_s"]),
            _cell(r["peak_rss_build_gib"]),
            _cell(r["bm25"]),
            f"{_cell(r['embedding_extrapolated'])} ({r['embedding_docs_per_s']} docs/s "
            f"on {r['embedding_sample']:,})",
            _cell(r["search_ms"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, mem) = plt.subplots(1, 2, figsize=(10, 4))
    rows = sorted(rows, key=lambda r: r["ratings"])  # sizes may be measured in any order
    ratings = [r["ratings"] for r in rows]
    for stage, label in (
        ("read", "read CSVs"),
        ("bronze", "bronze tables"),
        ("movies_info", "movies_info"),
        ("collab", "collaborative model (single node)"),
        ("build_s", "whole build (no embedding)"),
    ):
        values = [r.get(stage) for r in rows]
        if None in values:
            continue
        ax.plot(ratings, values, marker="o", label=label)
    for axis in (ax, mem):
        axis.set_xscale("log")
        axis.set_xlabel("ratings (movies grow with them; last point = ml-25m shape)")
        axis.grid(True, which="both", alpha=0.3)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (measured)")
    ax.legend(fontsize=7)
    mem.plot(ratings, [r["peak_rss_build_gib"] for r in rows], marker="o", color="C4")
    mem.set_ylabel("peak RSS of the build, GiB (Python + JVM)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000x200000,8000x1000000,20000x5000000,62423x25000095")
    parser.add_argument("--embed-sample", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--replot", type=Path, help="redraw the table and curve from a JSON")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.replot is not None:
        saved = json.loads(args.replot.read_text())
        print(render(saved["sizes"]))
        plot(saved["sizes"], args.out / "scaling.png")
        return
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]

    from movie_rag.index.embeddings import LocalEmbeddings
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark

    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_before": os.getloadavg(),
        "sizes": [],
    }
    out = args.out / "scaling.json"
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        started = time.perf_counter()
        spark = get_spark(MovieRagSettings(workdir=scratch / "spark", spark_master="local[2]"))
        result["spark_start"] = round(time.perf_counter() - started, 2)
        encoder = LocalEmbeddings()
        for movies, ratings in sizes:
            print(f"measuring {movies:,} movies x {ratings:,} ratings", flush=True)
            row = measure(movies, ratings, spark, encoder, scratch, args.embed_sample)
            result["sizes"].append(row)
            print(json.dumps(row), flush=True)
            out.write_text(json.dumps(result, indent=2) + "\n")
        spark.stop()
    result["load_average_after"] = os.getloadavg()
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result["sizes"]))
    plot(result["sizes"], args.out / "scaling.png")


if __name__ == "__main__":
    main()
