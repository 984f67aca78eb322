"""Choose how "like X" scores neighbours, on validation users against the specific truth.

Usage::

    .venv/bin/python scripts/tune_like.py --workdir .movie_rag [--json out.json] [--check]

The workdir must hold a build (``movie-rag build``). The script prepares (or reuses) the
evaluation build of :mod:`movie_rag.evaluation.build` (trained on the training users only)
and scores the ``similar-specific`` protocol (:mod:`movie_rag.evaluation.lift`) with the
split's *validation* users in the place of the test users, never the test users:

0. ``collab_alpha`` x ``collab_shrinkage``: item-kNN alone (``fit_item_knn``, the function
   the build's single-node path calls and the Spark job reproduces), precision@10;
1. ``weight_collab`` x ``weight_like_similarity`` x ``weight_like_popularity``: the chain's
   "like X" blend over neighbours fitted with the chosen step-0 values. The chain's parser
   and ranker run once per query and neighbour setting; each weight setting then re-orders
   the same candidates with their recorded score parts (the ranking is linear in the
   weights), so the grid costs one ranking per query.

Each choice follows the one-standard-error rule on per-query precision@10: the first grid
value (grids run from the current behaviour outwards) within one standard error of the
paired difference from the best. The popularity concentration of each choice is printed
beside it. ``--check`` exits with status 1 when the choices differ from the defaults in
``MovieRagSettings``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from movie_rag.collab.item_knn import fit_item_knn
from movie_rag.evaluation.build import EvaluationBuild, EvaluationInputs
from movie_rag.evaluation.hybrid_systems import chain_for
from movie_rag.evaluation.lift import SpecificSimilarProtocol
from movie_rag.evaluation.metrics import concentration, precision_at_k
from movie_rag.evaluation.protocols import EvalQuery, ProtocolParams
from movie_rag.evaluation.systems import EvalContext, ItemKNNSystem
from movie_rag.settings import MovieRagSettings

GRID_ALPHA = (1.0, 0.5, 0.4, 0.3, 0.2)
GRID_SHRINKAGE = (0.0, 2.0, 5.0, 10.0, 20.0)
GRID_COLLAB = (0.5, 1.0, 2.0, 4.0)
GRID_LIKE_SIMILARITY = (0.3, 0.15, 0.05)
GRID_LIKE_POPULARITY = (1.0, 0.15, 0.05, 0.0)
K = 10
_PARTS = ("similarity", "collab", "personal", "rating", "popularity", "boost")


def validation_context(context: EvalContext) -> EvalContext:
    """The same context with the validation users in the place of the test users."""
    split = dataclasses.replace(context.split, test_users=context.split.validation_users)
    return dataclasses.replace(context, split=split)


def pick(results: dict[Any, list[float]]) -> Any:
    """The first setting within one standard error (paired) of the best one."""
    best_key = max(results, key=lambda key: statistics.fmean(results[key]))
    best = results[best_key]
    for key, values in results.items():
        differences = [b - v for b, v in zip(best, values, strict=True)]
        spread = statistics.stdev(differences) if len(differences) > 1 else 0.0
        if statistics.fmean(differences) <= spread / len(differences) ** 0.5:
            return key
    return best_key


def precisions(lists: Sequence[Sequence[int]], queries: Sequence[EvalQuery]) -> list[float]:
    """Per-query precision@10."""
    return [precision_at_k(lst, q.relevant, K) for lst, q in zip(lists, queries, strict=True)]


def reorder(candidates: list[Any], weights: dict[str, float], ranker: Any) -> list[int]:
    """The top ``K`` ids of recorded candidates blended with other weights."""
    scored = sorted(
        candidates,
        key=lambda c: (-sum(weights[p] * c.scores.get(p, 0.0) for p in _PARTS), c.movie_id),
    )
    return [c.movie_id for c in ranker._dedupe(scored)[:K]]


def blend_weights(settings: MovieRagSettings, collab: float, sim: float, pop: float) -> dict:
    """The weights ``Ranker._blend`` uses for a warm "like X" seed with these settings."""
    return {
        "similarity": sim,
        "collab": collab,
        "personal": 0.0,
        "rating": settings.weight_rating,
        "popularity": pop,
        "boost": settings.weight_boost,
    }


def tune(workdir: Path, say: Any = print) -> dict[str, Any]:
    """Run the two grid searches and return the choices with their validation scores."""
    settings = MovieRagSettings(workdir=workdir)
    params = ProtocolParams()
    inputs = EvaluationInputs.from_build_report(workdir)
    context = EvaluationBuild(settings, inputs, params, progress=say).prepare()
    validation = validation_context(context)
    queries = SpecificSimilarProtocol().queries(validation)
    counts = context.rating_counts
    say(f"validation similar-specific queries: {len(queries)}")

    knn: dict[tuple[float, float], list[float]] = {}
    knn_conc: dict[tuple[float, float], float] = {}
    for alpha, shrinkage in itertools.product(GRID_ALPHA, GRID_SHRINKAGE):
        model = fit_item_knn(
            context.train_ratings,
            like_threshold=params.like_threshold,
            alpha=alpha,
            shrinkage=shrinkage,
        )
        lists = [ItemKNNSystem(model).recommend(q, K) for q in queries]
        knn[(alpha, shrinkage)] = precisions(lists, queries)
        knn_conc[(alpha, shrinkage)] = concentration(lists, counts)
        say(
            f"item-kNN alpha={alpha} shrinkage={shrinkage}: "
            f"P@10 {statistics.fmean(knn[(alpha, shrinkage)]):.4f} "
            f"top-1% {knn_conc[(alpha, shrinkage)]:.3f}"
        )
    alpha, shrinkage = pick(knn)

    chain, _ = chain_for(context)
    if chain.collab is None:
        raise SystemExit("the evaluation build has no collaborative model (no ratings?)")
    eval_settings = chain.settings
    chain.collab.neighbours = fit_item_knn(
        context.train_ratings,
        like_threshold=params.like_threshold,
        top_n=eval_settings.collab_top_n,
        min_co_likes=eval_settings.collab_min_co_likes,
        alpha=alpha,
        shrinkage=shrinkage,
    )
    recorded = []
    for query in queries:
        parsed = chain.parser.parse(query.query)
        recorded.append(chain.ranker.rank(parsed, K, exclude=query.exclude))
    blend: dict[tuple[float, float, float], list[float]] = {}
    blend_conc: dict[tuple[float, float, float], float] = {}
    for key in itertools.product(GRID_COLLAB, GRID_LIKE_SIMILARITY, GRID_LIKE_POPULARITY):
        weights = blend_weights(eval_settings, *key)
        lists = [reorder(c, weights, chain.ranker) for c in recorded]
        blend[key] = precisions(lists, queries)
        blend_conc[key] = concentration(lists, counts)
        say(f"like-X {key}: P@10 {statistics.fmean(blend[key]):.4f} top-1% {blend_conc[key]:.3f}")
    weight_collab, like_sim, like_pop = pick(blend)
    chosen = {
        "collab_alpha": alpha,
        "collab_shrinkage": shrinkage,
        "weight_collab": weight_collab,
        "weight_like_similarity": like_sim,
        "weight_like_popularity": like_pop,
    }
    return {
        "chosen": chosen,
        "validation_precision@10": {
            "item-knn": {f"{a}/{s}": statistics.fmean(v) for (a, s), v in knn.items()},
            "like-x": {"/".join(map(str, k)): statistics.fmean(v) for k, v in blend.items()},
        },
        "validation_concentration": {
            "item-knn": {f"{a}/{s}": v for (a, s), v in knn_conc.items()},
            "like-x": {"/".join(map(str, k)): v for k, v in blend_conc.items()},
        },
        "queries": len(queries),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path(".movie_rag"))
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument(
        "--check", action="store_true", help="Fail when the defaults differ from the choices."
    )
    args = parser.parse_args(argv)
    result = tune(args.workdir)
    print(json.dumps(result["chosen"], indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.check:
        defaults = MovieRagSettings.model_fields
        differ = {
            name: (defaults[name].default, value)
            for name, value in result["chosen"].items()
            if defaults[name].default != value
        }
        if differ:
            print(f"defaults differ from the tuned values (default, tuned): {differ}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
