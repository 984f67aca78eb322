"""The ReDial conversational protocol: extraction on a hand-made dialogue, floors on real data.

The real-data test runs the chain and the three baselines on ``redial_valid`` over the
session's real build and asserts the measured floors (see docs/evaluation.md).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from movie_rag.chain.catalogue import Catalogue
from movie_rag.evaluation.redial import (
    BM25Baseline,
    ChainConversation,
    ConversationalResult,
    ItemKNNBaseline,
    PopularityBaseline,
    RedialCase,
    evaluate,
    extract_cases,
    load_dialogues,
    ndcg_ratio_interval,
)

SEEKER, RECOMMENDER = 744, 696


def _catalogue() -> Catalogue:
    rows = [
        (1, "Toy Story", 1995, ["Animation", "Comedy"]),
        (2, "Bridesmaids", 2011, ["Comedy"]),
        (3, "Whip It", 2009, ["Comedy", "Drama"]),
        (4, "Ghostbusters", 1984, ["Comedy", "Sci-Fi"]),
        (5, "Heat", 1995, ["Crime"]),
    ]
    return Catalogue(
        pa.table(
            {
                "movie_id": [r[0] for r in rows],
                "title": [r[1] for r in rows],
                "year": [r[2] for r in rows],
                "genres": [r[3] for r in rows],
                "directors": [[] for _ in rows],
                "cast": [[] for _ in rows],
                "votes": [100 for _ in rows],
                "rating": [7.0 for _ in rows],
                "url": [None for _ in rows],
                "overview": ["" for _ in rows],
            }
        )
    )


def _dialogue() -> dict[str, Any]:
    messages = [
        (RECOMMENDER, "Hello"),
        (SEEKER, "hi"),
        (SEEKER, "how are u"),
        (SEEKER, "comedies, i loved @140066"),
        (RECOMMENDER, "Have you seen @136983 or @102249?"),
        (SEEKER, "no"),
        (RECOMMENDER, "Then @161259 or @999"),
    ]
    return {
        "conversationId": "1",
        "initiatorWorkerId": SEEKER,
        "respondentWorkerId": RECOMMENDER,
        "movieMentions": {
            "140066": "Bridesmaids  (2011)",
            "136983": "Ghostbusters (1984)",
            "102249": "Whip It  (2009)",
            "161259": "Toy Story ",
            "999": "Not A Catalogue Film (2001)",
        },
        "initiatorQuestions": {
            "140066": {"suggested": 0, "seen": 1, "liked": 1},
            "136983": {"suggested": 1, "seen": 0, "liked": 1},
            "102249": {"suggested": 1, "seen": 0, "liked": 0},
            "161259": {"suggested": 1, "seen": 1, "liked": 1},
            "999": {"suggested": 1, "seen": 1, "liked": 1},
        },
        "respondentQuestions": {},
        "messages": [
            {"senderWorkerId": s, "text": text, "messageId": i, "timeOffset": i}
            for i, (s, text) in enumerate(messages)
        ],
    }


@pytest.fixture
def dialogue_file(tmp_path: Path) -> Path:
    path = tmp_path / "redial.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(_dialogue()) + "\n")
        empty = _dialogue() | {"conversationId": "2", "messages": []}
        handle.write(json.dumps(empty) + "\n")
    return path


def test_extraction_reads_the_request_before_the_first_suggestion(dialogue_file: Path) -> None:
    cases, stats = extract_cases(load_dialogues(dialogue_file), _catalogue())

    assert len(cases) == 1
    case = cases[0]
    # The seeker's messages before the recommender named a movie, names written in.
    assert case.messages == ("hi", "how are u", "comedies, i loved Bridesmaids (2011)")
    # Suggested and liked afterwards (Whip It was not liked; the 999 film is not in the catalogue).
    assert case.truth == {4, 1}
    assert case.seeds == (2,) and case.named == {2}
    assert (stats.dialogues, stats.with_request, stats.accepted, stats.accepted_matched) == (
        2,
        1,
        3,
        2,
    )
    assert stats.match_rate == pytest.approx(2 / 3)


def test_baselines_leave_out_what_the_seeker_named() -> None:
    ratings = pa.table(
        {
            "user_id": [1, 1, 2, 2, 3, 3, 3],
            "movie_id": [2, 4, 2, 4, 2, 1, 5],
            "rating": [5.0, 5.0, 4.5, 4.0, 5.0, 2.0, 4.0],
        }
    )
    case = RedialCase("1", ("i loved Bridesmaids (2011)",), frozenset({4}), (2,), frozenset({2}))
    popularity = PopularityBaseline(ratings, [1, 2, 3, 4, 5])
    knn = ItemKNNBaseline(ratings, popularity)

    assert popularity.recommend(case, 2) == [4, 1]
    assert knn.recommend(case, 1) == [4]  # Bridesmaids' fans liked Ghostbusters
    results = evaluate([case], [popularity, knn], k=2)
    assert [r.system for r in results] == ["popularity", "item-knn"]
    assert results[0].ndcg == 1.0 and results[0].empty == 0


def _result(name: str, scores: list[float]) -> ConversationalResult:
    return ConversationalResult(
        system=name,
        cases=len(scores),
        ndcg=sum(scores) / len(scores),
        recall=0.0,
        hit_rate=0.0,
        empty=0,
        seconds=0.0,
        case_ndcg=scores,
    )


def test_the_ratio_interval_holds_the_ratio_and_narrows_with_more_cases() -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    hits = rng.random(400) < 0.2
    baseline = [float(h) for h in hits]
    # Twice the baseline's hits: every baseline hit and as many others.
    others = set(np.flatnonzero(~hits)[: int(hits.sum())].tolist())
    better = [1.0 if h or i in others else 0.0 for i, h in enumerate(hits)]
    ratio = sum(better) / sum(baseline)

    low, high = ndcg_ratio_interval(_result("a", better), _result("b", baseline))
    few_low, few_high = ndcg_ratio_interval(_result("a", better[:80]), _result("b", baseline[:80]))

    assert ratio == pytest.approx(2.0, abs=0.05)
    assert 1.0 < low < ratio < high
    assert few_high - few_low > high - low
    assert ndcg_ratio_interval(_result("a", better), _result("b", baseline)) == (low, high)


def test_a_baseline_with_one_hit_leaves_the_interval_open_above() -> None:
    ours = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    theirs = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]

    assert ndcg_ratio_interval(_result("a", ours), _result("b", theirs)) == (1.0, float("inf"))


def test_the_ratio_interval_needs_the_same_cases() -> None:
    with pytest.raises(ValueError, match="same cases"):
        ndcg_ratio_interval(_result("a", [1.0, 0.0]), _result("b", [1.0, 0.0, 0.0]))


# --------------------------------------------------------------------------- real data

#: Floors measured on redial_valid (docs/evaluation.md, "Conversational requests"), a
#: little under the measured values so load and ties do not flake.
CHAIN_NDCG_FLOOR = 0.0525  # measured 0.0561
# Chain nDCG@10 over the best baseline's (popularity): measured 1.46; the bar is 2
# (not reached, see docs/evaluation.md). HR@10 is 1.6x popularity's.
RATIO_FLOOR = 1.38
MATCH_RATE_FLOOR = 0.9


@pytest.fixture(scope="module")
def redial_valid(real_build, shared_data: Path) -> dict[str, Any]:
    import pyarrow.csv as pv

    from movie_rag.chain.assembly import read_catalogue
    from movie_rag.chain.recommender import RecommenderChain

    settings, _ = real_build
    chain = RecommenderChain.from_settings(settings)
    dialogues = load_dialogues(shared_data / "redial" / "redial_valid.jsonl.gz")
    cases, stats = extract_cases(dialogues, chain.catalogue)
    ratings = pv.read_csv(shared_data / "ml-latest-small" / "ratings.csv").rename_columns(
        ["user_id", "movie_id", "rating", "timestamp"]
    )
    popularity = PopularityBaseline(ratings, chain.catalogue.ids())
    systems = [
        popularity,
        BM25Baseline(read_catalogue(settings, chain.index)),
        ItemKNNBaseline(ratings, popularity),
        ChainConversation(chain),
    ]
    results = {r.system: r for r in evaluate(cases, systems, k=10)}
    return {"cases": cases, "stats": stats, "results": results}


@pytest.mark.spark
@pytest.mark.slow
def test_redial_valid_chain_beats_the_baselines_and_answers_every_request(
    redial_valid: dict[str, Any],
) -> None:
    stats, results = redial_valid["stats"], redial_valid["results"]
    assert stats.match_rate >= MATCH_RATE_FLOOR
    assert stats.cases >= 80
    chain = results.pop("chain")
    best = max(results.values(), key=lambda r: r.ndcg)
    assert chain.empty == 0, chain.empty_ids
    assert chain.ndcg >= CHAIN_NDCG_FLOOR
    assert chain.ndcg >= RATIO_FLOOR * best.ndcg, (chain.ndcg, best.system, best.ndcg)
    assert chain.hit_rate >= best.hit_rate
    # On 89 conversations the ratio is uncertain: the interval holds it and is wide.
    low, high = ndcg_ratio_interval(chain, best)
    assert low < chain.ndcg / best.ndcg < high
