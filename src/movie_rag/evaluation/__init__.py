"""Offline evaluation of the recommender against baselines, with fixed, documented protocols.

Modules (import what you need; nothing heavy is imported here):

- :mod:`~movie_rag.evaluation.splits` — ``split_users(ratings, seed=42,
  validation_fraction=0.1, test_fraction=0.2) -> UserSplit``: disjoint train / validation /
  test users and their ratings.
- :mod:`~movie_rag.evaluation.protocols` — ``ProtocolParams`` (every parameter, fixed),
  ``EvalQuery`` (query, seed_movie_ids, user_id, relevant, exclude), the ``tags`` and
  ``similar`` protocols and the ``PROTOCOLS`` registry.
- :mod:`~movie_rag.evaluation.systems` — the ``RecommenderSystem`` protocol
  (``name``, ``recommend(query, k) -> list[int]``), ``EvalContext`` (settings and catalogue of
  the evaluation build, train ratings, split, params) and the ``SYSTEMS`` registry of
  factories ``build(context) -> RecommenderSystem``: random, popularity, BM25, item-kNN and
  our chain.
- :mod:`~movie_rag.evaluation.metrics` — precision/recall/nDCG/hit-rate@k, MRR, coverage,
  intra-list diversity, novelty, popularity, grounding rate.
- :mod:`~movie_rag.evaluation.harness` — ``run_protocol``: every system on one protocol.

Adding a system or a protocol is one line::

    from movie_rag.evaluation.protocols import PROTOCOLS
    from movie_rag.evaluation.systems import SYSTEMS

    SYSTEMS["hybrid"] = build_hybrid          # (context: EvalContext) -> RecommenderSystem
    PROTOCOLS["per-user"] = PerUserProtocol() # .name, .description, .queries(context)

The names above are also importable from this package, on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.evaluation.harness import ProtocolResult, SystemResult, run_protocol
    from movie_rag.evaluation.protocols import PROTOCOLS, EvalProtocol, EvalQuery, ProtocolParams
    from movie_rag.evaluation.splits import UserSplit, split_users
    from movie_rag.evaluation.systems import (
        SYSTEMS,
        EvalContext,
        RecommenderSystem,
        SystemUnavailable,
    )

__all__ = [
    "PROTOCOLS",
    "SYSTEMS",
    "EvalContext",
    "EvalProtocol",
    "EvalQuery",
    "ProtocolParams",
    "ProtocolResult",
    "RecommenderSystem",
    "SystemResult",
    "SystemUnavailable",
    "UserSplit",
    "run_protocol",
    "split_users",
]

_EXPORTS: dict[str, str] = {
    "ProtocolResult": "movie_rag.evaluation.harness",
    "SystemResult": "movie_rag.evaluation.harness",
    "run_protocol": "movie_rag.evaluation.harness",
    "EvalProtocol": "movie_rag.evaluation.protocols",
    "EvalQuery": "movie_rag.evaluation.protocols",
    "PROTOCOLS": "movie_rag.evaluation.protocols",
    "ProtocolParams": "movie_rag.evaluation.protocols",
    "UserSplit": "movie_rag.evaluation.splits",
    "split_users": "movie_rag.evaluation.splits",
    "EvalContext": "movie_rag.evaluation.systems",
    "RecommenderSystem": "movie_rag.evaluation.systems",
    "SYSTEMS": "movie_rag.evaluation.systems",
    "SystemUnavailable": "movie_rag.evaluation.systems",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
