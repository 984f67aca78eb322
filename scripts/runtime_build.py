"""Build the real data (ingestion + collaborative model, no embedding) and summarise it as JSON.

Run by tests/test_runtimes.py in each runtime of the support matrix (scripts/_matrix.sh makes
the environments): the summary carries the interpreter, the pyspark version, whether the
session was classic or Spark Connect, every movie's content hash and the collaborative
counts, so the test can hold them equal to the default environment's build.

    python scripts/runtime_build.py --movielens DIR --genome DIR --imdb FILE ... --out FILE

Spark Connect: set SPARK_REMOTE (``local[2]`` starts pyspark 4's local Connect server).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movielens", required=True)
    parser.add_argument("--genome")
    parser.add_argument("--imdb", action="append", default=[])
    parser.add_argument("--workdir", help="default: a new temporary directory")
    parser.add_argument("--out", required=True, help="the JSON summary")
    args = parser.parse_args(argv)

    import pyspark

    from movie_rag.pipeline import build_catalogue
    from movie_rag.settings import MovieRagSettings
    from movie_rag.spark import get_spark, is_connect
    from movie_rag.tables import read_local_table

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="movie_rag_runtime_"))
    # The matrix exercises the Spark jobs (co-likes and ALS) on each runtime; the default
    # environment's single-node training must give the same counts.
    settings = MovieRagSettings(workdir=workdir, spark_master="local[2]", collab_engine="spark")
    summary: dict[str, object] = {
        "python": platform.python_version(),
        "pyspark": pyspark.__version__,
    }
    started = time.perf_counter()
    spark = get_spark(settings)
    summary["mode"] = "connect" if is_connect(spark) else "classic"
    summary["spark_server"] = spark.version
    try:
        report = build_catalogue(
            settings,
            args.movielens,
            args.imdb,
            genome_dir=args.genome,
            spark=spark,
            index=False,
        )
    except Exception as exc:
        summary["error"] = f"{type(exc).__name__}: {exc}"
        summary["traceback"] = traceback.format_exc()
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
        print(summary["error"], file=sys.stderr)
        return 1
    finally:
        summary["seconds"] = round(time.perf_counter() - started, 1)
    table = read_local_table(report.table)
    hashes = dict(
        zip(
            (int(m) for m in table.column("movie_id").to_pylist()),
            table.column("content_hash").to_pylist(),
            strict=True,
        )
    )
    digest = hashlib.sha256(
        "".join(f"{m}:{hashes[m]}\n" for m in sorted(hashes)).encode()
    ).hexdigest()
    summary.update(
        rows=report.rows,
        movies_info_digest=digest,
        content_hashes={str(m): h for m, h in sorted(hashes.items())},
        collab=report.collab,
        timings=report.timings,
    )
    spark.stop()
    summary["seconds"] = round(time.perf_counter() - started, 1)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"{summary['python']} pyspark {summary['pyspark']} {summary['mode']}: "
        f"{report.rows} rows, digest {digest[:12]}, {summary['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
