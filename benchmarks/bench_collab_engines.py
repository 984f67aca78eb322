"""Single-node vs Spark ``local[2]`` collaborative training, side by side in one run.

Usage: .venv/bin/python benchmarks/bench_collab_engines.py [--movies 20000 --ratings 5000000]
       [--real DIR]  (a MovieLens directory: its ratings instead of synthetic ones)

Protocol (the same for both engines, on the same data):

1. Ratings: a synthetic MovieLens release (:mod:`movie_rag.evaluation.synthetic`, seed 0) or
   the real ratings of ``--real``.
2. Held-out split: for every user with at least 5 likes (rating >= the like threshold),
   20 % of the likes (at least one, seed 0) are held out; both engines train on the rest.
3. Training, timed (wall clock) with the peak RSS of this process plus its children (the
   Spark driver JVM) sampled every 0.2 s: co-like neighbours and implicit ALS with the
   library's default parameters — ``fit_item_knn`` + ``train_als_single_node`` in this
   process; ``fit_item_knn_spark`` + ``train_als`` on ``local[2]`` (the ratings handed to
   Spark as a parquet file; the session is started and warmed before the clock starts).
4. Similar-movie figures: for every evaluated user one training like is the query (seed 0);
   its 10 co-like neighbours (excluding the user's training ratings) are scored against
   the held-out likes: P@10 (hits / 10) and HR@10 (any hit), averaged over users. The same
   for ALS's top 10 (user factor · item factors, training ratings excluded). Also reported:
   the mean overlap of the two engines' top-10 neighbour lists.

Results: a table on stdout and ``benchmarks/results/collab_engines.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scaling import PeakRss

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def split(ratings: pa.Table, like: float, seed: int = 0) -> tuple[pa.Table, dict[int, set[int]]]:
    """Hold out 20 % of the likes of every user with at least 5; return (train, held out)."""
    users = ratings.column("user_id").to_numpy()
    movies = ratings.column("movie_id").to_numpy()
    stars = ratings.column("rating").to_numpy()
    rng = np.random.default_rng(seed)
    liked = np.flatnonzero(stars >= like)
    order = liked[np.lexsort((rng.random(len(liked)), users[liked]))]
    starts = np.flatnonzero(np.r_[True, users[order][1:] != users[order][:-1]])
    ends = np.r_[starts[1:], len(order)]
    held = np.zeros(len(users), dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        if e - s >= 5:
            held[order[s : s + max(1, (e - s) // 5)]] = True
    heldout: dict[int, set[int]] = {}
    for u, m in zip(users[held], movies[held], strict=True):
        heldout.setdefault(int(u), set()).add(int(m))
    return ratings.filter(pa.array(~held)), heldout


def evaluate(
    train: pa.Table, heldout: dict[int, set[int]], neighbours: Any, factors: Any, like: float
) -> dict[str, float]:
    users = train.column("user_id").to_numpy()
    movies = train.column("movie_id").to_numpy()
    stars = train.column("rating").to_numpy()
    order = np.argsort(users, kind="stable")
    bounds = np.searchsorted(users[order], np.array(sorted(heldout)), side="left")
    ends = np.searchsorted(users[order], np.array(sorted(heldout)), side="right")
    table = neighbours.table
    knn: dict[int, list[int]] = {}
    for m, n in zip(
        table.column("movie_id").to_numpy(), table.column("neighbour_id").to_numpy(), strict=True
    ):
        knn.setdefault(int(m), []).append(int(n))  # stored best first
    item_row = {int(m): i for i, m in enumerate(factors.item_ids)}
    user_row = {int(u): i for i, u in enumerate(factors.user_ids)}
    rng = np.random.default_rng(0)
    p, hr, ap, ahr = [], [], [], []
    for user, s, e in zip(sorted(heldout), bounds, ends, strict=True):
        rows = order[s:e]
        seen = set(movies[rows].tolist())
        likes = movies[rows][stars[rows] >= like]
        if len(likes) == 0:
            continue
        query = int(likes[rng.integers(len(likes))])
        top = [n for n in knn.get(query, []) if n not in seen][:10]
        hits = len(set(top) & heldout[user])
        p.append(hits / 10)
        hr.append(hits > 0)
        if user in user_row:
            scores = factors.item_factors @ factors.user_factors[user_row[user]]
            for m in seen:
                if m in item_row:
                    scores[item_row[m]] = -np.inf
            best = factors.item_ids[np.argpartition(-scores, 10)[:10]]
            hits = len(set(best.tolist()) & heldout[user])
            ap.append(hits / 10)
            ahr.append(hits > 0)
    return {
        "users": len(p),
        "knn_p_at_10": round(float(np.mean(p)), 4),
        "knn_hr_at_10": round(float(np.mean(hr)), 4),
        "als_p_at_10": round(float(np.mean(ap)), 4),
        "als_hr_at_10": round(float(np.mean(ahr)), 4),
    }


def overlap(a: Any, b: Any) -> float:
    def top(n: Any) -> dict[int, set[int]]:
        out: dict[int, list[int]] = {}
        t = n.table
        for m, x in zip(
            t.column("movie_id").to_numpy(), t.column("neighbour_id").to_numpy(), strict=True
        ):
            if len(out.setdefault(int(m), [])) < 10:
                out[int(m)].append(int(x))
        return {k: set(v) for k, v in out.items()}

    ta, tb = top(a), top(b)
    common = ta.keys() & tb.keys()
    if not common:
        return 0.0
    return round(float(np.mean([len(ta[k] & tb[k]) / max(len(ta[k]), 1) for k in common])), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--movies", type=int, default=20_000)
    parser.add_argument("--ratings", type=int, default=5_000_000)
    parser.add_argument("--real", type=Path, help="a MovieLens directory instead of synthetic")
    parser.add_argument("--out", type=Path, default=RESULTS / "collab_engines.json")
    args = parser.parse_args()

    from movie_rag.collab.item_knn import fit_item_knn
    from movie_rag.collab.model import training_params
    from movie_rag.collab.single_node import train_als_single_node
    from movie_rag.collab.spark_jobs import fit_item_knn_spark, train_als
    from movie_rag.evaluation.synthetic import generate_movielens
    from movie_rag.ingest.movielens import MovieLensLoader
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark

    result: dict[str, Any] = {"load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if args.real is not None:
            data_dir = args.real
            result["data"] = str(args.real.name)
        else:
            data_dir = scratch / "ml"
            generate_movielens(data_dir, movies=args.movies, ratings=args.ratings, seed=0)
            result["data"] = f"synthetic {args.movies}x{args.ratings}"
        settings = MovieRagSettings(workdir=scratch / "wd", spark_master="local[2]")
        params = training_params(settings)
        knn = {k: params[k] for k in ("like_threshold", "min_co_likes", "top_n", "alpha")}
        knn["shrinkage"] = params["shrinkage"]
        als = {
            "rank": params["als_rank"],
            "reg": params["als_reg"],
            "alpha": params["als_alpha"],
            "max_iter": params["als_max_iter"],
            "seed": params["seed"],
        }
        ratings = MovieLensLoader(settings).load(data_dir).ratings
        ratings = ratings.select(["user_id", "movie_id", "rating"])
        train, heldout = split(ratings, params["like_threshold"])
        result["ratings"] = ratings.num_rows
        result["train_ratings"] = train.num_rows
        result["heldout_users"] = len(heldout)
        print(json.dumps(result), flush=True)

        sampler = PeakRss()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        single_knn = fit_item_knn(train, **knn)
        knn_s = time.perf_counter() - started
        single_als = train_als_single_node(train, **als)
        total = time.perf_counter() - started
        result["single_node"] = {
            "seconds": round(total, 2),
            "item_knn_s": round(knn_s, 2),
            "als_s": round(total - knn_s, 2),
            "peak_rss_gib": sampler.mark(),
            "load_1m": round(load, 2),
        }
        print(json.dumps(result["single_node"]), flush=True)

        spark = get_spark(settings)
        path = scratch / "train.parquet"
        pq.write_table(train, path)
        frame = spark.read.parquet(str(path))
        frame.count()  # session warm, file listed
        sampler.mark()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        spark_knn = fit_item_knn_spark(frame, **knn)
        knn_s = time.perf_counter() - started
        spark_als = train_als(frame, **als)
        total = time.perf_counter() - started
        result["spark_local2"] = {
            "seconds": round(total, 2),
            "item_knn_s": round(knn_s, 2),
            "als_s": round(total - knn_s, 2),
            "peak_rss_gib": sampler.mark(),
            "load_1m": round(load, 2),
        }
        print(json.dumps(result["spark_local2"]), flush=True)
        sampler.stop()
        spark.stop()
        result["speedup"] = round(
            result["spark_local2"]["seconds"] / result["single_node"]["seconds"], 1
        )
        like = params["like_threshold"]
        result["quality"] = {
            "single_node": evaluate(train, heldout, single_knn, single_als, like),
            "spark_local2": evaluate(train, heldout, spark_knn, spark_als, like),
            "neighbour_overlap_at_10": overlap(single_knn, spark_knn),
        }
    result["load_average_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
