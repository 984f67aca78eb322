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
"""
