"""Hand-written requests on the real build, each with the property a user would expect.

Each row: the request (one message, or a conversation as a tuple of the user's messages,
oldest first), and a check of the answer (its recommendations and filters). The cases come
from what new users tried: broad asks that must favour well-known films of the kind over
title-word matches, soft words that must not empty the answer, years in brackets that belong
to a title, conversations whose constraints add up, movies named as liked, disliked or seen,
requests in French, Spanish and German, small talk and gibberish.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from movie_rag.chain.recommender import RecommenderChain
from movie_rag.chain.types import RecommendationResponse

pytestmark = [pytest.mark.spark, pytest.mark.slow]

Check = Callable[[RecommendationResponse, RecommenderChain], bool]


def _movies(response: RecommendationResponse, chain: RecommenderChain) -> list[dict[str, Any]]:
    return [dict(chain.catalogue.movie(r.movie_id)) for r in response.recommendations]


def _all_genre(genre: str) -> Check:
    return lambda r, c: (
        bool(r.recommendations) and all(genre in (m.get("genres") or []) for m in _movies(r, c))
    )


def _well_known(share: float, ratings: int = 50) -> Check:
    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        movies = _movies(response, chain)
        known = [m for m in movies if int(m.get("ml_rating_count") or 0) >= ratings]
        return bool(movies) and len(known) >= share * len(movies)

    return check


def _few_titles_with(word: str, most: int = 1, *, at_least: bool = False) -> Check:
    """At most ``most`` titles contain the words (at least, with ``at_least``)."""
    pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)

    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        count = sum(bool(pattern.search(x.title)) for x in response.recommendations)
        return count >= most if at_least else count <= most

    return check


def _any_of(*titles: str) -> Check:
    return lambda r, c: any(x.title in titles for x in r.recommendations)


def _leads_with_one_of(*titles: str) -> Check:
    return lambda r, c: bool(r.recommendations) and r.recommendations[0].title in titles


def _before(year: int) -> Check:
    return lambda r, c: (
        bool(r.recommendations)
        and all(x.year is not None and x.year < year for x in r.recommendations)
    )


def _not_empty(r: RecommendationResponse, c: RecommenderChain) -> bool:
    return bool(r.recommendations)


def _no_year_filter(r: RecommendationResponse, c: RecommenderChain) -> bool:
    return "year_min" not in r.filters and "year_max" not in r.filters


def _both(*checks: Check) -> Check:
    return lambda r, c: all(check(r, c) for check in checks)


def _none_is(*titles: str) -> Check:
    return lambda r, c: (
        bool(r.recommendations) and not any(x.title in titles for x in r.recommendations)
    )


def _between(low: int, high: int) -> Check:
    return lambda r, c: (
        bool(r.recommendations)
        and all(x.year is not None and low <= x.year <= high for x in r.recommendations)
    )


def _since(year: int) -> Check:
    return _between(year, 2100)


def _leads_and_fills(person: str) -> Check:
    """The person's films come first and the answer is not cut short for want of them."""

    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        movies = _movies(response, chain)
        return len(movies) == chain.settings.default_k and person in [
            *(movies[0].get("directors") or []),
            *(movies[0].get("cast") or []),
        ]

    return check


def _each_with_one_of(*people: str) -> Check:
    """Every film has one of the people, each of them is in some, and the answer says so."""

    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        credits = [
            {*(m.get("directors") or []), *(m.get("cast") or [])} for m in _movies(response, chain)
        ]
        return (
            bool(credits)
            and all(credit & set(people) for credit in credits)
            and all(any(p in credit for credit in credits) for p in people)
            and "together" in response.answer
        )

    return check


def _no_genre(genre: str) -> Check:
    return lambda r, c: (
        bool(r.recommendations) and not any(genre in (m.get("genres") or []) for m in _movies(r, c))
    )


def _by(person: str, share: float = 0.6) -> Check:
    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        movies = _movies(response, chain)
        hits = [
            m for m in movies if person in [*(m.get("directors") or []), *(m.get("cast") or [])]
        ]
        return bool(movies) and len(hits) >= share * len(movies)

    return check


