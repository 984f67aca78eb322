"""The chain on the real build: hybrid "like X", cold start, and personalisation by user_id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from movie_rag.chain.recommender import RecommenderChain
from movie_rag.collab.model import CollaborativeModel
from movie_rag.errors import DataValidationError
from movie_rag.feedback.events import FeedbackEvent
from movie_rag.feedback.local import LocalFeedbackStore

pytestmark = pytest.mark.slow

QUERIES = (
    "I liked 'The Matrix'. Anything similar?",
    "Recommend some heist movies",
    "Recommend me some movies",
    "the best comedies of the 1990s",
)


@pytest.fixture(scope="module")
def chain(real_build, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecommenderChain]:
    settings, _ = real_build
    chain = RecommenderChain.from_settings(settings)
    # Votes go to a private log so tests sharing the real build never see them.
    chain.feedback = LocalFeedbackStore(tmp_path_factory.mktemp("feedback"))
    yield chain


def _ids(chain: RecommenderChain, query: str, **extra) -> list[int]:
    response = chain.invoke({"query": query, "k": 10, **extra})
    return [r.movie_id for r in response.recommendations]


def _vote(chain: RecommenderChain, user: str, movie_id: int, vote: int) -> None:
    assert chain.feedback is not None
    chain.feedback.record(
        FeedbackEvent(user_id=user, query="q", vote=vote, target="movie", movie_id=movie_id)
    )


def test_the_build_left_a_collaborative_model_the_chain_uses(chain: RecommenderChain) -> None:
    assert isinstance(chain.collab, CollaborativeModel)
    assert chain.collab.manifest["counts"]["ratings"] == 100_836
    assert len(chain.collab.neighbours) > 5000


def test_like_x_ranks_what_the_seeds_fans_also_liked(chain: RecommenderChain) -> None:
    model = chain.collab
    assert model is not None
    content = RecommenderChain(chain.index, chain.catalogue, settings=chain.settings)
    for seed, title in ((1, "Toy Story (1995)"), (2571, "The Matrix (1999)")):
        fans_liked = {m for m, _ in model.neighbours.similar_to([seed], 30)}
        query = f"I liked '{title}'. Anything similar?"
        hybrid_hits = len(fans_liked & set(_ids(chain, query)))
        content_hits = len(fans_liked & set(_ids(content, query)))
        assert hybrid_hits >= 5 and hybrid_hits >= content_hits + 3, (title, hybrid_hits)


def _top_overlap(chain: RecommenderChain, content: RecommenderChain, seed: int) -> int:
    from movie_rag.chain.types import ParsedQuery, SeedMovie

    movie = chain.catalogue.movie(seed)
    parsed = ParsedQuery(
        text="like it", seed=SeedMovie(movie_id=seed, title=movie["title"], year=movie.get("year"))
    )
    hybrid = {c.movie_id for c in chain.ranker.rank(parsed, 10)[:10]}
    alone = {c.movie_id for c in content.ranker.rank(parsed, 10)[:10]}
    return len(hybrid & alone)


def test_cold_start_seed_leaves_content_in_charge(chain: RecommenderChain) -> None:
    model = chain.collab
    assert model is not None
    content = RecommenderChain(chain.index, chain.catalogue, settings=chain.settings)
    cold = [
        m
        for m in sorted(chain.catalogue.ids())
        if model.neighbours.like_counts.get(m, 0) == 1 and model.neighbours.neighbours_of(m)
    ][:5]
    # One like gives the co-likes 1/collab_min_likes of their weight and lets only that share
    # of the neighbours into the pool: the answer stays close to content's, unlike a seed
    # hundreds liked (Toy Story, The Matrix), where co-likes lead.
    cold_overlap = sum(_top_overlap(chain, content, m) for m in cold) / len(cold)
    warm_overlap = sum(_top_overlap(chain, content, m) for m in (1, 2571)) / 2
    assert cold_overlap >= 4 and cold_overlap >= warm_overlap + 2, (cold_overlap, warm_overlap)


def test_movielens_users_never_get_what_they_rated(chain: RecommenderChain) -> None:
    model = chain.collab
    assert model is not None
    for user in (1, 42, 414):  # 414 rated 2,698 movies
        seen = set(model.history(user))
        assert seen
        for query in QUERIES:
            ids = _ids(chain, query, user_id=str(user))
            assert ids, query
            assert not seen & set(ids), (user, query)


def test_thumbs_down_disappears_without_a_rebuild(chain: RecommenderChain) -> None:
    first = _ids(chain, "I liked 'The Matrix'. Anything similar?", user_id="carol")
    assert first == _ids(chain, "I liked 'The Matrix'. Anything similar?")
    _vote(chain, "carol", first[0], -1)
    _vote(chain, "carol", first[1], 1)
    again = _ids(chain, "I liked 'The Matrix'. Anything similar?", user_id="carol")
    assert first[0] not in again and first[1] not in again
    for query in QUERIES:
        assert first[0] not in _ids(chain, query, user_id="carol")


def test_thumbs_up_shapes_a_new_users_recommendations(chain: RecommenderChain) -> None:
    model = chain.collab
    assert model is not None
    before = _ids(chain, "Recommend me some movies", user_id="dave")
    liked = (1, 2355, 3114, 4886)  # Toy Story, A Bug's Life, Toy Story 2, Monsters, Inc.
    for movie_id in liked:
        _vote(chain, "dave", movie_id, 1)
    after = _ids(chain, "Recommend me some movies", user_id="dave")
    assert after != before and not set(liked) & set(after)
    # What fans of those four also liked now fills the answer.
    fans_liked = {m for m, _ in model.neighbours.similar_to(liked, 30)}
    assert len(fans_liked & set(after)) >= 6
    assert len(fans_liked & set(after)) > len(fans_liked & set(before))


def test_bad_user_id_is_named(chain: RecommenderChain) -> None:
    with pytest.raises(DataValidationError, match="user_id"):
        chain.invoke({"query": "a comedy", "user_id": ["x"]})


def test_content_only_when_the_build_has_no_collaborative_model(real_build, tmp_path: Path) -> None:
    settings, _ = real_build
    chain = RecommenderChain.from_settings(settings.model_copy(update={"collab_enabled": False}))
    assert chain.collab is None
    assert _ids(chain, "I liked 'Toy Story (1995)'. Anything similar?")
