"""Query-parser cost against the length of the request: it must grow no faster than linearly.

Usage: .venv/bin/python benchmarks/bench_parse.py --workdir DIR [--runs N]

Parses requests of 1k, 4k, 16k and 64k characters (a realistic request repeated, and a
run of random words) against the catalogue of a built workdir (``movies_info``), best of
``--runs``. Target: a 64k-character request parses in < 50 ms. The parser reads at most
``MAX_QUERY_CHARS`` of a message and does linear work on what it reads.
Results: a table on stdout and JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUEST = (
    "I liked Heat and The Matrix, scary horror movies from the 90s with Tom Hanks, not too "
    "dark, rated above 7, nothing like Pulp Fiction. "
)
SIZES = (1_000, 4_000, 16_000, 64_000)
TARGET_MS = 50.0


def texts(size: int) -> dict[str, str]:
    rng = random.Random(size)
    words = " ".join(
        "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(2, 9)))
        for _ in range(size // 4)
    )
    return {"request": (REQUEST * (size // len(REQUEST) + 1))[:size], "random": words[:size]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True, help="a built workdir")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from movie_rag.chain.catalogue import Catalogue
    from movie_rag.chain.query import QueryParser
    from movie_rag.tables import read_local_table
    from movie_rag.workdir import Workdir

    catalogue = Catalogue(read_local_table(Workdir(args.workdir).table("movies_info")))
    query_parser = QueryParser(catalogue)
    query_parser.parse(REQUEST)  # warm the regular expressions
    rows = []
    for size in SIZES:
        for kind, text in texts(size).items():
            best = min(_timed(query_parser, text) for _ in range(args.runs))
            rows.append({"chars": size, "kind": kind, "ms": round(best * 1000, 2)})
    worst_64k = max(r["ms"] for r in rows if r["chars"] == 64_000)
    print(f"{'chars':>7} {'kind':>8} {'ms':>8}")
    for row in rows:
        print(f"{row['chars']:>7} {row['kind']:>8} {row['ms']:>8.2f}")
    verdict = "PASS" if worst_64k < TARGET_MS else "FAIL"
    print(f"64k characters: {worst_64k:.1f} ms (target < {TARGET_MS:.0f} ms) {verdict}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"bench_parse-{int(time.time())}.json").write_text(
        json.dumps({"rows": rows, "target_ms": TARGET_MS, "pass": verdict == "PASS"}, indent=2)
    )


def _timed(query_parser: object, text: str) -> float:
    started = time.perf_counter()
    query_parser.parse(text)  # type: ignore[attr-defined]
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
