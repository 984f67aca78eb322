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

GRID_ALPHA = (1.0, 0.5, 0.45, 0.4, 0.35)
GRID_SHRINKAGE = (0.0, 2.0, 5.0, 10.0)
# The chain's neighbours: the settings of step 0 that can lead without concentrating more.
GRID_CHAIN_ALPHA = (0.5, 0.45, 0.4, 0.35)
GRID_CHAIN_SHRINKAGE = (2.0, 5.0, 10.0)
GRID_COLLAB = (1.0, 2.0, 4.0)
GRID_LIKE_SIMILARITY = (0.3, 0.15)
GRID_LIKE_POPULARITY = (0.15, 0.05, 0.0)
GRID_LIKE_RATING = (0.25, 0.1)
GRID_MIN_LIKES = (5, 15, 25, 40, 60)
K = 10
# A choice must be clearly less concentrated than cosine item-kNN on the validation users (at
# most this share of its top-1% concentration), so that the bar holds on other users too.
CONCENTRATION_MARGIN = 0.9
_PARTS = ("similarity", "collab", "personal", "rating", "popularity", "boost")


def validation_context(context: EvalContext) -> EvalContext:
    """The same context with the validation users in the place of the test users."""
    split = dataclasses.replace(context.split, test_users=context.split.validation_users)
    return dataclasses.replace(context, split=split)


def pick(results: dict[Any, list[float]], feasible: Sequence[Any] | None = None) -> Any:
    """The first setting within one standard error (paired) of the best one.

    Only ``feasible`` settings (all when None) are candidates.
    """
    keys = [k for k in results if feasible is None or k in feasible] or list(results)
    best_key = max(keys, key=lambda key: statistics.fmean(results[key]))
    best = results[best_key]
    for key in keys:
        differences = [b - v for b, v in zip(best, results[key], strict=True)]
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


