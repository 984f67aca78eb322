"""The harness and the baselines on a hand-made catalogue (no Spark, no index)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from movie_rag.evaluation.harness import run_protocol
from movie_rag.evaluation.protocols import EvalQuery, ProtocolParams
from movie_rag.evaluation.splits import split_users
from movie_rag.evaluation.systems import (
    BM25System,
    EvalContext,
    PopularitySystem,
    RandomSystem,
)
from movie_rag.settings import MovieRagSettings

DOCUMENTS = {
    1: "Heat (1995)\nGenres: Crime, Thriller\nKeywords: heist, bank robbery",
    2: "Toy Story (1995)\nGenres: Animation, Children\nKeywords: toys, friendship",
    3: "Ocean's Eleven (2001)\nGenres: Crime\nKeywords: heist, casino",
    4: "Alien (1979)\nGenres: Horror, Sci-Fi\nKeywords: space, creature",
    5: "Up (2009)\nGenres: Animation\nKeywords: balloon, adventure",
}


@pytest.fixture
def context(tmp_path) -> EvalContext:
    ids = sorted(DOCUMENTS)
    catalogue = pa.table(
        {
            "movie_id": pa.array(ids, pa.int32()),
            "title": [DOCUMENTS[i].split(" (")[0] for i in ids],
            "year": pa.array([1995, 1995, 2001, 1979, 2009], pa.int32()),
            "genres": [DOCUMENTS[i].split("Genres: ")[1].split("\n")[0].split(", ") for i in ids],
            "document": [DOCUMENTS[i] for i in ids],
        }
    )
    # Movie 2 is the most rated, then 4, then 1.
    rows = [(u, 2) for u in range(1, 11)] + [(u, 4) for u in range(1, 6)] + [(1, 1), (2, 1)]
    ratings = pa.table(
        {
            "user_id": pa.array([u for u, _ in rows], pa.int32()),
            "movie_id": pa.array([m for _, m in rows], pa.int32()),
            "rating": pa.array([4.0] * len(rows), pa.float32()),
            "timestamp": pa.array([0] * len(rows), pa.int64()),
        }
    )
    split = split_users(ratings, validation_fraction=0.0, test_fraction=0.0)
    return EvalContext(
        settings=MovieRagSettings(workdir=tmp_path),
        catalogue=catalogue,
        train_ratings=ratings,
        split=split,
        params=ProtocolParams(k=2),
        ratings=ratings,
    )


class _Fixed:
    name = "fixed"
    description = ""

    def __init__(self, queries: list[EvalQuery]) -> None:
        self._queries = queries

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        return self._queries


class _SeedOnly:
    name = "seed-only"
    protocols = frozenset({"other"})

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        raise AssertionError("must not be asked")


def test_baselines_and_metrics_on_a_tiny_catalogue(context: EvalContext) -> None:
    queries = [
        EvalQuery(query="heist movies", relevant=frozenset({1, 3}), label="heist"),
        EvalQuery(query="space", relevant=frozenset({4}), exclude=frozenset({2}), label="space"),
    ]
    systems = {
        "random": RandomSystem(context.catalogue_ids, seed=1),
        "popularity": PopularitySystem(context.rating_counts, context.catalogue_ids),
        "bm25": BM25System(context.catalogue),
        "seed-only": _SeedOnly(),
    }
    result = run_protocol(_Fixed(queries), context, systems)
    assert result.queries == 2 and result.k == 2
    bm25 = result.result("bm25").metrics
    assert bm25["ndcg"] == pytest.approx(1.0)  # both heist films, then Alien alone
    assert bm25["precision"] == pytest.approx(0.75)
    popularity = result.result("popularity").metrics
    # [2, 4] for heist (no hit), [4, 1] for space (2 is excluded): one hit at rank 1.
    assert popularity["hit_rate"] == 0.5 and popularity["mrr"] == 0.5
    assert popularity["coverage"] == pytest.approx(3 / 5)
    assert not result.result("seed-only").applicable
    assert result.result("seed-only").metrics == {}
    assert all(r.metrics["grounding"] == 1.0 for r in result.systems if r.applicable)


def test_baselines_never_return_excluded_movies_and_are_reproducible(context: EvalContext) -> None:
    query = EvalQuery(query="anything", exclude=frozenset({2, 4}))
    random_system = RandomSystem(context.catalogue_ids, seed=3)
    picks = random_system.recommend(query, 3)
    assert len(picks) == 3 and not {2, 4} & set(picks)
    assert picks == RandomSystem(context.catalogue_ids, seed=3).recommend(query, 3)
    assert PopularitySystem(context.rating_counts, context.catalogue_ids).recommend(query, 5) == [1]
    seeded = EvalQuery(query="I liked 'Heat'", seed_movie_ids=[1], exclude=frozenset({1}))
    # BM25 for "I liked X" searches with X's document: the other heist film comes first.
    assert BM25System(context.catalogue).recommend(seeded, 1) == [3]
