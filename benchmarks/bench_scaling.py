"""How each stage scales: synthetic MovieLens data of growing size, ml-25m extrapolated.

Usage: .venv/bin/python benchmarks/bench_scaling.py [--sizes 2000x200000,8000x1000000,20000x5000000]

For each size (movies x ratings) a synthetic MovieLens release is generated
(:mod:`movie_rag.evaluation.synthetic`) and these stages are timed:

- ``read``: ``MovieLensLoader.load`` (parse and validate the CSVs);
- ``build_total``: ``build_catalogue`` without the index (read again, bronze tables,
  movies_info, the collaborative model; one local[2] Spark session for all sizes, its start
  reported once; ``build_stages`` has the split);
- ``item_knn``: ``fit_item_knn`` on all ratings (co-like neighbours);
- ``bm25``: the keyword index over every document;
- ``embedding``: documents / measured throughput. Throughput is measured on 256 of that
  size's documents, so this column is computed, not timed end to end;
- ``search_ms``: exact top-10 search (numpy ``X @ q`` + argpartition) over N x 384 unit
  vectors, p50 of 200 queries (the cost does not depend on the vectors' content).

A log-log least-squares fit per stage (time against the ratings or the movies that drive it)
extrapolates to the ml-25m shape (62,423 movies, 25,000,095 ratings); those figures are
labelled extrapolated. Results: a table on stdout, ``benchmarks/results/scaling.json`` and
the curve ``scaling.png`` beside it. ``--replot FILE`` redoes the fit, table and curve from
a saved JSON without measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
# Which size drives each stage's cost.
DRIVERS = {
    "read": "ratings",
    "build_total": "ratings",
    "item_knn": "ratings",
    "bm25": "movies",
    "embedding": "movies",
    "search_ms": "movies",
}


def measure(movies: int, ratings: int, spark: Any, encoder: Any, scratch: Path) -> dict[str, Any]:
    from movie_rag.evaluation.synthetic import generate_movielens
    from movie_rag.index._bm25 import BM25
    from movie_rag.ingest.movielens import MovieLensLoader
    from movie_rag.pipeline import build_catalogue
    from movie_rag.settings import MovieRagSettings
    from movie_rag.tables import read_local_table
    from movie_rag.workdir import Workdir

    data_dir = scratch / f"ml-{movies}-{ratings}"
    row: dict[str, Any] = {"movies": movies, "ratings": ratings}
    started = time.perf_counter()
    summary = generate_movielens(data_dir, movies=movies, ratings=ratings, seed=0)
    row["generate"] = round(time.perf_counter() - started, 2)
    row["users"] = summary.users

    started = time.perf_counter()
    data = MovieLensLoader().load(data_dir)
    row["read"] = round(time.perf_counter() - started, 2)

    settings = MovieRagSettings(workdir=scratch / f"wd-{movies}", spark_master="local[2]")
    started = time.perf_counter()
    report = build_catalogue(settings, data_dir, [], spark=spark, mode="overwrite", index=False)
    row["build_total"] = round(time.perf_counter() - started, 2)
    row["bronze"] = report.timings.get("bronze")
    row["movies_info"] = report.timings.get("movies_info")
    row["build_stages"] = report.timings

    try:
        from movie_rag.collab.item_knn import fit_item_knn

        started = time.perf_counter()
        fit_item_knn(data.ratings)
        row["item_knn"] = round(time.perf_counter() - started, 2)
    except ImportError:
        row["item_knn"] = None

    table = read_local_table(Workdir(settings.workdir).table("movies_info"))
    documents = table.column("document").to_pylist()
    started = time.perf_counter()
    BM25(documents)
    row["bm25"] = round(time.perf_counter() - started, 2)

    sample = documents[:256]
    encoder.encode(sample[:8])  # warm
    started = time.perf_counter()
    encoder.encode(sample)
    per_second = len(sample) / (time.perf_counter() - started)
    row["embedding_docs_per_s"] = round(per_second, 1)
    row["embedding"] = round(movies / per_second, 1)

    row["search_ms"] = search_ms(movies)
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.rmtree(settings.workdir, ignore_errors=True)
    return row


def search_ms(movies: int) -> float:
    """p50 of 200 single-query exact top-10 searches over ``movies`` x 384 unit vectors.

    BLAS runs on one thread: on a busy 2-core machine a multi-threaded matrix-vector product
    waits for the scheduler (12 ms p50 at any size under load 6-9), which measures the load,
    not the search.
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


