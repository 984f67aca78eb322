"""RecommenderChain on the real catalogue: properties, not fixed titles."""

from __future__ import annotations

import random
import re

import pytest

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.chain.recommender import RecommenderChain
from movie_rag.chain.types import RecommendationResponse

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SEEDS = [
    "Jurassic Park", "The Matrix", "Toy Story", "Alien", "Heat", "The Godfather",
    "Pulp Fiction", "Titanic", "Die Hard", "Finding Nemo", "The Shining", "Forrest Gump",
    "Star Wars: Episode IV - A New Hope", "The Lion King", "Scream", "Casablanca",
    "Back to the Future", "Fargo", "The Silence of the Lambs", "Groundhog Day",
]  # fmt: skip


@pytest.fixture(scope="module")
def chain(real_build) -> RecommenderChain:
    settings, _ = real_build
    return RecommenderChain.from_settings(settings)


def _ask(chain: RecommenderChain, query: str, **extra) -> RecommendationResponse:
    return chain.invoke({"query": query, **extra})


def test_like_x_excludes_x_and_shares_genres_far_above_chance(chain: RecommenderChain) -> None:
    catalogue = chain.catalogue
    shared, total, chance = 0, 0, []
    rng = random.Random(7)
    all_ids = list(catalogue.ids())
    for title in SEEDS:
        seed = catalogue.resolve_title(title)
        assert seed is not None, title
        response = _ask(chain, f"I liked {title}. Can you suggest some movies similar?", k=10)
        ids = [r.movie_id for r in response.recommendations]
        assert len(ids) == 10 and len(set(ids)) == 10
        assert seed.movie_id not in ids
        assert not set(catalogue.duplicates_of(seed.movie_id)) & set(ids)
        seed_genres = set(catalogue.movie(seed.movie_id)["genres"])
        for movie_id in ids:
            total += 1
            shared += bool(seed_genres & set(catalogue.movie(movie_id)["genres"]))
        sample = rng.sample(all_ids, 200)
        chance.append(
            sum(bool(seed_genres & set(catalogue.movie(i)["genres"])) for i in sample) / 200
        )
    share = shared / total
    baseline = sum(chance) / len(chance)
    # With co-likes in the blend (the default build), some picks are what the seed's fans
    # liked across genres (Toy Story's fans liked Forrest Gump): 0.79 measured, content
    # alone 0.9+ (docs/collaborative.md).
    assert share >= 0.75
    assert share >= baseline + 0.25, (share, baseline)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        (
            "horror movies from the 90s rated above 7",
            lambda m: "Horror" in m["genres"] and 1990 <= m["year"] <= 1999 and m["rating"] >= 7,
        ),
        ("a comedy from 2005", lambda m: "Comedy" in m["genres"] and m["year"] == 2005),
        (
            "movies with Tom Hanks",
            lambda m: "Tom Hanks" in (m["cast"] or []) + (m["directors"] or []),
        ),
        (
            "sci-fi thriller before 1990",
            lambda m: {"Sci-Fi", "Thriller"} <= set(m["genres"]) and m["year"] < 1990,
        ),
        ("westerns rated 8+ on imdb", lambda m: "Western" in m["genres"] and m["rating"] >= 8),
    ],
)
def test_filters_from_text_are_honoured(chain: RecommenderChain, query: str, check) -> None:
    response = _ask(chain, query, k=10)
    assert response.recommendations, query
    for rec in response.recommendations:
        assert check(chain.catalogue.movie(rec.movie_id)), (query, rec.title)
    assert response.filters


def test_exactly_k_when_the_catalogue_has_k(chain: RecommenderChain) -> None:
    for k in (1, 5, 10, 25):
        response = _ask(chain, "a documentary", k=k)
        assert len(response.recommendations) == k
    tiny = _ask(chain, "film-noir westerns", k=10)
    matching = [
        i
        for i in chain.catalogue.ids()
        if {"Film-Noir", "Western"} <= set(chain.catalogue.movie(i)["genres"])
    ]
    assert len(tiny.recommendations) == min(10, len(matching))


