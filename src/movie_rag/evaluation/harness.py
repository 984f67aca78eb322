"""Run systems over protocols and score them: the core loop of the evaluation.

:func:`run_protocol` asks every system for ``k`` movies per query, times it, and averages the
ranking metrics; the beyond-accuracy metrics are computed over all of a system's lists.
Systems that declare ``protocols`` and do not list this one are reported as not applicable.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, Field

from movie_rag.evaluation import metrics as m
from movie_rag.evaluation.protocols import EvalProtocol, EvalQuery
from movie_rag.evaluation.systems import EvalContext, RecommenderSystem

__all__ = ["ProtocolResult", "SystemResult", "run_protocol", "score_lists"]

logger = logging.getLogger("movie_rag")

#: Metric names in report order.
RANKING_METRICS = ("precision", "recall", "ndcg", "hit_rate", "mrr")
BEYOND_METRICS = ("coverage", "diversity", "novelty", "popularity", "concentration", "grounding")

Progress = Callable[[str], None]


class SystemResult(BaseModel):
    """One system on one protocol.

    Attributes:
        system: The system's name.
        metrics: Metric name → value (ranking metrics averaged over queries).
        seconds: Wall time of all its queries.
        latency_ms_p50: Median time per query.
        applicable: False when the system does not handle this protocol (metrics empty).
        per_query: Per-query nDCG in query order (for plots and significance checks).
    """

    system: str
    metrics: dict[str, float] = Field(default_factory=dict)
    seconds: float = 0.0
    latency_ms_p50: float = 0.0
    applicable: bool = True
    per_query: list[float] = Field(default_factory=list)


class ProtocolResult(BaseModel):
    """All systems on one protocol."""

    protocol: str
    description: str = ""
    k: int
    queries: int
    systems: list[SystemResult] = Field(default_factory=list)
    extra: dict[str, float] = Field(default_factory=dict)

    def result(self, system: str) -> SystemResult:
        """The result of the system called ``system``."""
        for result in self.systems:
            if result.system == system:
                return result
        raise KeyError(f"no result for system {system!r} on protocol {self.protocol!r}")


def run_protocol(
    protocol: EvalProtocol,
    context: EvalContext,
    systems: Mapping[str, RecommenderSystem],
    *,
    queries: Sequence[EvalQuery] | None = None,
    progress: Progress | None = None,
) -> ProtocolResult:
    """Evaluate every system on one protocol.

    Args:
        protocol: The protocol (its queries come from ``context`` unless given).
        context: The evaluation context.
        systems: Name → built system.
        queries: Use these queries instead of ``protocol.queries(context)``.
        progress: Called with a short message per system.

    Returns:
        Metrics per system, in the order of ``systems``.
    """
    say = progress or (lambda message: None)
    k = context.params.k
    chosen = list(queries) if queries is not None else protocol.queries(context)
    result = ProtocolResult(
        protocol=protocol.name, description=protocol.description, k=k, queries=len(chosen)
    )
    for name, system in systems.items():
        allowed = getattr(system, "protocols", None)
        if allowed is not None and protocol.name not in allowed:
            result.systems.append(SystemResult(system=name, applicable=False))
            continue
        say(f"{protocol.name}: {name} on {len(chosen)} queries")
        lists: list[list[int]] = []
        times: list[float] = []
        for query in chosen:
            started = time.perf_counter()
            lists.append(list(system.recommend(query, k))[:k])
            times.append(time.perf_counter() - started)
        scored = score_lists(lists, chosen, context, k)
        extra = getattr(system, "extra_metrics", None)
        if callable(extra):
            scored.update(extra())
        result.systems.append(
            SystemResult(
                system=name,
                metrics=scored,
                seconds=round(sum(times), 3),
                latency_ms_p50=round(statistics.median(times) * 1000, 3) if times else 0.0,
                per_query=[
                    round(m.ndcg_at_k(lst, q.relevant, k), 6)
                    for lst, q in zip(lists, chosen, strict=True)
                ],
            )
        )
    return result


def score_lists(
    lists: Sequence[Sequence[int]], queries: Sequence[EvalQuery], context: EvalContext, k: int
) -> dict[str, float]:
    """Every metric of one system's lists on one protocol's queries."""
    if len(lists) != len(queries):
        raise ValueError(f"{len(lists)} lists for {len(queries)} queries")
    scores: dict[str, float] = {}
    functions = {
        "precision": m.precision_at_k,
        "recall": m.recall_at_k,
        "ndcg": m.ndcg_at_k,
        "hit_rate": m.hit_rate_at_k,
        "mrr": m.reciprocal_rank,
    }
    for name, function in functions.items():
        values = [function(lst, q.relevant, k) for lst, q in zip(lists, queries, strict=True)]
        scores[name] = round(statistics.fmean(values), 6) if values else 0.0
    scores["coverage"] = round(m.catalogue_coverage(lists, len(context.catalogue_ids)), 6)
    scores["diversity"] = round(m.intra_list_diversity(lists, context.genres), 6)
    scores["novelty"] = round(m.novelty(lists, context.rating_counts, context.n_train_users), 6)
    scores["popularity"] = round(m.popularity(lists, context.rating_counts), 3)
    scores["concentration"] = round(m.concentration(lists, context.rating_counts), 6)
    scores["grounding"] = round(m.grounding_rate(lists, context.catalogue_ids), 6)
    return scores
