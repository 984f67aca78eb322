"""Choose the hybrid ranking's weights on validation users, never on the evaluation split.

Usage::

    .venv/bin/python scripts/tune_hybrid.py --workdir .movie_rag [--json out.json] [--check]

The workdir must hold a build (``movie-rag build``). The script prepares (or reuses) the
evaluation build of :mod:`movie_rag.evaluation.build` — trained on the training users only —
and measures nDCG@10 on the split's *validation* users and on validation tags (eligible
tags that the evaluation's ``tags`` protocol did not draw), one choice at a time:

0. ``collab_alpha``, the co-like normalisation, for item-kNN alone on "I liked X" queries of
   validation users (the hybrid then uses neighbours fitted with the chosen value);
1. ``weight_collab`` x ``collab_min_likes`` x ``weight_like_similarity`` x
   ``weight_like_popularity`` on the same queries, for the hybrid chain;
2. ``weight_collab_text`` on validation tag queries;
3. ``weight_personal`` on the per-user protocol of validation users.

The existing content weights (similarity, rating, popularity, boost) are kept for queries
without a seed. Each choice follows the one-standard-error rule: the first grid value (grids
run from the setting closest to content-only up) whose per-query nDCG@10 is within one
standard error of the paired difference from the best value's. A small validation set then
cannot talk the ranking into a more extreme weight whose gain is noise. ``--check`` exits
with status 1 when the choices differ from the defaults in ``MovieRagSettings``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from movie_rag.collab.item_knn import fit_item_knn
from movie_rag.evaluation.build import EvaluationBuild, EvaluationInputs
from movie_rag.evaluation.hybrid_systems import HybridSystem, _HistoryChain, chain_for
from movie_rag.evaluation.metrics import ndcg_at_k
from movie_rag.evaluation.per_user import PerUserProtocol
from movie_rag.evaluation.protocols import (
    EvalQuery,
    ProtocolParams,
    SimilarMovieProtocol,
    TagQueryProtocol,
    heldout_tags,
)
from movie_rag.evaluation.systems import EvalContext, ItemKNNSystem
from movie_rag.ingest.movielens import MovieLensLoader
from movie_rag.settings import MovieRagSettings

GRID_ALPHA = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GRID_COLLAB = (0.5, 1.0, 2.0, 4.0)
GRID_MIN_LIKES = (5, 20)
GRID_LIKE_SIMILARITY = (0.6, 0.3, 0.15)  # 0.6 = the content-only weight_similarity
GRID_LIKE_POPULARITY = (0.15, 0.5, 1.0, 2.0)  # 0.15 = the content-only weight_popularity
GRID_COLLAB_TEXT = (0.0, 0.1, 0.2, 0.4, 0.8)
GRID_PERSONAL = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
VALIDATION_TAGS = 60
K = 10


def validation_context(context: EvalContext) -> EvalContext:
    """The same context with the validation users in the place of the test users."""
    split = dataclasses.replace(context.split, test_users=context.split.validation_users)
    return dataclasses.replace(context, split=split)


def validation_tag_queries(context: EvalContext, inputs: EvaluationInputs) -> list[EvalQuery]:
    """Tag queries from eligible tags the evaluation did not draw (seeded, disjoint)."""
    tags = MovieLensLoader(context.settings).load(inputs.movielens_dir).tags
    everything = context.params.model_copy(update={"tag_queries": 1_000_000})
    eligible = heldout_tags(tags, everything)
    spare = sorted(t for t in eligible if t not in context.heldout_tags)
    drawn = random.Random(context.params.seed + 1).sample(spare, min(VALIDATION_TAGS, len(spare)))
    tag_context = dataclasses.replace(context, heldout_tags={t: eligible[t] for t in drawn})
    return TagQueryProtocol().queries(tag_context)


class Scores(list[float]):
    """Per-query nDCG@10; formats as its mean."""

    @property
    def mean(self) -> float:
        return statistics.fmean(self) if self else 0.0

    def __format__(self, spec: str) -> str:
        return format(self.mean, spec)


def score(system: Any, queries: Sequence[EvalQuery]) -> Scores:
    """Per-query nDCG@10 of a system (or a chain) on the queries."""
    if isinstance(system, _HistoryChain):
        system = HybridSystem(system, name="hybrid")
    return Scores(ndcg_at_k(system.recommend(q, K), q.relevant, K) for q in queries)


def pick(results: dict[Any, Scores]) -> Any:
    """The first setting within one standard error (paired) of the best one."""
    best_key = max(results, key=lambda key: results[key].mean)
    best = results[best_key]
    for key, values in results.items():
        differences = [b - v for b, v in zip(best, values, strict=True)]
        spread = statistics.stdev(differences) if len(differences) > 1 else 0.0
        if statistics.fmean(differences) <= spread / len(differences) ** 0.5:
            return key
    return best_key


def with_weights(base: _HistoryChain, settings: MovieRagSettings, **weights: Any) -> _HistoryChain:
    """A chain over the same index, catalogue and model with other weights."""
    chain = _HistoryChain(
        base.index,
        base.catalogue,
        settings=settings.model_copy(update=weights),
        collab=base.collab,
    )
    return chain


def tune(workdir: Path, say: Any = print) -> dict[str, Any]:
    """Run the grid searches and return the choices with their validation scores."""
    settings = MovieRagSettings(workdir=workdir)
    params = ProtocolParams()
    inputs = EvaluationInputs.from_build_report(workdir)
    context = EvaluationBuild(settings, inputs, params, progress=say).prepare()
    validation = validation_context(context)
    similar = SimilarMovieProtocol().queries(validation)
    tags = validation_tag_queries(context, inputs)
    users = PerUserProtocol(users="validation").queries(context)
    say(f"validation queries: {len(similar)} similar, {len(tags)} tags, {len(users)} per-user")
    base = chain_for(context)
    if base.collab is None:
        raise SystemExit("the evaluation build has no collaborative model (no ratings?)")
    eval_settings = base.settings

    alphas: dict[float, Scores] = {}
    for alpha in GRID_ALPHA:
        knn = fit_item_knn(context.train_ratings, like_threshold=params.like_threshold, alpha=alpha)
        alphas[alpha] = score(ItemKNNSystem(knn), similar)
        say(f"item-kNN alpha={alpha}: {alphas[alpha]:.4f}")
    alpha = pick(alphas)
    # The hybrid below uses neighbours fitted with the chosen normalisation (the same
    # computation the build's Spark job runs), whatever the evaluation build was trained with.
    base.collab.neighbours = fit_item_knn(
        context.train_ratings,
        like_threshold=params.like_threshold,
        top_n=eval_settings.collab_top_n,
        min_co_likes=eval_settings.collab_min_co_likes,
        alpha=alpha,
    )

    like_x: dict[tuple[float, int, float, float], Scores] = {}
    content = score(with_weights(base, eval_settings, weight_collab=0.0), similar)
    say(f"like-X content alone: {content:.4f}")
    for weight in GRID_COLLAB:
        for min_likes in GRID_MIN_LIKES:
            for like_sim in GRID_LIKE_SIMILARITY:
                for like_pop in GRID_LIKE_POPULARITY:
                    key = (weight, min_likes, like_sim, like_pop)
                    chain = with_weights(
                        base,
                        eval_settings,
                        weight_collab=weight,
                        collab_min_likes=min_likes,
                        weight_like_similarity=like_sim,
                        weight_like_popularity=like_pop,
                    )
                    like_x[key] = score(chain, similar)
                    say(f"like-X {key}: {like_x[key]:.4f}")
    weight_collab, min_likes, like_sim, like_pop = pick(like_x)
    chosen = {
        "collab_alpha": alpha,
        "weight_collab": weight_collab,
        "collab_min_likes": min_likes,
        "weight_like_similarity": like_sim,
        "weight_like_popularity": like_pop,
    }

    text: dict[float, Scores] = {}
    for weight in GRID_COLLAB_TEXT:
        chain = with_weights(base, eval_settings, **chosen, weight_collab_text=weight)
        text[weight] = score(chain, tags)
        say(f"tags weight_collab_text={weight}: {text[weight]:.4f}")
    chosen["weight_collab_text"] = pick(text)

    personal: dict[float, Scores] = {}
    for weight in GRID_PERSONAL:
        chain = with_weights(base, eval_settings, **chosen, weight_personal=weight)
        personal[weight] = score(chain, users)
        say(f"per-user weight_personal={weight}: {personal[weight]:.4f}")
    chosen["weight_personal"] = pick(personal)
    return {
        "chosen": chosen,
        "validation_ndcg@10": {
            "item-knn alpha": {str(a): v.mean for a, v in alphas.items()},
            "similar content alone": content.mean,
            "similar": {"/".join(map(str, key)): v.mean for key, v in like_x.items()},
            "tags": {str(w): v.mean for w, v in text.items()},
            "per-user": {str(w): v.mean for w, v in personal.items()},
        },
        "queries": {"similar": len(similar), "tags": len(tags), "per-user": len(users)},
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
            print(f"defaults differ from the tuned weights (default, tuned): {differ}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
