"""The similar-specific bar on the real data: lift-scored "like X" against cosine item-kNN.

Measured on the reduced protocol's 150 similar-specific queries (test users; docs/evaluation.md
has the full protocol). The floors are the issue's bar, not noise margins.
"""

from __future__ import annotations

import pytest

from movie_rag.evaluation.harness import run_protocol
from movie_rag.evaluation.lift import SpecificSimilarProtocol, build_cosine_item_knn
from movie_rag.evaluation.systems import build_chain, build_popularity

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_chain_beats_cosine_item_knn_on_the_specific_truth(evaluation) -> None:
    report, context = evaluation
    systems = {
        "popularity": build_popularity(context),
        "item-knn-cosine": build_cosine_item_knn(context),
        "chain": build_chain(context),
    }
    result = run_protocol(SpecificSimilarProtocol(), context, systems)
    assert result.queries == 150
    metrics = {r.system: r.metrics for r in result.systems}
    chain, cosine, popularity = metrics["chain"], metrics["item-knn-cosine"], metrics["popularity"]
    print(
        {
            name: {m: v[m] for m in ("precision", "hit_rate", "concentration")}
            for name, v in metrics.items()
        }
    )
    assert chain["precision"] >= 1.15 * cosine["precision"]
    assert chain["hit_rate"] >= cosine["hit_rate"]
    assert chain["concentration"] < cosine["concentration"]
    assert popularity["concentration"] == 1.0 and popularity["precision"] < cosine["precision"]
    # The tag protocol keeps its level (reduced protocol, 30 queries).
    assert report.protocol("tags").result("chain").metrics["ndcg"] >= 0.135
