"""The similar-specific protocol: popularity-normalised truth and concentration (no build)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pytest

from movie_rag.evaluation import metrics
from movie_rag.evaluation.harness import run_protocol
from movie_rag.evaluation.lift import (
    SpecificSimilarProtocol,
    build_cosine_item_knn,
    held_out_likers,
    specific_truth,
)
from movie_rag.evaluation.protocols import ProtocolParams
from movie_rag.evaluation.splits import split_users
from movie_rag.evaluation.systems import EvalContext, build_popularity
from movie_rag.ingest.movielens import MovieLensLoader
from movie_rag.settings import MovieRagSettings


def test_truth_is_co_likes_over_both_popularities() -> None:
    likers = {
        1: frozenset({1, 2, 3, 4}),
        2: frozenset(range(1, 31)),  # everybody's favourite: 4 co-likes, but liked by 30 of 40
        3: frozenset({1, 2, 3}),  # 3 co-likes out of 3 fans: lift 10
        4: frozenset({1, 9}),  # one co-like: a coincidence
        5: frozenset({2, 3, 7, 8, 10, 11}),  # 2 co-likes of 6 fans: lift 3.33
    }
    truth = specific_truth(likers, 1, users=40)
    assert truth == pytest.approx({3: 10.0, 5: 40 * 2 / 24})
    assert set(specific_truth(likers, 1, users=40, min_co_likes=1)) == {3, 4, 5}
    assert set(specific_truth(likers, 1, users=40, min_lift=1.0)) == {2, 3, 5}
    assert set(specific_truth(likers, 1, users=40, allowed=frozenset({2, 5}))) == {5}
    assert specific_truth(likers, 99, users=40) == {}


def test_concentration_counts_the_most_rated_share() -> None:
    counts = {m: 1000 - m for m in range(1, 201)}  # 200 rated movies: the top 1% is 1 and 2
    assert metrics.most_rated(counts) == frozenset({1, 2})
    assert metrics.concentration([[1, 3], [2, 4, 5, 6]], counts) == pytest.approx(2 / 6)
    assert metrics.concentration([], counts) == 0.0
    with pytest.raises(ValueError, match="share"):
        metrics.most_rated(counts, share=0.0)


@pytest.fixture(scope="module")
def context(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> EvalContext:
    data = MovieLensLoader().load(shared_data / "ml-latest-small")
    movies = data.movies
    catalogue = pa.table(
        {
            "movie_id": movies.column("movie_id"),
            "title": movies.column("title"),
            "year": movies.column("year"),
            "genres": movies.column("genres"),
        }
    )
    split = split_users(data.ratings)
    return EvalContext(
        settings=MovieRagSettings(workdir=tmp_path_factory.mktemp("lift")),
        catalogue=catalogue,
        train_ratings=split.train_ratings(data.ratings),
        split=split,
        params=ProtocolParams.reduced(),
        ratings=data.ratings,
    )


def test_queries_follow_the_fixed_parameters(context: EvalContext) -> None:
    params = context.params
    queries = SpecificSimilarProtocol().queries(context)
    assert len(queries) == params.specific_queries == 150
    held_out = context.split.test_ratings(context.ratings)
    likers = held_out_likers(held_out, params.like_threshold)
    users = len(set(held_out.column("user_id").to_pylist()))
    for query in queries:
        (seed,) = query.seed_movie_ids
        assert query.exclude == {seed} and seed not in query.relevant
        assert len(likers[seed]) >= params.specific_min_likers
        assert context.rating_counts[seed] >= params.seed_min_train_ratings
        assert len(query.relevant) >= 5
        assert all(len(likers[seed] & likers[m]) >= 2 for m in query.relevant)
        # Each relevant movie's fans liked the seed at least twice as often as everybody.
        fans = len(likers[seed])
        assert all(
            len(likers[seed] & likers[m]) * users >= 2 * fans * len(likers[m])
            for m in query.relevant
        )
    assert [q.label for q in queries] == sorted((q.label for q in queries), key=int)
    assert [q.relevant for q in SpecificSimilarProtocol().queries(context)] == [
        q.relevant for q in queries
    ]
    full = SpecificSimilarProtocol().queries(dataclasses.replace(context, params=ProtocolParams()))
    assert len(full) > len(queries)


def test_cosine_item_knn_beats_popularity_on_the_specific_truth(context: EvalContext) -> None:
    systems = {
        "popularity": build_popularity(context),
        "item-knn-cosine": build_cosine_item_knn(context),
    }
    result = run_protocol(SpecificSimilarProtocol(), context, systems)
    popularity = result.result("popularity").metrics
    cosine = result.result("item-knn-cosine").metrics
    # The specific truth does not reward the usual blockbusters: popularity is always
    # in the top 1% and far behind.
    assert popularity["concentration"] == 1.0
    assert cosine["concentration"] < 0.5
    assert cosine["precision"] > 1.5 * popularity["precision"]
    assert cosine["hit_rate"] > popularity["hit_rate"]