def test_titles_duplicated_under_two_ids_appear_once(chain: RecommenderChain) -> None:
    response = _ask(chain, "Jane Austen period drama Emma 1996", k=25)
    keys = [(r.title, r.year) for r in response.recommendations]
    assert len(keys) == len(set(keys))


def test_original_ui_questions(chain: RecommenderChain) -> None:
    horror = _ask(chain, "Suggest me the best horror movie, that can scare anyone.")
    assert all("Horror" in r.genres for r in horror.recommendations)
    assert horror.filters["genres_any"] == ["Horror"]
    ratings = [chain.catalogue.movie(r.movie_id)["rating"] for r in horror.recommendations]
    assert sum(r >= 7.5 for r in ratings) >= 4, ratings  # "the best" weighs the rating
    jurassic = _ask(chain, "I liked 'Jurassic Park'. Can you suggest some movies similar?")
    assert "Jurassic Park" in jurassic.answer
    assert all(r.title != "Jurassic Park" for r in jurassic.recommendations)
    for query in (
        "I am feeling bored, suggest me some movies to improve my mood.",
        "My friends are coming over, suggest me some movies to chill with them.",
    ):
        response = _ask(chain, query)
        assert response.filters == {}  # vibes boost, they never filter
        assert len(response.recommendations) == chain.settings.default_k
        comedies = sum("Comedy" in r.genres for r in response.recommendations)
        assert comedies >= 3, [r.title for r in response.recommendations]


def test_answers_name_only_what_they_recommend(chain: RecommenderChain) -> None:
    response = _ask(chain, "space adventure with aliens and robots", k=5)
    for rec in response.recommendations:
        assert rec.title in response.answer
        assert rec.in_catalog and rec.url and rec.url.startswith("https://www.imdb.com/title/tt")
        assert set(rec.genres) <= set(MOVIELENS_GENRES)


def test_follow_ups_use_the_history(chain: RecommenderChain) -> None:
    first = _ask(chain, "feel-good animated movies", k=5)
    history = [
        {"role": "user", "content": "feel-good animated movies"},
        {
            "role": "assistant",
            "content": first.answer,
            "recommendations": [r.movie_id for r in first.recommendations],
        },
    ]
    second_one = first.recommendations[1]
    more_like = _ask(chain, "more like the second one", history=history, k=5)
    assert second_one.title in more_like.answer
    shown = {r.movie_id for r in first.recommendations}
    assert not shown & {r.movie_id for r in more_like.recommendations}
    more = _ask(chain, "show me more", history=history, k=5)
    assert len(more.recommendations) == 5
    assert not shown & {r.movie_id for r in more.recommendations}
    darker = _ask(chain, "something darker", history=history, k=5)
    assert not shown & {r.movie_id for r in darker.recommendations}


def test_off_topic_gets_a_polite_refusal(chain: RecommenderChain) -> None:
    response = _ask(chain, "What's the weather in Paris tomorrow?")
    assert response.recommendations == []
    assert "movie" in response.answer.lower()


def test_pii_never_reaches_the_response(chain: RecommenderChain) -> None:
    response = _ask(chain, "I'm jane.doe@example.com, call +1 415 555 0100: a heist movie")
    assert "jane.doe" not in response.model_dump_json()
    assert "555" not in response.query
    assert response.recommendations


def test_stream_events_and_batch(chain: RecommenderChain) -> None:
    events = list(chain.stream({"query": "a heist thriller", "k": 3}))
    names = [e["event"] for e in events]
    assert names == ["parsed", "recommendation", "recommendation", "recommendation", "answer",
                     "done"]  # fmt: skip
    done = events[-1]["data"]
    assert [e["data"] for e in events if e["event"] == "recommendation"] == done.recommendations
    batch = chain.batch(["a heist thriller", "a musical"])
    assert [r.query for r in batch] == ["a heist thriller", "a musical"]


