"""Benchmark the embedded vector index against raw sentence-transformers + FAISS.

Measures, on one movies_info table:

1. embedding throughput: raw ``SentenceTransformer.encode`` vs a full
   ``LocalVectorIndex.build`` from an empty embedding cache, on the same documents;
2. the exact-search step alone: numpy ``X @ q`` + argpartition vs FAISS ``IndexFlatIP``;
3. end-to-end query latency, p50/p99 over distinct warm queries (no query cache exists):
   raw encode + FAISS vs ``LocalVectorIndex.search`` dense, filtered, hybrid and MMR;
4. incremental ``sync`` after changing 1% of documents vs the full build, plus a no-change
   sync and a rebuild served by the embedding cache.

5. with ``--int8 ENCODER_DIR`` instead: the ONNX encoder fp32 vs its int8 dynamic
   quantisation, alternated in one process: document throughput, query p50 and the cosine
   of each int8 vector to its fp32 one (documents and queries of the table).

Usage::

    python benchmarks/bench_index.py --table .movie_rag/tables/movies_info
    python benchmarks/bench_index.py --synthetic 2000
    python benchmarks/bench_index.py --table WD/tables/movies_info --int8 WD/index/encoder

Prints a table and writes JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pyarrow as pa

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA
from movie_rag.index import LocalEmbeddings, LocalVectorIndex, SearchFilters
from movie_rag.index._table import read_table

RESULTS = Path(__file__).resolve().parent / "results"

_ADJECTIVES = [
    "haunted",
    "lonely",
    "reckless",
    "brilliant",
    "forgotten",
    "stolen",
    "secret",
    "dangerous",
    "quiet",
    "ancient",
    "broken",
    "desperate",
    "charming",
    "ruthless",
    "fragile",
    "restless",
    "mysterious",
    "loyal",
    "cursed",
    "gentle",
]
_NOUNS = [
    "detective",
    "pilot",
    "teacher",
    "smuggler",
    "scientist",
    "soldier",
    "dancer",
    "thief",
    "journalist",
    "nurse",
    "farmer",
    "astronaut",
    "boxer",
    "chef",
    "painter",
    "hacker",
    "widow",
    "priest",
    "sheriff",
    "musician",
]
_PLACES = (
    "Tokyo", "Paris", "a mining town", "the Arctic", "a space station", "Mumbai",
    "a small island", "Berlin", "the desert", "Rome", "a boarding school", "a prison",
    "New Orleans", "a submarine", "Chicago",
)  # fmt: skip
_THEMES = [
    "revenge",
    "redemption",
    "first",
    "love",
    "betrayal",
    "survival",
    "grief",
    "ambition",
    "friendship",
    "greed",
    "identity",
    "obsession",
    "forgiveness",
    "war",
    "family",
    "corruption",
]
_FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
]
_LAST = [
    "Adler",
    "Brooks",
    "Chen",
    "Duarte",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Li",
]


def synthetic_table(size: int, seed: int = 7) -> pa.Table:
    """movies_info-shaped rows with ~90-token documents, like the real catalogue."""
    rng = random.Random(seed)
    rows = []
    for movie_id in range(1, size + 1):
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        place, theme = rng.choice(_PLACES), rng.choice(_THEMES)
        title = f"The {adjective.title()} {noun.title()} {movie_id}"
        year = rng.randint(1930, 2023)
        genres = rng.sample(MOVIELENS_GENRES, rng.randint(1, 3))
        directors = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"]
        cast = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(3)]
        keywords = rng.sample(_THEMES, 2) + rng.sample(_NOUNS, 2)
        overview = (
            f"A {adjective} {noun} in {place} is caught up in a story of {theme}. "
            f"When a {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} arrives with news of "
            f"{rng.choice(_THEMES)}, old loyalties are tested and nobody is safe. "
            f"Set against {rng.choice(_PLACES)}, it follows {rng.randint(2, 6)} strangers "
            f"over one {rng.choice(['winter', 'summer', 'night', 'decade'])}."
        )
        rating = round(rng.uniform(3.0, 9.5), 1) if rng.random() > 0.05 else None
        votes = int(rng.lognormvariate(9, 2)) if rating is not None else None
        document = (
            f"{title} ({year}). Genres: {', '.join(genres)}. Directed by {directors[0]}. "
            f"Starring {', '.join(cast)}. {overview} Keywords: {', '.join(keywords)}."
        )
        rows.append(
            {
                "movie_id": movie_id,
                "title": title,
                "year": year,
                "genres": genres,
                "directors": directors,
                "cast": cast,
                "keywords": keywords,
                "overview": overview,
                "rating": rating,
                "votes": votes,
                "document": document,
                "content_hash": hashlib.sha256(document.encode()).hexdigest(),
            }
        )
    return pa.Table.from_pylist(rows, schema=_subset_schema())


def _subset_schema() -> pa.Schema:
    names = [
        "movie_id",
        "title",
        "year",
        "genres",
        "directors",
        "cast",
        "keywords",
        "overview",
        "rating",
        "votes",
        "document",
        "content_hash",
    ]
    return pa.schema([MOVIES_INFO_SCHEMA.field(name) for name in names])


def make_queries(table: pa.Table, count: int, seed: int = 11) -> list[str]:
    """Distinct free-text queries built from the table's own genres, keywords and titles."""
    rng = random.Random(seed)
    genres = sorted({g for gs in table["genres"].to_pylist() for g in gs or ()}) or ["Drama"]
    keywords = sorted({k for ks in _column(table, "keywords") for k in ks or ()}) or _THEMES
    titles = [t for t in _column(table, "title") if t] or ["a classic"]
    templates: list[Callable[[], str]] = [
        lambda: f"{rng.choice(genres).lower()} movie about {rng.choice(keywords)}",
        lambda: f"a {rng.choice(_ADJECTIVES)} {rng.choice(keywords)} story",
        lambda: f"movies like {rng.choice(titles)}",
        lambda: f"{rng.choice(keywords)} and {rng.choice(keywords)} in {rng.choice(_PLACES)}",
        lambda: f"something {rng.choice(_ADJECTIVES)} with a {rng.choice(_NOUNS)}",
    ]
    queries: dict[str, None] = {}
    attempts = 0
    while len(queries) < count and attempts < count * 50:
        queries[rng.choice(templates)()] = None
        attempts += 1
    return list(queries)