def tune(workdir: Path, say: Any = print) -> dict[str, Any]:
    """Run the grid searches and return the choices with their validation scores."""
    settings = MovieRagSettings(workdir=workdir)
    params = ProtocolParams()
    inputs = EvaluationInputs.from_build_report(workdir)
    context = EvaluationBuild(settings, inputs, params, progress=say).prepare()
    validation = validation_context(context)
    queries = SpecificSimilarProtocol().queries(validation)
    counts = context.rating_counts
    say(f"validation similar-specific queries: {len(queries)}")

    def fit(alpha: float, shrinkage: float) -> Any:
        return fit_item_knn(
            context.train_ratings,
            like_threshold=params.like_threshold,
            alpha=alpha,
            shrinkage=shrinkage,
        )

    knn: dict[tuple[float, float], list[float]] = {}
    knn_conc: dict[tuple[float, float], float] = {}
    for alpha, shrinkage in itertools.product(GRID_ALPHA, GRID_SHRINKAGE):
        system = ItemKNNSystem(fit(alpha, shrinkage))
        lists = [system.recommend(q, K) for q in queries]
        knn[(alpha, shrinkage)] = precisions(lists, queries)
        knn_conc[(alpha, shrinkage)] = concentration(lists, counts)
        say(
            f"item-kNN alpha={alpha} shrinkage={shrinkage}: "
            f"P@10 {statistics.fmean(knn[(alpha, shrinkage)]):.4f} "
            f"top-1% {knn_conc[(alpha, shrinkage)]:.3f}"
        )
    # The bar: no more concentrated on the usual blockbusters than plain cosine item-kNN.
    ceiling = knn_conc[(0.5, 0.0)]

    chain, _ = chain_for(context)
    if chain.collab is None:
        raise SystemExit("the evaluation build has no collaborative model (no ratings?)")
    eval_settings = chain.settings
    parsed = [chain.parser.parse(q.query) for q in queries]

    def fit_chain(alpha: float, shrinkage: float) -> Any:
        # The chain's neighbours: the build's top-n and co-like floor, the grid's scoring.
        return fit_item_knn(
            context.train_ratings,
            like_threshold=params.like_threshold,
            top_n=eval_settings.collab_top_n,
            min_co_likes=eval_settings.collab_min_co_likes,
            alpha=alpha,
            shrinkage=shrinkage,
        )

    blend: dict[tuple[float, ...], list[float]] = {}
    blend_conc: dict[tuple[float, ...], float] = {}
    for alpha, shrinkage in itertools.product(GRID_CHAIN_ALPHA, GRID_CHAIN_SHRINKAGE):
        chain.collab.neighbours = fit_chain(alpha, shrinkage)
        recorded = [
            chain.ranker.rank(p, K, exclude=q.exclude) for p, q in zip(parsed, queries, strict=True)
        ]
        grid = itertools.product(
            GRID_COLLAB, GRID_LIKE_SIMILARITY, GRID_LIKE_POPULARITY, GRID_LIKE_RATING
        )
        for collab, sim, pop, rating in grid:
            weights = {
                "similarity": sim,
                "collab": collab,
                "personal": 0.0,
                "rating": rating,
                "popularity": pop,
                "boost": eval_settings.weight_boost,
            }
            key = (alpha, shrinkage, collab, sim, pop, rating)
            lists = [reorder(c, weights, chain.ranker) for c in recorded]
            blend[key] = precisions(lists, queries)
            blend_conc[key] = concentration(lists, counts)
        best = max(
            (k for k in blend if k[:2] == (alpha, shrinkage)),
            key=lambda k: statistics.fmean(blend[k]),
        )
        feasible_here = [
            k
            for k in blend
            if k[:2] == (alpha, shrinkage) and blend_conc[k] <= CONCENTRATION_MARGIN * ceiling
        ]
        if feasible_here:
            top = max(feasible_here, key=lambda k: statistics.fmean(blend[k]))
            say(
                f"  best clearly below cosine's concentration {top[2:]}: "
                f"P@10 {statistics.fmean(blend[top]):.4f} top-1% {blend_conc[top]:.3f}"
            )
        say(
            f"like-X alpha={alpha} shrinkage={shrinkage}: best {best[2:]} "
            f"P@10 {statistics.fmean(blend[best]):.4f} top-1% {blend_conc[best]:.3f}"
        )
    feasible = [k for k, v in blend_conc.items() if v <= CONCENTRATION_MARGIN * ceiling]
    alpha, shrinkage, weight_collab, like_sim, like_pop, like_rating = pick(blend, feasible)
    key = (alpha, shrinkage, weight_collab, like_sim, like_pop, like_rating)
    say(f"chosen {key}: P@10 {statistics.fmean(blend[key]):.4f} top-1% {blend_conc[key]:.3f}")
    chain.collab.neighbours = fit_chain(alpha, shrinkage)
    min_likes: dict[int, list[float]] = {}
    min_likes_conc: dict[int, float] = {}
    for value in GRID_MIN_LIKES:
        chain.ranker.settings = eval_settings.model_copy(
            update={
                "weight_collab": weight_collab,
                "weight_like_similarity": like_sim,
                "weight_like_popularity": like_pop,
                "weight_like_rating": like_rating,
                "collab_min_likes": value,
            }
        )
        lists = [
            [c.movie_id for c in chain.ranker.rank(p, K, exclude=q.exclude)][:K]
            for p, q in zip(parsed, queries, strict=True)
        ]
        min_likes[value] = precisions(lists, queries)
        min_likes_conc[value] = concentration(lists, counts)
        say(
            f"collab_min_likes={value}: P@10 {statistics.fmean(min_likes[value]):.4f} "
            f"top-1% {min_likes_conc[value]:.3f}"
        )
    feasible_likes = [v for v, c in min_likes_conc.items() if c <= CONCENTRATION_MARGIN * ceiling]
    chosen_min_likes = pick(min_likes, feasible_likes)
    chosen = {
        "collab_alpha": alpha,
        "collab_shrinkage": shrinkage,
        "weight_collab": weight_collab,
        "weight_like_similarity": like_sim,
        "weight_like_popularity": like_pop,
        "weight_like_rating": like_rating,
        "collab_min_likes": chosen_min_likes,
    }
    return {
        "chosen": chosen,
        "concentration_ceiling": ceiling,
        "item-knn": {
            f"{a}/{s}": {"precision": statistics.fmean(v), "concentration": knn_conc[(a, s)]}
            for (a, s), v in knn.items()
        },
        "like-x": {
            "/".join(map(str, k)): {
                "precision": statistics.fmean(v),
                "concentration": blend_conc[k],
            }
            for k, v in blend.items()
        },
        "collab_min_likes": {
            str(v): {"precision": statistics.fmean(p), "concentration": min_likes_conc[v]}
            for v, p in min_likes.items()
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