_WORD = re.compile(r"[a-z0-9]+")


def _cited(reason: str, movie: dict, query: str, response: RecommendationResponse, chain) -> bool:
    """Whether the reason quotes a value of the movie's record that matches the request."""
    reason_l = reason.lower()
    query_words = {w for w in _WORD.findall(query.lower()) if len(w) > 3}
    wanted_genres = set(response.filters.get("genres_any", [])) | set(
        response.filters.get("genres_all", [])
    )
    values = []
    for genre in movie["genres"]:
        if genre in wanted_genres or genre.lower() in query.lower():
            values.append(genre)
    for person in (movie["directors"] or []) + (movie["cast"] or []):
        if person.lower() in query.lower():
            values.append(person)
    themes = [t["tag"] for t in movie["genome_tags"] or []] + list(movie["keywords"] or [])
    for theme in themes:
        if {w[:5] for w in _WORD.findall(theme.lower())} & {w[:5] for w in query_words}:
            values.append(theme)
    for sentence in re.split(r"(?<=[.!?])\s+", movie["overview"] or ""):
        if {w[:5] for w in _WORD.findall(sentence.lower()) if len(w) > 3} & {
            w[:5] for w in query_words
        }:
            values.append(sentence[:60])
    if {w[:5] for w in _WORD.findall(movie["title"].lower()) if len(w) > 3} & {
        w[:5] for w in query_words
    }:
        values.append(movie["title"])
    if movie["year"] is not None and str(movie["year"]) in query:
        values.append(str(movie["year"]))
    return any(value.lower()[:60] in reason_l for value in values)


GROUNDED_QUERIES = [
    "horror movies", "a scary haunted house film", "space adventure with aliens",
    "romantic comedy in New York", "a war film about soldiers", "heist movie with a twist",
    "movies about dinosaurs", "a documentary about music", "animated film about toys",
    "crime drama about the mafia", "western with gunfights", "a musical with great songs",
    "sci-fi about time travel", "thriller about a serial killer", "fantasy with dragons",
    "a film noir detective story", "comedy about a road trip", "a sports drama about boxing",
    "movies about artificial intelligence", "a vampire movie", "zombie horror",
    "a superhero action film", "movies with Tom Hanks", "films directed by Steven Spielberg",
    "a prison escape drama", "a courtroom drama", "a family film about a dog",
    "children's animated musical", "mystery with a detective", "a submarine war movie",
    "disaster movie with an earthquake", "a movie about robots", "a high school comedy",
    "a spy thriller with James Bond", "pirates adventure", "a shark attack movie",
    "christmas family comedy", "a boxing movie", "a film about chess", "a ghost story film",
    "a movie about aliens invading earth", "a love story set during war",
    "a martial arts action movie", "movies about wizards and magic", "a political thriller",
    "a film biography of a musician", "a movie about a bank robbery",
    "a movie about a dystopian future", "a survival film set in the wilderness",
    "a movie about a haunted hotel",
    "crime movies from the 70s", "comedies from 1999", "horror films rated above 7",
]  # fmt: skip


def test_grounded_reasons_cite_the_record(chain: RecommenderChain) -> None:
    assert len(GROUNDED_QUERIES) >= 50
    cited, total, uncited = 0, 0, []
    for query in GROUNDED_QUERIES:
        response = _ask(chain, query, k=5)
        assert response.recommendations, query
        for rec in response.recommendations:
            total += 1
            movie = chain.catalogue.movie(rec.movie_id)
            if _cited(rec.reason, movie, query, response, chain):
                cited += 1
            else:
                uncited.append((query, rec.title, rec.reason))
    # Measured 97-100% on the real catalogue; a candidate found by meaning alone (no shared
    # word, genre or person) keeps a reason that says what it is without claiming a match.
    assert cited / total >= 0.95, uncited[:10]