def _column(table: pa.Table, name: str) -> list[Any]:
    return table[name].to_pylist() if name in table.column_names else []


def latencies(
    methods: dict[str, Callable[[str], object]], queries: Sequence[str], warmup: int = 20
) -> dict[str, dict[str, float]]:
    """Per-query wall and CPU time of each method, interleaved query by query.

    Interleaving (with a rotating start) exposes every method to the same background load,
    so a noisy neighbour cannot favour whichever method happened to run in a quiet minute.
    """
    names = list(methods)
    for query in queries[:warmup]:
        for name in names:
            methods[name](query)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for position, query in enumerate(queries):
        shift = position % len(names)
        for name in names[shift:] + names[:shift]:
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            methods[name](query)
            wall[name].append((time.perf_counter() - wall_start) * 1000)
            cpu[name].append((time.process_time() - cpu_start) * 1000)
    return {
        name: {
            "p50_ms": round(float(np.percentile(wall[name], 50)), 3),
            "p99_ms": round(float(np.percentile(wall[name], 99)), 3),
            "mean_ms": round(statistics.fmean(wall[name]), 3),
            "cpu_p50_ms": round(float(np.percentile(cpu[name], 50)), 3),
            "queries": len(queries),
        }
        for name in names
    }


def numpy_topk(vectors: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    scores = vectors @ query
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def bench(table: pa.Table, query_count: int, workdir: Path) -> dict[str, Any]:
    import faiss
    from sentence_transformers import SentenceTransformer

    documents: list[str] = table["document"].to_pylist()
    size = len(documents)
    embeddings = LocalEmbeddings()
    raw_model = SentenceTransformer(str(embeddings.model_path), device="cpu")
    embeddings.model  # noqa: B018 - load outside the timed regions
    raw_model.encode(documents[:64], batch_size=32)
    embeddings.encode(documents[:64])

    results: dict[str, Any] = {}

    wall_start, cpu_start = time.perf_counter(), time.process_time()
    raw_vectors = raw_model.encode(documents, batch_size=32, normalize_embeddings=True)
    raw_seconds = time.perf_counter() - wall_start
    raw_cpu = time.process_time() - cpu_start

    # The full build starts from an empty embedding cache, so it embeds every document.
    index = LocalVectorIndex(workdir / "index", embeddings)
    cpu_start = time.process_time()
    full_build = index.build(table)
    build_cpu = time.process_time() - cpu_start
    vectors = np.load(next((workdir / "index").glob("v-*")) / "vectors.npy")
    ids = read_table(next((workdir / "index").glob("v-*")) / "metadata.parquet")["movie_id"]
    order = np.argsort(np.argsort(table["movie_id"].to_numpy()))
    cosine = float(np.min(np.sum(raw_vectors * vectors[order], axis=1)))
    assert ids.to_pylist() == sorted(table["movie_id"].to_pylist())
    results["embedding"] = {
        "documents": size,
        "raw_encode_docs_per_s": round(size / raw_seconds, 2),
        "full_build_docs_per_s": round(size / full_build.seconds, 2),
        "raw_encode_s": round(raw_seconds, 2),
        "full_build_s": round(full_build.seconds, 2),
        "raw_encode_cpu_s": round(raw_cpu, 2),
        "full_build_cpu_s": round(build_cpu, 2),
        "min_cosine_raw_vs_index": round(cosine, 6),
    }

    queries = make_queries(table, query_count)
    query_vectors = embeddings.encode(queries)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    vector_of = dict(zip(queries, query_vectors, strict=True))
    results["search_step"] = latencies(
        {
            "numpy": lambda q: numpy_topk(vectors, vector_of[q], 10),
            "faiss_flat_ip": lambda q: flat.search(vector_of[q][None, :], 10),
        },
        queries,
    )

    def raw_query(query: str) -> object:
        vector = raw_model.encode([query], normalize_embeddings=True)
        return flat.search(np.asarray(vector, dtype=np.float32), 10)

    # A filter that keeps a real share of the table: the commonest genre, newer half.
    genre_counts = Counter(g for gs in table["genres"].to_pylist() for g in gs or ())
    years = [y for y in table["year"].to_pylist() if y is not None]
    drama = SearchFilters(
        genres_any=[genre_counts.most_common(1)[0][0]] if genre_counts else None,
        year_min=int(np.median(years)) if years else None,
    )
    results["filtered_share"] = round(
        sum(drama.matches(row) for row in table.select(["movie_id", "genres", "year"]).to_pylist())
        / max(1, table.num_rows),
        3,
    )
    index.load()
    index.search("warm up", mode="hybrid")
    results["query"] = latencies(
        {
            "raw_encode_plus_faiss": raw_query,
            "search_dense": lambda q: index.search(q, k=10),
            "search_dense_filtered": lambda q: index.search(q, k=10, filters=drama),
            "search_hybrid": lambda q: index.search(q, k=10, mode="hybrid"),
            "search_dense_mmr": lambda q: index.search(q, k=10, mmr=0.7),
        },
        queries,
    )
    results["query"]["distinct_queries"] = len(queries)  # type: ignore[assignment]

    changed = _change_documents(table, fraction=0.01)
    resync = index.sync(changed)
    noop = index.sync(changed)
    rebuild = index.build(changed)
    results["sync"] = {
        "full_build_s": round(full_build.seconds, 3),
        "changed_rows": resync.updated,
        "sync_1pct_s": round(resync.seconds, 3),
        "sync_1pct_embedded": resync.embedded,
        "sync_unchanged_s": round(noop.seconds, 3),
        "rebuild_from_cache_s": round(rebuild.seconds, 3),
        "rebuild_from_cache_embedded": rebuild.embedded,
        "speedup_sync_vs_full_build": round(full_build.seconds / resync.seconds, 1),
    }
    return results


def _change_documents(table: pa.Table, fraction: float) -> pa.Table:
    count = max(1, int(table.num_rows * fraction))
    rows = random.Random(3).sample(range(table.num_rows), count)
    documents = table["document"].to_pylist()
    hashes = table["content_hash"].to_pylist()
    for row in rows:
        documents[row] = documents[row] + " Newly restored director's cut."
        hashes[row] = f"{hashes[row]}-changed"
    table = table.set_column(
        table.schema.get_field_index("document"), "document", pa.array(documents)
    )
    return table.set_column(
        table.schema.get_field_index("content_hash"), "content_hash", pa.array(hashes)
    )


def environment() -> dict[str, Any]:
    import faiss
    import sentence_transformers
    import torch

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "faiss": faiss.__version__,
        "numpy": np.__version__,
    }