def _draws_on(*genres: str) -> Check:
    """Every genre given is among the answer's (several seeds each leave their mark)."""

    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        present = {g for m in _movies(response, chain) for g in m.get("genres") or []}
        return set(genres) <= present

    return check


def _each_genre(count: int, *genres: str) -> Check:
    """Each genre given is on at least ``count`` of the answer's movies (none crowds out)."""

    def check(response: RecommendationResponse, chain: RecommenderChain) -> bool:
        movies = _movies(response, chain)
        return all(sum(g in (m.get("genres") or []) for m in movies) >= count for g in genres)

    return check


def _refused(r: RecommendationResponse, c: RecommenderChain) -> bool:
    from movie_rag.chain.safety import POLITE_REFUSAL

    return not r.recommendations and r.answer == POLITE_REFUSAL


def _rephrase(r: RecommendationResponse, c: RecommenderChain) -> bool:
    from movie_rag.chain.conversation import REPHRASE

    return not r.recommendations and r.answer == REPHRASE


def _answer_names(text: str) -> Check:
    return lambda r, c: bool(r.recommendations) and text in r.answer


def _sentence_reasons(r: RecommendationResponse, c: RecommenderChain) -> bool:
    """Every reason is a sentence about the film, not a genre list."""
    return bool(r.recommendations) and all(
        re.match(r"^An? .+ film\b", x.reason) and len(x.reason.split()) >= 6
        for x in r.recommendations
    )