def extrapolate(rows: list[dict[str, Any]], target: dict[str, int]) -> dict[str, float]:
    """Log-log least squares per stage, evaluated at the target shape."""
    out: dict[str, float] = {}
    for stage, driver in DRIVERS.items():
        points = [(r[driver], r[stage]) for r in rows if r.get(stage)]
        if len(points) < 2:
            continue
        x = np.log([p[0] for p in points])
        y = np.log([max(p[1], 1e-6) for p in points])
        slope, intercept = np.polyfit(x, y, 1)
        out[stage] = round(float(np.exp(intercept + slope * np.log(target[driver]))), 2)
        out[f"{stage}_exponent"] = round(float(slope), 2)
    return out


def render(rows: list[dict[str, Any]], extrapolated: dict[str, float]) -> str:
    columns = ["read", "build_total", "item_knn", "bm25", "embedding", "search_ms"]
    lines = [
        "| movies | ratings | " + " | ".join(columns) + " |",
        "|" + " --- |" * (len(columns) + 2),
    ]
    for r in rows:
        values = [_cell(r.get(c)) for c in columns]
        lines.append(f"| {r['movies']:,} | {r['ratings']:,} | " + " | ".join(values) + " |")
    values = [_cell(extrapolated.get(c)) for c in columns]
    lines.append("| 62,423 (ml-25m, extrapolated) | 25,000,095 | " + " | ".join(values) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], extrapolated: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ratings = [r["ratings"] for r in rows]
    target = 25_000_095
    for stage, label in (
        ("read", "read CSVs"),
        ("build_total", "build (bronze, movies_info, collaborative model)"),
        ("item_knn", "item-kNN fit"),
        ("embedding", "embedding (from measured docs/s)"),
    ):
        values = [r.get(stage) for r in rows]
        if None in values:
            continue
        line = ax.plot(ratings, values, marker="o", label=label)[0]
        if stage in extrapolated:
            ax.plot(
                [ratings[-1], target],
                [values[-1], extrapolated[stage]],
                linestyle=":",
                color=line.get_color(),
            )
            ax.scatter([target], [extrapolated[stage]], marker="x", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ratings (movies grow with them; x = ml-25m, extrapolated)")
    ax.set_ylabel("seconds")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000x200000,8000x1000000,20000x5000000")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--replot", type=Path, help="refit and redraw a saved scaling.json")
    parser.add_argument(
        "--search", action="store_true", help="with --replot: measure the search column again"
    )
    args = parser.parse_args()
    if args.replot is not None:
        from movie_rag.evaluation.synthetic import ML25M_SHAPE

        saved = json.loads(args.replot.read_text())
        for row in saved["sizes"]:
            row.setdefault("build_total", None)
            if args.search:
                row["search_ms"] = search_ms(row["movies"])
        if args.search:
            saved["search_ms_measured_at_ml25m"] = search_ms(ML25M_SHAPE["movies"])
        saved["ml25m_extrapolated"] = extrapolate(saved["sizes"], ML25M_SHAPE)
        print(render(saved["sizes"], saved["ml25m_extrapolated"]))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scaling.json").write_text(json.dumps(saved, indent=2) + "\n")
        plot(saved["sizes"], saved["ml25m_extrapolated"], args.out / "scaling.png")
        return
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]

    from movie_rag.evaluation.synthetic import ML25M_SHAPE
    from movie_rag.index.embeddings import LocalEmbeddings
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        started = time.perf_counter()
        spark = get_spark(MovieRagSettings(workdir=scratch / "spark", spark_master="local[2]"))
        spark_start = round(time.perf_counter() - started, 2)
        encoder = LocalEmbeddings()
        rows = []
        for movies, ratings in sizes:
            print(f"measuring {movies:,} movies x {ratings:,} ratings", flush=True)
            rows.append(measure(movies, ratings, spark, encoder, scratch))
            print(json.dumps(rows[-1]), flush=True)
        spark.stop()
    extrapolated = extrapolate(rows, ML25M_SHAPE)
    measured_search = search_ms(ML25M_SHAPE["movies"])  # cheap enough to measure, not guess
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "spark_start": spark_start,
        "sizes": rows,
        "ml25m_extrapolated": extrapolated,
        "search_ms_measured_at_ml25m": measured_search,
    }
    print(render(rows, extrapolated))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(rows, extrapolated, args.out / "scaling.png")


if __name__ == "__main__":
    main()