def render(results: dict[str, Any]) -> str:
    lines = [f"{'measure':<44}{'value':>14}"]
    for section in ("embedding", "search_step", "query", "sync"):
        lines.append(f"-- {section}")
        for name, value in results[section].items():
            if isinstance(value, dict):
                text = (
                    f"p50 {value['p50_ms']:8.2f} ms  p99 {value['p99_ms']:8.2f} ms  "
                    f"cpu p50 {value['cpu_p50_ms']:8.2f} ms"
                )
                lines.append(f"  {name:<24}{text}")
            else:
                lines.append(f"  {name:<42}{value!s:>14}")
    return "\n".join(lines)


def int8_comparison(table: pa.Table, query_count: int, encoder_dir: Path) -> dict[str, Any]:
    """ONNX fp32 vs int8 (dynamic quantisation): docs/s, query p50, vector cosines."""
    from movie_rag.index import LocalEmbeddings
    from movie_rag.index.onnx_encoder import OnnxSentenceEncoder, ensure_int8_export

    fp32_embeddings = LocalEmbeddings(backend="onnx", onnx_dir=encoder_dir)
    if fp32_embeddings.active_backend != "onnx":
        raise SystemExit("--int8 needs onnxruntime and the ONNX export")
    fp32 = fp32_embeddings._onnx_encoder()
    started = time.perf_counter()
    int8 = OnnxSentenceEncoder(fp32.model_path, ensure_int8_export(fp32.onnx_file))
    quantise_s = time.perf_counter() - started
    documents = [str(d) for d in _column(table, "document")][:256]
    queries = make_queries(table, query_count)
    rates: dict[str, list[float]] = {"fp32": [], "int8": []}
    for _ in range(2):
        for name, encoder in (("fp32", fp32), ("int8", int8)):
            started = time.perf_counter()
            encoder.encode(documents)
            rates[name].append(len(documents) / (time.perf_counter() - started))
    timings: dict[str, list[float]] = {"fp32": [], "int8": []}
    for query in queries:
        for name, encoder in (("fp32", fp32), ("int8", int8)):
            started = time.perf_counter()
            encoder.encode([query], batch_size=1)
            timings[name].append((time.perf_counter() - started) * 1000)
    doc_cos = (fp32.encode(documents) * int8.encode(documents)).sum(axis=1)
    query_cos = (fp32.encode(queries) * int8.encode(queries)).sum(axis=1)
    return {
        "documents": len(documents),
        "queries": len(queries),
        "quantise_seconds": round(quantise_s, 2),
        "file_mb": {
            "fp32": round(fp32.onnx_file.stat().st_size / 2**20, 1),
            "int8": round(int8.onnx_file.stat().st_size / 2**20, 1),
        },
        "docs_per_s": {name: round(max(values), 1) for name, values in rates.items()},
        "query_p50_ms": {name: round(statistics.median(v), 2) for name, v in timings.items()},
        "document_cosine": {
            "min": round(float(doc_cos.min()), 4),
            "median": round(float(np.median(doc_cos)), 4),
        },
        "query_cosine": {
            "min": round(float(query_cos.min()), 4),
            "median": round(float(np.median(query_cos)), 4),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--table", type=Path, help="movies_info parquet (or Delta) directory")
    source.add_argument("--synthetic", type=int, default=2000, help="rows of a synthetic table")
    parser.add_argument("--limit", type=int, help="use only this many rows of --table")
    parser.add_argument("--queries", type=int, default=500, help="distinct queries (>= 500)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON")
    parser.add_argument(
        "--int8", type=Path, metavar="ENCODER_DIR", help="only fp32 vs int8 ONNX (see 5.)"
    )
    args = parser.parse_args(argv)

    if args.table is not None:
        table = read_table(args.table)
        if args.limit is not None:
            # A fixed random subset, not the head: the head is sorted by id, hence by age.
            count = min(args.limit, table.num_rows)
            keep = sorted(random.Random(5).sample(range(table.num_rows), count))
            table = table.take(keep)
        dataset = {"source": str(args.table), "rows": table.num_rows}
    else:
        table = synthetic_table(args.synthetic)
        dataset = {"source": "synthetic", "rows": table.num_rows}

    load_before = os.getloadavg()[0]
    if args.int8 is not None:
        compared = int8_comparison(table, args.queries, args.int8)
        compared["load_average_before"] = [round(x, 2) for x in (load_before,)]
        compared["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_index_int8.json").write_text(json.dumps(compared, indent=2))
        sys.stdout.write(json.dumps(compared, indent=2) + "\n")
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_index_") as scratch:
        results = bench(table, args.queries, Path(scratch))
    results["load_average_1m_before"] = round(load_before, 2)
    results["dataset"] = dataset
    results["environment"] = environment()
    results["created_at"] = datetime.now(UTC).isoformat()

    args.out.mkdir(parents=True, exist_ok=True)
    name = f"bench_index-{dataset['source'] if args.table is None else 'table'}-{table.num_rows}"
    out = args.out / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(results, indent=2))
    sys.stdout.write(render(results) + f"\n\nwritten to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