#: (request, what must hold, what the property is called in a failure).
CASES: list[tuple[str | tuple[str, ...], Check, str]] = [
    ("war movies", _both(_all_genre("War"), _few_titles_with("war")), "War, not 'War' titles"),
    ("I want to watch war movies", _few_titles_with("war"), "no title-word matches"),
    ("a good action movie", _both(_all_genre("Action"), _well_known(0.6)), "well-known Action"),
    ("recommend me some horror movies", _both(_all_genre("Horror"), _well_known(0.6)),
     "well-known Horror"),
    ("sci-fi from before 1980", _both(_before(1980), _all_genre("Sci-Fi"),
     _any_of("Alien", "2001: A Space Odyssey", "Star Wars: Episode IV - A New Hope")),
     "classic Sci-Fi before 1980"),
    ("good comedies from the 90s", _both(_all_genre("Comedy"), _well_known(0.6)),
     "well-known 90s comedies"),
    ("Recommend some heist movies", _any_of("Ocean's Eleven", "Heist", "The Maiden Heist"),
     "heists, not just crime"),
    ("I loved Easy A (2010)", _both(_not_empty, _no_year_filter), "the year is the title's"),
    ("I liked Heat and Easy A (2010). more?", _both(_not_empty, _no_year_filter),
     "a bracketed year after a second title filters nothing"),
    ("comedies i like kristin wigg with Meryl Streep and Keanu Reeves from 1931", _not_empty,
     "soft people never empty the answer"),
    ("westerns starring Tom Hanks", _not_empty, "an impossible combination still answers"),
    # "Scary" is Horror, "war" the War genre: never the titles with the word.
    ("I like scary movies", _both(_all_genre("Horror"), _few_titles_with("scary")),
     "Horror, not the Scary Movie spoofs"),
    ("something scary", _both(_all_genre("Horror"), _few_titles_with("scary", 0)),
     "something scary is Horror, not Scary Movie"),
    ("something funny", _both(_all_genre("Comedy"), _few_titles_with("funny|hilarious", 0)),
     "something funny is Comedy, not Funny People or Hilarious"),
    ("scary movies from the 80s", _both(_all_genre("Horror"), _between(1980, 1989)),
     "80s Horror"),
    ("space opera", _few_titles_with("opera"), "no Opera (1987) for a space opera"),
    ("Good morning, I am looking for thrillers", _all_genre("Thriller"),
     "thrillers, greeting ignored"),
    # Negatives: a title ruled out, disliked or seen is never suggested.
    ("Tarantino but not Pulp Fiction",
     _both(_none_is("Pulp Fiction"), _by("Quentin Tarantino")), "Tarantino films, no Pulp Fiction"),
    ("The Notebook was boring. something romantic", _none_is("The Notebook"), "no The Notebook"),
    ("I've seen The Matrix already, more sci-fi please",
     _both(_none_is("The Matrix"), _all_genre("Sci-Fi")), "Sci-Fi, no The Matrix"),
    ("anything except Titanic, a romance", _both(_none_is("Titanic"), _all_genre("Romance")),
     "Romance, no Titanic"),
    ("I didn't like Inception. mind-bending movies", _none_is("Inception"), "no Inception"),
    ("I loved Easy A (2010) and Mean Girls (2004)",
     _both(_none_is("Easy A", "Mean Girls"), _no_year_filter),
     "liked titles, years filter nothing"),
    # Titles as people write them.
    ("I liked the lord of the rings", _answer_names("Lord of the Rings"), "lower-case title"),
    ("i loved the matrx", _answer_names("The Matrix"), "a typo in the title"),
    ("movies like jurasic park", _answer_names("Jurassic Park"), "a typo, no capitals"),
    # Conversations: constraints accumulate, the latest of a kind wins, small talk is ignored.
    (("I want a horror movie", "something more recent"),
     _both(_all_genre("Horror"), _since(2010)), "more recent keeps Horror"),
    (("comedies from the 90s", "more recent ones"), _both(_all_genre("Comedy"), _since(2010)),
     "more recent replaces the 90s, keeps Comedy"),
    (("I want comedies", "actually, horror instead"), _all_genre("Horror"), "a later genre wins"),
    (("hi", "how are u", "would u have any recommendations for me", "im good",
      "thanks fo asking", "comedies", "i like kristin wigg"), _all_genre("Comedy"),
     "a chatty opening keeps its genre"),
    (("hello", "I love sci-fi movies", "thanks!"), _all_genre("Sci-Fi"), "thanks keeps Sci-Fi"),
    (("I love horror movies", "what's the weather like"), _not_empty,
     "a conversation about movies is not refused"),
    ("hi", _both(_not_empty, _well_known(0.6)), "a greeting is not refused"),
    ("yes please", _both(_not_empty, _well_known(0.6)), "small talk gets well-known films"),
    ("recommend me some", _well_known(0.6), "a vague ask gets well-known films, no title words"),
    ("what's the weather in Paris", _refused, "off-topic is refused"),
    # Gibberish asks to rephrase instead of "five movies starting with Z".
    ("asdkjh qwoeiru zxmcnv", _rephrase, "gibberish: rephrase"),
    ("zzzz qqqq", _rephrase, "gibberish: rephrase"),
    # French, Spanish, German: genres, years and titles, never title-word noise.
    ("je veux des films d'horreur des années 80",
     _both(_all_genre("Horror"), _between(1980, 1989),
           _any_of("Aliens", "The Shining", "The Thing")),
     "French: well-known 80s Horror"),
    ("des films de science-fiction avant 1980", _both(_all_genre("Sci-Fi"), _before(1980)),
     "French: Sci-Fi before 1980"),
    ("quiero una comedia de los 90", _both(_all_genre("Comedy"), _between(1990, 1999)),
     "Spanish: 90s Comedy"),
    ("películas de guerra", _both(_all_genre("War"), _few_titles_with("guerra")),
     "Spanish: War"),
    ("Ich möchte Horrorfilme aus den 80ern sehen",
     _both(_all_genre("Horror"), _between(1980, 1989)),
     "German: 80s Horror"),
    ("Komödien mit Tom Hanks", _both(_all_genre("Comedy"), _by("Tom Hanks")),
     "German: Comedy, Hanks"),
    # Soft people; reasons are sentences about the film.
    ("action movies starring Keanu Reeves",
     _both(_all_genre("Action"), _leads_and_fills("Keanu Reeves")),
     "Keanu Reeves leads, other action films fill the answer"),
    ("a good action movie", _sentence_reasons, "reasons are sentences, not genre lists"),
    ("nothing too scary for the kids", _all_genre("Children"), "Children, softly not scary"),
    # Openings as people write them (seen in ReDial's training dialogues).
    ("Hi there I am searching for good comedy movies!",
     _both(_all_genre("Comedy"), _well_known(0.6)), "asking words are no title words"),
    (("Hi", "I am looking for some good drama movies"), _well_known(0.6),
     "a genre ask gets the kind's well-known films"),
    (("Good evening", "I'm looking for a good sci-fi movie", "Current or past, doesn't matter"),
     _both(_all_genre("Sci-Fi"), _well_known(0.6)), "a shrug keeps the ask broad"),
    (("Hi, happy new year.", "I enjoy spy movies like James Bond"),
     _none_is("James and the Giant Peach"), "no film on a name's first word"),
    ("Hello", _well_known(0.6), "a bare greeting gets well-known films"),
    ("I liked Heat and Alien but not Titanic",
     _both(_none_is("Titanic", "Heat", "Alien"), _draws_on("Crime", "Sci-Fi")),
     "two liked seeds both count, the disliked one never comes back"),
    ("I love horror and comedy", _each_genre(2, "Horror", "Comedy"),
     "two kinds asked for take turns"),
    ("Inception is one of my favourite movies. What else would I like?",
     _both(_none_is("Inception"), _draws_on("Sci-Fi")), "a favourite named before the praise"),
    (("Hello", "I was looking for maybe a movie to watch this weekend."),
     _both(_few_titles_with("weekend"), _well_known(0.6)), "when to watch names no title"),
    (("hi how are u would u have any recommendations for me", "im good thanks fo asking",
      "comedies i like kristin wigg"),
     _both(_all_genre("Comedy"), _leads_and_fills("Kristen Wiig")), "a misspelt actor leads"),
    ("any movies with Ray Liottta?", _leads_and_fills("Ray Liotta"), "a typo'd name is no title"),
    ("I really like horror movies, with paranormal themes.",
     _both(_all_genre("Horror"), _few_titles_with("Paranormal Activity", 2)),
     "one series does not crowd out the rest"),
    ("star wars movies", _few_titles_with("Star Wars", 5, at_least=True),
     "a series named is a series wanted"),
    ("Hey whadup today? Do any good films to watch?",
     _both(_few_titles_with("today"), _well_known(0.6)), "slang small talk names no title"),
    ("I saw Inception last week and loved it. Anything else?",
     _both(_none_is("Inception"), _few_titles_with("Saw", 0)),
     "a seen film praised in its sentence is liked; 'saw' names no Saw film"),
    ("I watched Alien last night, it was awesome",
     _both(_draws_on("Sci-Fi"), _few_titles_with("Night", 0)),
     "a praised seen film is the seed, when it was watched names no title"),
    ("Any suggestions for what is in the theater now?", _both(_since(2014), _well_known(0.6, 30)),
     "showing now: the newest years' well-known films"),
    ("movies from the 80s", _both(_between(1980, 1989), _well_known(0.6)),
     "a decade alone gets its well-known films"),
    (("hi", "I would love any suggestions you have, ilove damiel day lewis",
      "daniel day lewis", "and julia roberts"),
     _each_with_one_of("Daniel Day-Lewis", "Julia Roberts"),
     "two people who share no film: films with either, no 'Day' or 'Julia' titles"),
    (("Hi, how are you?", "I don't like sci-fi."),
     _both(_no_genre("Sci-Fi"), _well_known(0.6)), "a kind ruled out: anything else, well known"),
    ("Merry Christmas, any good Musicals?",
     _both(_all_genre("Musical"), _few_titles_with("Christmas", 0)),
     "season's greetings are small talk, not a Christmas topic"),
    ("I love action movies with car chases", _few_titles_with("love", 0),
     "'I love' is no title word"),
    # Typos in genre words, and genre phrases that begin with a title ("Love").
    ("a horor movie please", _both(_all_genre("Horror"), _well_known(0.6)),
     "a misspelt genre is still the genre"),
    ("familly movies for tonight", _all_genre("Children"), "a misspelt family film"),
    ("i love love stories", _both(_all_genre("Romance"), _few_titles_with("love")),
     "love stories are Romance, not titles with Love"),
    # Studios: no studio field, but their films' keywords and tags name them.
    ("Studio Ghibli movies",
     _both(_any_of("Spirited Away", "My Neighbor Totoro", "Princess Mononoke"),
           _none_is("The Truman Show"), _all_genre("Animation")),
     "Ghibli films, not The Truman Show"),
    ("Marvel movies",
     _leads_with_one_of("The Avengers", "Iron Man", "Thor", "Guardians of the Galaxy",
                        "Captain America: The First Avenger", "Avengers: Infinity War - Part I"),
     "a Marvel film leads"),
    # A kind with a topic still prefers the kind's known films over title words.
    ("comedies with a dog", _both(_any_of("Marley & Me", "Best in Show", "Beethoven"),
                                   _few_titles_with("dog", 1)),
     "dog comedies people know, not every title with Dog"),
    ("Can you recommend a documentary?", _both(_all_genre("Documentary"), _well_known(0.5, 25)),
     "a documentary ask gets known documentaries"),
    (("Hi", "I like comedies and romantics?"),
     _both(_all_genre("Comedy"), _few_titles_with("romantics", 0)),
     "'romantics' is the mood, not The Romantics"),
    # A request that is one title (commas and all) asks for films like it.
    ("I, Robot", _both(_none_is("I, Robot"), lambda r, c: "like I, Robot" in r.answer),
     "'I, Robot' is a title, not off-topic"),
    ("Heat", _both(_any_of("Casino", "Goodfellas", "Reservoir Dogs", "The Departed"),
                   _few_titles_with("heat", 0)),
     "films like Heat, not Body Heat and City Heat"),
    ("the dark knight", _any_of("Batman Begins", "The Dark Knight Rises"),
     "a lower-case title is still the film"),
    ("war", _both(_all_genre("War"), _well_known(0.6), _few_titles_with("war", 1)),
     "a lone genre word is the genre, not the film War"),
    ("Romance", _both(_all_genre("Romance"), _none_is("The Romantics")),
     "a message's first capital makes no title of a genre word"),
    ("Crazy, Stupid, Love.",
     _both(lambda r, c: "like Crazy, Stupid, Love. (2011)" in r.answer,
           lambda r, c: "Love (2015)" not in r.answer),
     "not a liked 'Love'"),
    ("Hi! I'm bored, any ideas?", _few_titles_with("I'm", 0), "'I'm' names no I'm ... film"),
    # Leaving the choice to us is an open ask, not off-topic and not title words.
    ("I'm not sure what I want", _well_known(0.6), "not knowing what to want: well-known films"),
    (("hi", "I can't decide"), _both(_well_known(0.6), _few_titles_with("can't", 0)),
     "no It Can't Be! for 'I can't decide'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def chain(real_build) -> RecommenderChain:
    settings, _ = real_build
    return RecommenderChain.from_settings(settings)


def failures(chain: RecommenderChain) -> list[str]:
    """The requests whose answer lacks its property (also used to check a built workdir)."""
    from movie_rag.chain.types import HistoryTurn

    failed = []
    for request, check, expected in CASES:
        *earlier, query = (request,) if isinstance(request, str) else request
        history = [HistoryTurn(role="user", content=m) for m in earlier]
        response = chain.invoke({"query": query, "history": history, "k": 5})
        if not check(response, chain):
            titles = [r.title for r in response.recommendations]
            failed.append(f"{request!r}: expected {expected}, got {titles} {response.filters}")
    return failed


def test_there_are_enough_hand_written_requests() -> None:
    assert len(CASES) >= 40


def test_every_hand_written_request_gets_its_property(chain: RecommenderChain) -> None:
    assert failures(chain) == []
