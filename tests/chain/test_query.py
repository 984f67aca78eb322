"""QueryParser: filters, seeds, moods, negations, follow-ups and topic, phrasing by phrasing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pytest

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.chain.catalogue import Catalogue
from movie_rag.chain.query import VOCABULARY, QueryParser
from movie_rag.chain.types import FollowUp, HistoryTurn, ParsedQuery
from movie_rag.index.filters import SearchFilters

# movie_id, title, year, genres, directors, cast, votes
MOVIES: list[tuple[Any, ...]] = [
    (
        1,
        "Toy Story",
        1995,
        "Adventure|Animation|Children|Comedy|Fantasy",
        ["John Lasseter"],
        ["Tom Hanks", "Tim Allen"],
        1_050_000,
    ),
    (
        6,
        "Heat",
        1995,
        "Action|Crime|Thriller",
        ["Michael Mann"],
        ["Al Pacino", "Robert De Niro"],
        720_000,
    ),
    (
        17,
        "Pride and Prejudice",
        2005,
        "Drama|Romance",
        ["Joe Wright"],
        ["Keira Knightley", "Matthew Macfadyen"],
        300_000,
    ),
    (
        173,
        "John Wick",
        2014,
        "Action|Thriller",
        ["Chad Stahelski"],
        ["Keanu Reeves", "Michael Nyqvist"],
        700_000,
    ),
    (
        318,
        "The Shawshank Redemption",
        1994,
        "Crime|Drama",
        ["Frank Darabont"],
        ["Tim Robbins", "Morgan Freeman"],
        2_800_000,
    ),
    (
        356,
        "Forrest Gump",
        1994,
        "Comedy|Drama|Romance|War",
        ["Robert Zemeckis"],
        ["Tom Hanks", "Robin Wright"],
        2_100_000,
    ),
    (
        377,
        "Speed",
        1994,
        "Action|Romance|Thriller",
        ["Jan de Bont"],
        ["Keanu Reeves", "Sandra Bullock"],
        380_000,
    ),
    (
        480,
        "Jurassic Park",
        1993,
        "Action|Adventure|Sci-Fi|Thriller",
        ["Steven Spielberg"],
        ["Sam Neill", "Laura Dern", "Jeff Goldblum"],
        1_000_000,
    ),
    (
        590,
        "Dances with Wolves",
        1990,
        "Adventure|Drama|Western",
        ["Kevin Costner"],
        ["Kevin Costner", "Mary McDonnell"],
        270_000,
    ),
    (
        924,
        "2001: A Space Odyssey",
        1968,
        "Adventure|Drama|Sci-Fi",
        ["Stanley Kubrick"],
        ["Keir Dullea", "Gary Lockwood"],
        690_000,
    ),
    (
        1036,
        "Die Hard",
        1988,
        "Action|Crime|Thriller",
        ["John McTiernan"],
        ["Bruce Willis", "Alan Rickman"],
        900_000,
    ),
    (
        1214,
        "Alien",
        1979,
        "Horror|Sci-Fi",
        ["Ridley Scott"],
        ["Sigourney Weaver", "Tom Skerritt"],
        950_000,
    ),
    (
        1387,
        "Jaws",
        1975,
        "Action|Horror",
        ["Steven Spielberg"],
        ["Roy Scheider", "Robert Shaw"],
        620_000,
    ),
    (
        1721,
        "Titanic",
        1997,
        "Drama|Romance",
        ["James Cameron"],
        ["Leonardo DiCaprio", "Kate Winslet"],
        1_200_000,
    ),
    (
        2028,
        "Saving Private Ryan",
        1998,
        "Action|Drama|War",
        ["Steven Spielberg"],
        ["Tom Hanks", "Matt Damon"],
        1_400_000,
    ),
    (
        2571,
        "The Matrix",
        1999,
        "Action|Sci-Fi|Thriller",
        ["Lana Wachowski", "Lilly Wachowski"],
        ["Keanu Reeves", "Laurence Fishburne"],
        2_000_000,
    ),
    (
        2716,
        "Ghostbusters",
        1984,
        "Action|Comedy|Sci-Fi",
        ["Ivan Reitman"],
        ["Bill Murray", "Dan Aykroyd"],
        420_000,
    ),
    (
        2797,
        "Big",
        1988,
        "Comedy|Drama|Fantasy|Romance",
        ["Penny Marshall"],
        ["Tom Hanks", "Elizabeth Perkins"],
        230_000,
    ),
    (
        2946,
        "The Good, the Bad and the Ugly",
        1966,
        "Action|Adventure|Western",
        ["Sergio Leone"],
        ["Clint Eastwood", "Eli Wallach"],
        800_000,
    ),
    (
        3785,
        "Scary Movie",
        2000,
        "Comedy|Horror",
        ["Keenen Ivory Wayans"],
        ["Anna Faris", "Jon Abrahams"],
        270_000,
    ),
    (
        4963,
        "Ocean's Eleven",
        2001,
        "Crime|Thriller",
        ["Steven Soderbergh"],
        ["George Clooney", "Brad Pitt"],
        580_000,
    ),
    (
        1466,
        "The People vs. Larry Flynt",
        1996,
        "Comedy|Drama",
        ["Milos Forman"],
        ["Woody Harrelson", "Courtney Love"],
        95_000,
    ),
    (7451, "Kids", 1995, "Drama", ["Larry Clark"], ["Leo Fitzpatrick", "Chloë Sevigny"], 70_000),
    (
        8533,
        "The Notebook",
        2004,
        "Drama|Romance",
        ["Nick Cassavetes"],
        ["Ryan Gosling", "Rachel McAdams"],
        600_000,
    ),
    (
        8874,
        "Shaun of the Dead",
        2004,
        "Comedy|Horror",
        ["Edgar Wright"],
        ["Simon Pegg", "Nick Frost"],
        580_000,
    ),
    (
        1091,
        "Horror Express",
        1972,
        "Horror|Sci-Fi",
        ["Eugenio Martín"],
        ["Christopher Lee", "Peter Cushing"],
        12_000,
    ),
    (
        1922,
        "Funny Games",
        1997,
        "Drama|Thriller",
        ["Michael Haneke"],
        ["Susanne Lothar", "Ulrich Mühe"],
        80_000,
    ),
    (
        6942,
        "Love Actually",
        2003,
        "Comedy|Drama|Romance",
        ["Richard Curtis"],
        ["Hugh Grant", "Liam Neeson"],
        500_000,
    ),
    (
        51709,
        "The Number 23",
        2007,
        "Drama|Mystery|Thriller",
        ["Joel Schumacher"],
        ["Jim Carrey", "Virginia Madsen"],
        220_000,
    ),
    (
        58559,
        "The Dark Knight",
        2008,
        "Action|Crime|Drama|IMAX",
        ["Christopher Nolan"],
        ["Christian Bale", "Heath Ledger"],
        2_700_000,
    ),
    (
        79132,
        "Inception",
        2010,
        "Action|Crime|Drama|Mystery|Sci-Fi|Thriller|IMAX",
        ["Christopher Nolan"],
        ["Leonardo DiCaprio", "Joseph Gordon-Levitt"],
        2_400_000,
    ),
    (
        91529,
        "The Dark Knight Rises",
        2012,
        "Action|Adventure|Crime|IMAX",
        ["Christopher Nolan"],
        ["Christian Bale", "Tom Hardy"],
        1_700_000,
    ),
    (
        109487,
        "Interstellar",
        2014,
        "Sci-Fi|IMAX",
        ["Christopher Nolan"],
        ["Matthew McConaughey", "Anne Hathaway"],
        2_000_000,
    ),
    (60000, "Memento Mori Short", 2011, "Drama", ["Ana Lily"], ["Jonathan Nolan"], 900),
    (
        68954,
        "Up",
        2009,
        "Adventure|Animation|Children|Drama",
        ["Pete Docter"],
        ["Edward Asner", "Jordan Nagai"],
        1_100_000,
    ),
    (
        106920,
        "Her",
        2013,
        "Drama|Romance|Sci-Fi",
        ["Spike Jonze"],
        ["Joaquin Phoenix", "Scarlett Johansson"],
        650_000,
    ),
    (
        166643,
        "It",
        2017,
        "Horror",
        ["Andy Muschietti"],
        ["Bill Skarsgård", "Jaeden Martell"],
        600_000,
    ),
    (
        168250,
        "Fifty Shades Darker",
        2017,
        "Drama|Romance",
        ["James Foley"],
        ["Dakota Johnson", "Jamie Dornan"],
        110_000,
    ),
    (
        69757,
        "Paris",
        2008,
        "Drama",
        ["Cédric Klapisch"],
        ["Juliette Binoche", "Romain Duris"],
        20_000,
    ),
    (
        4025,
        "The Heat",
        2013,
        "Action|Comedy|Crime",
        ["Paul Feig"],
        ["Sandra Bullock", "Melissa McCarthy"],
        180_000,
    ),
    (
        1088,
        "Heat",
        1986,
        "Action|Crime|Drama",
        ["Dick Richards"],
        ["Burt Reynolds", "Karen Young"],
        5_000,
    ),
]


def catalogue_table() -> pa.Table:
    """A movies_info-shaped table (the columns Catalogue reads) of MOVIES."""
    columns: dict[str, list[Any]] = {
        "movie_id": [], "title": [], "year": [], "genres": [], "directors": [], "cast": [],
        "votes": [], "rating": [], "url": [],
    }  # fmt: skip
    for movie_id, title, year, genres, directors, cast, votes in MOVIES:
        columns["movie_id"].append(movie_id)
        columns["title"].append(title)
        columns["year"].append(year)
        columns["genres"].append(genres.split("|"))
        columns["directors"].append(directors)
        columns["cast"].append(cast)
        columns["votes"].append(votes)
        columns["rating"].append(7.5)
        columns["url"].append(None)
    return pa.table(columns)


# Movie ids in catalogue_table.MOVIES.
TOY_STORY, HEAT, JURASSIC_PARK, MATRIX, ALIEN, DIE_HARD = 1, 6, 480, 2571, 1214, 1036
SCARY_MOVIE, SPACE_ODYSSEY, DARK_KNIGHT_RISES, INCEPTION, TITANIC = 3785, 924, 91529, 79132, 1721
PRIDE, GOOD_BAD_UGLY, UP, HER, KIDS, SHAWSHANK, NUMBER_23 = (
    17,
    2946,
    68954,
    106920,
    7451,
    318,
    51709,
)
FIFTY_SHADES_DARKER, OCEANS_ELEVEN, JAWS = 168250, 4963, 1387
TOM_HANKS_MOVIES = frozenset({1, 356, 2797, 2028})

HISTORY = [
    HistoryTurn(role="user", content="thrillers from the 90s"),
    HistoryTurn(role="assistant", content="Heat, Se7en, ...", recommendations=[6, 47, 50, 1036]),
]


@dataclass(frozen=True)
class Case:
    """What one phrasing must parse to; unnamed fields must stay empty."""

    query: str
    filters: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    seed_text: str | None = None
    boost_genres: tuple[str, ...] = ()
    boost_terms: tuple[str, ...] = ()
    boosted: bool = False
    avoid: tuple[str, ...] = ()
    follow_up: FollowUp | None = None
    off_topic: bool = False
    wants_best: bool = False
    history: bool = False


def case(query: str, **expected: Any) -> Any:
    if expected.get("boost_genres") or expected.get("boost_terms"):
        expected.setdefault("boosted", True)
    return pytest.param(Case(query, **expected), id=query[:60])


def _genres(*names: str) -> dict[str, Any]:
    return {"genres_any": names}


CASES = [
    # The original UI's four example questions.
    case(
        "Suggest me the best horror movie, that can scare anyone.",
        filters=_genres("Horror"),
        wants_best=True,
        boost_terms=("scary",),
    ),
    case("I liked 'Jurassic Park'. Can you suggest some movies similar?", seed=JURASSIC_PARK),
    case(
        "I am feeling bored, suggest me some movies to improve my mood.",
        boost_genres=("Comedy",),
        boost_terms=("feel-good", "uplifting"),
    ),
    case(
        "My friends are coming over, suggest me some movies to chill with them.",
        boost_genres=("Comedy",),
        boost_terms=("fun",),
    ),
    # Explicit genres filter; words written together mean every genre.
    case(
        "horror movies from the 90s",
        filters={**_genres("Horror"), "year_min": 1990, "year_max": 1999},
    ),
    case("sci-fi thriller", filters={"genres_all": ("Sci-Fi", "Thriller")}),
    case(
        "science fiction from the 1980s",
        filters={**_genres("Sci-Fi"), "year_min": 1980, "year_max": 1989},
    ),
    case(
        "a rom-com for date night",
        filters={"genres_all": ("Romance", "Comedy")},
        boost_terms=("romantic",),
    ),
    case("romantic comedy", filters={"genres_all": ("Romance", "Comedy")}),
    case("ROM COMS", filters={"genres_all": ("Romance", "Comedy")}),
    case("cartoons for the kids", filters={"genres_all": ("Animation", "Children")}),
    case("animated movies", filters=_genres("Animation")),
    case("family movies", filters=_genres("Children")),
    case("something kid-friendly", filters=_genres("Children")),
    case("family drama", filters=_genres("Drama")),
    case("a documentary about space", filters=_genres("Documentary"), boost_terms=("space",)),
    case("film noir", filters=_genres("Film-Noir")),
    case("war movies", filters=_genres("War")),
    case(
        "westerns with Clint Eastwood",
        filters={**_genres("Western"), "people": ("Clint Eastwood",)},
    ),
    case("musicals", filters=_genres("Musical")),
    case(
        "crime drama rated above 8", filters={"genres_all": ("Crime", "Drama"), "min_rating": 8.0}
    ),
    case("mystery or fantasy", filters=_genres("Mystery", "Fantasy")),
    case("adventure and action", filters=_genres("Adventure", "Action")),
    case("I'd like a horror comedy", filters={"genres_all": ("Horror", "Comedy")}),
    case("any good heist movies?", filters=_genres("Crime")),
    case("I love horror movies", filters=_genres("Horror")),
    case("I'm a big fan of sci-fi", filters=_genres("Sci-Fi")),
    case("Sci-Fi", filters=_genres("Sci-Fi")),
    case("an action-packed thriller", filters=_genres("Thriller"), boost_genres=("Action",)),
    # Mood adjectives only boost.
    case("scary movies", filters=_genres("Horror")),  # the genre, not the *Scary Movie* spoofs
    case(
        "SCARY MOVIES FROM THE 80S",
        filters={"genres_any": ("Horror",), "year_min": 1980, "year_max": 1989},
    ),
    # "Funny movies" are comedies, as "scary movies" are horror (not Funny People).
    case("funny movies", filters=_genres("Comedy")),
    case("something scary", filters=_genres("Horror")),
    case("mind-bending movies", boost_genres=("Sci-Fi", "Thriller"), boost_terms=("mind-bending",)),
    case("a dark thriller", filters=_genres("Thriller"), boost_terms=("dark",)),
    case("a feel-good movie for a rainy day", boost_genres=("Comedy",), boost_terms=("feel-good",)),
    case("I'm sad, cheer me up", boost_genres=("Comedy",), boost_terms=("uplifting",)),
    case("a tearjerker", boost_genres=("Drama",), boost_terms=("tearjerker",)),
    case("something for a party", boost_genres=("Comedy",)),
    case("old classics", boost_terms=("classic",)),
    case("movies about dinosaurs", boost_terms=("dinosaurs",)),
    # Negations never filter; a kind ruled out and nothing asked for is an open ask (the
    # best-known films of the other kinds).
    case("something funny but no romance", filters=_genres("Comedy"), avoid=("Romance",)),
    case("not a comedy, please", avoid=("Comedy",), wants_best=True),
    case("without romance, a drama", filters=_genres("Drama"), avoid=("Romance",)),
    case("I don't want anything scary", avoid=("Horror",), wants_best=True),
    case("nothing too scary for the kids", filters=_genres("Children"), avoid=("Horror",)),
    case("anything but horror", avoid=("Horror",), wants_best=True),
    case("No horror or romance please", avoid=("Horror", "Romance"), wants_best=True),
    case("no horror, a comedy please", filters=_genres("Comedy"), avoid=("Horror",)),
    case("I'm not in the mood for horror", avoid=("Horror",), wants_best=True),
    case("I hate romance", avoid=("Romance",)),
    case("nothing but horror", filters=_genres("Horror")),
    case("something without Tom Hanks", filters={"exclude_ids": TOM_HANKS_MOVIES}),
    # Years.
    case("80's action movies", filters={**_genres("Action"), "year_min": 1980, "year_max": 1989}),
    case("movies from 1994", filters={"year_min": 1994, "year_max": 1994}),
    case("released in 2004", filters={"year_min": 2004, "year_max": 2004}),
    case("a 1999 movie", filters={"year_min": 1999, "year_max": 1999}),
    case("after 2010", filters={"year_min": 2011}),
    case("since 2000", filters={"year_min": 2000}),
    case("before 1980", filters={"year_max": 1979}),
    case("between 1990 and 1995", filters={"year_min": 1990, "year_max": 1995}),
    case("from 1990 to 1995", filters={"year_min": 1990, "year_max": 1995}),
    case("2000-2005 comedies", filters={**_genres("Comedy"), "year_min": 2000, "year_max": 2005}),
    case("the nineties", filters={"year_min": 1990, "year_max": 1999}),
    case("the late 80s", filters={"year_min": 1986, "year_max": 1989}),
    case("mid-90s thrillers", filters={**_genres("Thriller"), "year_min": 1993, "year_max": 1996}),
    case(
        "90s or 2000s comedies", filters={**_genres("Comedy"), "year_min": 1990, "year_max": 2009}
    ),
    case("movies between the 80s and the 90s", filters={"year_min": 1980, "year_max": 1999}),
    case("after the 90s", filters={"year_min": 2000}),
    # The catalogue's newest year is 2017: "recent" is its last five years.
    case("recent thrillers", filters={**_genres("Thriller"), "year_min": 2013}),
    case("new releases", filters={"year_min": 2013}),
    # What is showing now is recent; "the last N years" is the newest N (at least two).
    case("what is in the theater now?", filters={"year_min": 2013}),
    case("a comedy that's still in theaters", filters={**_genres("Comedy"), "year_min": 2013}),
    case("current movies", filters={"year_min": 2013}),
    case("good films that are out now", filters={"year_min": 2013}),
    case("a comedy that just came out", filters={**_genres("Comedy"), "year_min": 2013}),
    case("I just came out of the cinema, any comedies?", filters=_genres("Comedy")),
    case(
        "I am a little down, any ideas to pick up my spirits?",
        boost_genres=("Comedy",),
        boost_terms=("feel-good",),
    ),
    case("something from within the last year", filters={"year_min": 2016}),
    case("thrillers from the past few years", filters={**_genres("Thriller"), "year_min": 2015}),
    case("horror of the last 4 years", filters={**_genres("Horror"), "year_min": 2014}),
    # Ratings (0-10; stars are out of 5).
    case("rating over 7.5", filters={"min_rating": 7.5}),
    case("at least 4 stars", filters={"min_rating": 8.0}),
    case("4-star movies", filters={"min_rating": 8.0}),
    case("8+ on imdb", filters={"min_rating": 8.0}),
    case("imdb rating 7+", filters={"min_rating": 7.0}),
    case("rated at least 7/10", filters={"min_rating": 7.0}),
    case("thrillers rated 8.5 or higher", filters={**_genres("Thriller"), "min_rating": 8.5}),
    case("rated R comedies", filters=_genres("Comedy")),
    case("highly rated dramas", filters=_genres("Drama"), wants_best=True),
    case("top rated sci-fi", filters=_genres("Sci-Fi"), wants_best=True),
    case("the best of the 90s", filters={"year_min": 1990, "year_max": 1999}, wants_best=True),
    # People.
    case("with Tom Hanks", filters={"people": ("Tom Hanks",)}),
    case("movies with tom hankss", filters={"people": ("Tom Hanks",)}),  # a typo
    case("i like tom hank comedies", filters={**_genres("Comedy"), "people": ("Tom Hanks",)}),
    case("starring keanu reeves", filters={"people": ("Keanu Reeves",)}),
    case("directed by Spielberg", filters={"people": ("Steven Spielberg",)}),
    case("comedies starring hanks", filters={**_genres("Comedy"), "people": ("Tom Hanks",)}),
    case("Nolan films", filters={"people": ("Christopher Nolan",)}),
    case("a thriller by Nolan", filters={**_genres("Thriller"), "people": ("Christopher Nolan",)}),
    case(
        "a Spielberg movie from the 70s",
        filters={"people": ("Steven Spielberg",), "year_min": 1970, "year_max": 1979},
    ),
    # "with love" is not Courtney Love: a lower-case surname after "with" is just a word.
    case("movies with love"),
    # Seeds: any case, year, article order, typos; their words never become constraints.
    case("like The Matrix", seed=MATRIX),
    case("LIKE THE MATRIX", seed=MATRIX),
    case("movies like matrix", seed=MATRIX),
    case("similar to Matrix, The", seed=MATRIX),
    case("similar to the matrx", seed=MATRIX),
    case("I loved Alien", seed=ALIEN),
    case("enjoyed Heat (1995)", seed=HEAT),
    case("movies like jurasic park", seed=JURASSIC_PARK),
    case("something in the vein of Die Hard", seed=DIE_HARD),
    case("if I liked Toy Story what else", seed=TOY_STORY),
    case("like Scary Movie", seed=SCARY_MOVIE),
    case("I enjoyed the Shawshank", seed=SHAWSHANK),
    case("what else is like Inception?", seed=INCEPTION),
    case("Any recommendations similar to Heat?", seed=HEAT),
    case("movies like heat and ronin", seed=HEAT),
    case('Good movies like "Pride and Prejudice"?', seed=PRIDE),
    case("movies like pride & prejudice", seed=PRIDE),
    case("like The Good, the Bad and the Ugly", seed=GOOD_BAD_UGLY),
    case("movies like Up", seed=UP),
    case("I loved Her", seed=HER),
    case("I liked Kids", seed=KIDS),
    case("movies like The Number 23", seed=NUMBER_23),
    case("movies like Fifty Shades Darker", seed=FIFTY_SHADES_DARKER),
    case("something like Ocean's 11", seed=OCEANS_ELEVEN),
    case(
        "I want to watch 2001: A Space Odyssey again, anything similar?",
        seed=SPACE_ODYSSEY,
    ),
    case(
        "movies like The Dark Knight Rises with more action",
        seed=DARK_KNIGHT_RISES,
        filters=_genres("Action"),
    ),
    case("I like horror movies like Alien", seed=ALIEN, filters=_genres("Horror")),
    case(
        "Can you recommend a movie like Titanic but funnier?",
        seed=TITANIC,
        boost_genres=("Comedy",),
    ),
    case(
        "something like heat but from the 80s",
        seed=HEAT,
        filters={"year_min": 1980, "year_max": 1989},
    ),
    case(
        "something from the 90s like Heat, rated above 7",
        seed=HEAT,
        filters={"year_min": 1990, "year_max": 1999, "min_rating": 7.0},
    ),
    case("I feel like a comedy", filters=_genres("Comedy")),
    case("I would like a thriller", filters=_genres("Thriller")),
    case("movies like Blorpzilla 3000", seed_text="Blorpzilla 3000"),
    case("movies like this", wants_best=True),  # asks for nothing in particular: well-liked
    case("I loved her performance"),
    # Follow-ups.
    case(
        "more like the second one", history=True, follow_up=FollowUp(kind="more_like", position=1)
    ),
    case("more like that last one", history=True, follow_up=FollowUp(kind="more_like", position=3)),
    case("more like #2", follow_up=FollowUp(kind="more_like", position=1)),
    case(
        "I enjoyed the first movie you suggested",
        history=True,
        follow_up=FollowUp(kind="more_like", position=0),
    ),
    case("tell me about the third one", history=True, follow_up=FollowUp(kind="other", position=2)),
    case(
        "something lighter",
        history=True,
        follow_up=FollowUp(kind="lighter"),
        boost_genres=("Comedy",),
    ),
    case("darker", history=True, follow_up=FollowUp(kind="darker"), boost_terms=("dark",)),
    case("show me more", history=True, follow_up=FollowUp(kind="more")),
    case("others", history=True, follow_up=FollowUp(kind="more")),
    case("More like that", history=True, follow_up=FollowUp(kind="more")),
    # Off-topic.
    case("what's the weather", off_topic=True),
    case("write me a poem", off_topic=True),
    case("how do I cook pasta", off_topic=True),
    case("what's the weather in Paris", off_topic=True),
    case("hello", wants_best=True),  # small talk: ignored (well-liked films), not refused
    case("a movie about cooking pasta", boost_terms=("cooking pasta",)),
    case("write me a poem about The Dark Knight"),  # a title of two words is about movies
    case("write me a poem about Titanic", off_topic=True),  # one word plus another subject
    case("Titanic?", seed=1721),  # a request that is one title asks for films like it
    case("Is Inception any good?"),
    case("What's a good movie for tonight?", wants_best=True),  # vague: well-liked films
    case("I'm not sure what I want", wants_best=True),  # leaves the choice to us
    case("surprise me", wants_best=True),
    case("Love Actually", seed=6942),
    case("Heat", seed=6),
    case("heat (1986)", seed=1088),
    case("heat"),  # a lone lower-case word may be a topic: about movies, no seed
]


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    return QueryParser(Catalogue(catalogue_table()))


def test_there_are_enough_phrasings() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("expected", CASES)
def test_phrasing(parser: QueryParser, expected: Case) -> None:
    parsed = parser.parse(expected.query, HISTORY if expected.history else None)

    assert parsed.filters == SearchFilters(**expected.filters)
    assert (parsed.seed.movie_id if parsed.seed else None) == expected.seed
    assert parsed.seed_text == expected.seed_text
    assert parsed.follow_up == expected.follow_up
    assert parsed.off_topic is expected.off_topic
    assert parsed.wants_best is expected.wants_best
    assert set(parsed.avoid_genres) == set(expected.avoid)
    assert set(expected.boost_genres) <= set(parsed.boost_genres)
    assert set(expected.boost_terms) <= set(parsed.boost_terms)
    if not expected.boosted:
        assert (parsed.boost_genres, parsed.boost_terms) == ([], [])


def test_vocabulary_names_only_movielens_genres() -> None:
    for row in VOCABULARY:
        assert set(row.genres) <= set(MOVIELENS_GENRES), row.pattern
        assert row.kind == "mood" or row.genres, row.pattern


@pytest.mark.parametrize(
    ("phrase", "genre"),
    [
        ("action", "Action"),
        ("adventure", "Adventure"),
        ("animation", "Animation"),
        ("movies for children", "Children"),
        ("comedy", "Comedy"),
        ("crime", "Crime"),
        ("documentaries", "Documentary"),
        ("drama", "Drama"),
        ("fantasy", "Fantasy"),
        ("film-noir", "Film-Noir"),
        ("horror", "Horror"),
        ("IMAX", "IMAX"),
        ("musical", "Musical"),
        ("mystery", "Mystery"),
        ("romance", "Romance"),
        ("scifi", "Sci-Fi"),
        ("thrillers", "Thriller"),
        ("war", "War"),
        ("western", "Western"),
    ],
)
def test_every_movielens_genre_can_be_asked_for(
    parser: QueryParser, phrase: str, genre: str
) -> None:
    assert parser.parse(f"some {phrase} please").filters.genres_any == (genre,)


def test_mood_genres_do_not_repeat_a_filtered_genre(parser: QueryParser) -> None:
    parsed = parser.parse("a scary horror film")
    assert parsed.filters.genres_any == ("Horror",)
    assert "Horror" not in parsed.boost_genres
    assert "scary" in parsed.boost_terms


def test_seed_keeps_the_title_as_written(parser: QueryParser) -> None:
    parsed = parser.parse("Movies similar to matrix, the (1999) please")
    assert parsed.seed is not None
    assert (parsed.seed.movie_id, parsed.seed.title, parsed.seed.year) == (
        MATRIX,
        "The Matrix",
        1999,
    )
    assert parsed.seed.written_as == "matrix, the (1999)"
    assert parsed.filters.is_empty  # the year belongs to the title


def test_seed_year_picks_the_remake(parser: QueryParser) -> None:
    assert parser.parse("like Heat (1986)").seed.movie_id == 1088  # type: ignore[union-attr]
    assert parser.parse("like Heat").seed.movie_id == HEAT  # type: ignore[union-attr]


def test_seed_words_never_leak_into_constraints(parser: QueryParser) -> None:
    for query in ("like Scary Movie", "movies like Die Hard", "I loved Fifty Shades Darker"):
        parsed = parser.parse(query, HISTORY)
        assert parsed.filters.is_empty, query
        assert parsed.boost_genres == [] and parsed.boost_terms == [], query
        assert parsed.follow_up is None, query


def test_present_tense_like_needs_an_exact_title(parser: QueryParser) -> None:
    # "Horror Express" starts with "horror": a prefix match must not turn a taste into a seed.
    parsed = parser.parse("I love horror of all kinds")
    assert parsed.seed is None and parsed.seed_text is None
    assert parsed.filters.genres_any == ("Horror",)


def test_lighter_and_more_without_history_are_moods_not_follow_ups(parser: QueryParser) -> None:
    lighter = parser.parse("something lighter")
    assert lighter.follow_up is None
    assert "Comedy" in lighter.boost_genres
    more = parser.parse("show me more")
    assert more.follow_up is None
    assert not more.off_topic


def test_last_one_without_history_counts_from_the_end(parser: QueryParser) -> None:
    assert parser.parse("more like the last one").follow_up == FollowUp(
        kind="more_like", position=-1
    )


def test_the_number_23_is_not_a_position(parser: QueryParser) -> None:
    parsed = parser.parse("more like The Number 23", HISTORY)
    assert parsed.follow_up is None
    assert parsed.seed is not None and parsed.seed.movie_id == NUMBER_23


def test_ambiguous_surname_is_not_guessed(parser: QueryParser) -> None:
    # Two Wachowskis co-direct the same movie: "by Wachowski" cannot pick one.
    assert parser.parse("a movie by Wachowski").filters.people is None
    # "Nolan" after "with" means an actor: the only actor of that name.
    assert parser.parse("something with Nolan").filters.people == ("Jonathan Nolan",)


def test_text_is_redacted_and_pii_never_becomes_a_filter(parser: QueryParser) -> None:
    parsed = parser.parse(
        "I'm jane.doe@example.org, call +1 (555) 123-4567 or 020 7946 0958: comedies from 1994"
    )
    assert "example.org" not in parsed.text and "555" not in parsed.text
    assert "[email]" in parsed.text and parsed.text.count("[phone]") == 2
    assert parsed.filters == SearchFilters(genres_any=("Comedy",), year_min=1994, year_max=1994)


def test_contradictory_years_fall_back_to_the_named_period(parser: QueryParser) -> None:
    parsed = parser.parse("90s movies after 2005")
    assert (parsed.filters.year_min, parsed.filters.year_max) == (1990, 1999)


def test_negated_years_and_ratings_do_not_filter(parser: QueryParser) -> None:
    parsed = parser.parse("horror, not from the 90s and not rated above 8")
    assert parsed.filters == SearchFilters(genres_any=("Horror",))


def test_parse_result_is_a_parsed_query(parser: QueryParser) -> None:
    parsed = parser.parse("")
    assert isinstance(parsed, ParsedQuery)
    assert parsed.off_topic
    assert parsed.text == ""


@pytest.mark.spark
@pytest.mark.slow
def test_real_catalogue_reads_the_ui_questions(real_build) -> None:
    from movie_rag.tables import read_local_table
    from movie_rag.workdir import Workdir

    settings, _ = real_build
    table = read_local_table(Workdir(settings.workdir).table("movies_info"))
    parser = QueryParser(Catalogue(table))

    best_horror = parser.parse("Suggest me the best horror movie, that can scare anyone.")
    assert best_horror.filters.genres_any == ("Horror",) and best_horror.wants_best
    jurassic = parser.parse("I liked 'Jurassic Park'. Can you suggest some movies similar?")
    assert jurassic.seed is not None and jurassic.seed.movie_id == 480
    assert jurassic.filters.is_empty
    for mood in (
        "I am feeling bored, suggest me some movies to improve my mood.",
        "My friends are coming over, suggest me some movies to chill with them.",
    ):
        parsed = parser.parse(mood)
        assert parsed.filters.is_empty and parsed.boost_genres and not parsed.off_topic
    for written, movie_id in (
        ("similar to Matrix, The", 2571),
        ("movies like jurasic park", 480),
        ("LIKE THE SHAWSHANK REDEMPTION", 318),
        ("enjoyed Heat (1995)", 6),
    ):
        seed = parser.parse(written).seed
        assert seed is not None and seed.movie_id == movie_id, written
    hanks = parser.parse("comedies with tom hanks")
    assert hanks.filters.people == ("Tom Hanks",)


@pytest.mark.parametrize(
    "query",
    ["a dystopian future", "ghost story", "a biography of a musician", "heist gone wrong"],
)
def test_a_bare_topic_is_a_request_for_movies_about_it(parser: QueryParser, query: str) -> None:
    assert not parser.parse(query).off_topic


@pytest.mark.parametrize("query", ["what time is it", "how do I cook pasta"])
def test_other_subjects_are_not_requests(parser: QueryParser, query: str) -> None:
    assert parser.parse(query).off_topic


@pytest.mark.parametrize(
    "query",
    ["hello there", "thank you", "good morning", "ok", "hi how are u", "Merry Christmas!"],
)
def test_greetings_are_small_talk_not_off_topic(parser: QueryParser, query: str) -> None:
    parsed = parser.parse(query)
    assert not parsed.off_topic and not parsed.unclear


def test_a_year_in_brackets_belongs_to_the_title_and_filters_nothing(parser: QueryParser) -> None:
    parsed = parser.parse("I loved Heat and Blorpzilla (2010), any horror?")
    assert parsed.seed is not None and parsed.seed.movie_id == 6
    assert parsed.filters == SearchFilters(genres_any=("Horror",))
    # A year written as a constraint still filters.
    assert parser.parse("horror from 2010").filters.year_min == 2010


def test_a_huge_request_is_read_from_its_head(parser: QueryParser) -> None:
    from movie_rag.chain.query import MAX_QUERY_CHARS

    head = "horror movies from the 90s like Heat, not too funny. "
    parsed = parser.parse(head + "blah " * 20_000)
    assert parsed.seed is not None and parsed.seed.movie_id == 6
    assert parsed.filters.genres_any == ("Horror",)
    assert (parsed.filters.year_min, parsed.filters.year_max) == (1990, 1999)
    assert "Comedy" in parsed.avoid_genres
    assert len(parsed.text) <= MAX_QUERY_CHARS


def test_negation_window_never_reads_a_word_cut_in_two(parser: QueryParser) -> None:
    # "knot" ends 160+ characters before "horror": cutting it to "not" would negate it.
    filler = "x" * 150
    parsed = parser.parse(f"a knot{filler} horror please")
    assert parsed.filters.genres_any == ("Horror",)
    assert not parsed.avoid_genres
    # A real negation right before the phrase is still read.
    assert parser.parse(f"{filler} no horror please").avoid_genres == ["Horror"]


def test_people_spans_find_every_mention_in_order(parser: QueryParser) -> None:
    catalogue = parser.catalogue
    text = "with tom hanks, then Al Pacino, and Tom Hanks again"
    spans = catalogue.people_spans(text)
    assert [name for name, _, _ in spans] == ["Tom Hanks", "Al Pacino", "Tom Hanks"]
    assert all(text[a:b].lower() == name.lower() for name, a, b in spans)
    assert catalogue.people_in(text) == ["Tom Hanks", "Al Pacino", "Tom Hanks"]


def test_liked_and_disliked_movies_become_the_seed_set() -> None:
    from movie_rag.chain.types import ParsedQuery, SeedMovie

    heat, alien, titanic, up = (
        SeedMovie(movie_id=i, title=t, year=y)
        for i, t, y in ((6, "Heat", 1995), (1214, "Alien", 1979), (1721, "Titanic", 1997),
                        (68954, "Up", 2009))
    )  # fmt: skip
    parsed = ParsedQuery(text="x", seed=heat, liked=[heat, alien, up], disliked=[titanic])
    seeded = parsed.with_seed_set(limit=1)
    assert [m.title for m in seeded.more_seeds] == ["Alien"]
    assert [m.title for m in seeded.negative_seeds] == ["Titanic"]
    assert [m.title for m in parsed.with_seed_set().more_seeds] == ["Alien", "Up"]
    unseeded = parsed.model_copy(update={"seed": None}).with_seed_set()
    assert unseeded.more_seeds == [] and [m.title for m in unseeded.negative_seeds] == ["Titanic"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'd like a good comedy.", True),
        ("Can you reccomend a good kids movie for me?", True),
        ("I like sci-fi's, what do you recommend?", True),
        ("I was looking for maybe a movie to watch this weekend.", True),
        ("Comedy mainly, but I also enjoy a good horror!", True),
        ("I really like horror movies, with paranormal themes.", False),
        ("a comedy with Will Ferrell", False),
        # A documentary is a kind (its best-known ones lead); a heist is also a topic.
        ("Can you recommend a documentary?", True),
        ("Can you recommend some heist movies?", False),
    ],
)
def test_only_vocabulary_ignores_chat_but_not_topics(text: str, expected: bool) -> None:
    from movie_rag.chain.query_patterns import only_vocabulary

    assert only_vocabulary(text) is expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("tom hankss", "Tom Hanks"),
        ("Tom Hank", "Tom Hanks"),
        ("tim hanks", None),  # a first name that is another word
        ("tom", None),  # one word is no name
        ("Tod Hanks", None),  # Tom is not Tod: each word must be close
    ],
)
def test_closest_person_forgives_typos_not_other_names(written: str, expected: str | None) -> None:
    catalogue = Catalogue(catalogue_table())
    assert catalogue.closest_person(written) == expected


def test_a_common_word_in_a_misspelt_name_must_be_written_exactly() -> None:
    catalogue = Catalogue(catalogue_table())
    assert catalogue.closest_person("to hanks", exact=frozenset({"to"})) is None
    assert catalogue.closest_person("tom hanks", exact=frozenset({"tom"})) == "Tom Hanks"


def test_an_unknown_bracketed_title_names_no_other_film(parser: QueryParser) -> None:
    # "Heat Wave (2017)" is not in the catalogue: its "Heat" is not Heat (1995).
    parsed = parser.parse("I loved Toy Story (1995) and Heat Wave (2017)")
    assert parsed.seed is not None and parsed.seed.title == "Toy Story"
    assert [m.title for m in parsed.liked] == ["Toy Story"]


def test_a_title_ending_in_a_mark_keeps_its_year(parser: QueryParser) -> None:
    parsed = parser.parse("I liked Heat! (1995) a lot")
    assert [m.title for m in parsed.liked] == ["Heat"]


@pytest.mark.parametrize(
    "query",
    [
        "I saw Heat twice in the theater. Something like it",
        "Recently seen Heat and loved it",
        "I recently watched Heat, more like that",
        "I have recently seen Heat",
    ],
)
def test_where_or_when_a_film_was_seen_is_no_recency(parser: QueryParser, query: str) -> None:
    assert parser.parse(query).filters.year_min is None


@pytest.mark.parametrize(
    ("query", "liked", "disliked", "seen"),
    [
        ("I saw Inception and loved it", ["Inception"], [], []),
        ("I watched Inception last week, it was great", ["Inception"], [], []),
        ("I saw Heat (1995) and that was awesome.", ["Heat"], [], []),
        ("I have seen Inception and hated it", [], ["Inception"], []),
        ("I saw Inception yesterday and it was boring", [], ["Inception"], []),
        ("I watched Inception", [], [], ["Inception"]),
        # The verdict must be about the seen film: another title's praise is its own.
        ("I have seen Inception and Heat was great", ["Heat"], [], ["Inception"]),
    ],
)
def test_a_seen_film_called_good_or_bad_in_its_sentence_is_liked_or_disliked(
    parser: QueryParser, query: str, liked: list[str], disliked: list[str], seen: list[str]
) -> None:
    parsed = parser.parse(query)
    titles = [m.title for m in (*([parsed.seed] if parsed.seed else []), *parsed.more_seeds)]
    assert titles == liked
    assert [m.title for m in parsed.negative_seeds] == disliked
    assert [m.title for m in parsed.seen] == seen


def test_seasons_greetings_are_small_talk(parser: QueryParser) -> None:
    from movie_rag.chain.query_patterns import is_chit_chat

    assert is_chit_chat("Happy holidays!") and is_chit_chat("merry xmas to you")
    assert not is_chit_chat("christmas movies")
    parsed = parser.parse("Merry Christmas, any good musicals?")
    assert parsed.filters.genres_any == ("Musical",)
    assert "christmas" not in (parsed.search_text or "").lower()


def test_where_to_watch_is_no_title_word(parser: QueryParser) -> None:
    parsed = parser.parse("a comedy I can watch on netflix or prime")
    assert parsed.filters.genres_any == ("Comedy",)
    assert not {"netflix", "prime"} & set((parsed.search_text or "").lower().split())


@pytest.mark.parametrize(
    ("query", "genre"),
    [
        ("any good comdey movies?", "Comedy"),
        ("a horor movie please", "Horror"),
        ("annimated films", "Animation"),
        ("a good thiller", "Thriller"),
        ("some westeern movies", "Western"),
        ("familly movies for tonight", "Children"),
    ],
)
def test_a_genre_word_one_typo_away_is_read_as_the_genre(
    parser: QueryParser, query: str, genre: str
) -> None:
    assert parser.parse(query).filters.genres_any == (genre,)


def test_only_unknown_words_are_spelled_back() -> None:
    from movie_rag.chain.vocabulary import VocabularySpeller

    speller = VocabularySpeller(frozenset({"might", "billy", "comedy"}))
    # Words movies are described in stay; so do words near two vocabulary words.
    assert speller("what might billy like") == "what might billy like"
    assert speller("a funnt comdey") == "a funny comedy"
    assert speller("horrors and dramas") == "horrors and dramas"
    assert speller("on prime") == "on prime"  # not "crime": typos keep the first letter


def test_every_spelled_word_is_read_by_the_vocabulary() -> None:
    from movie_rag.chain.vocabulary import _COMPILED, _SPELLED

    # A correction to a word the vocabulary does not read would only add title noise.
    for word in _SPELLED:
        phrases = (word, f"{word} movies", f"for {word}")
        assert any(p.search(text) for p, _ in _COMPILED for text in phrases), word


def test_a_studio_is_read_from_its_films_keywords_not_from_a_place(parser: QueryParser) -> None:
    assert "dc comics" in parser.parse("dc movies").boost_terms
    assert "studio ghibli" in parser.parse("Studio Ghibli films").boost_terms
    assert not parser.parse("a movie set in Washington DC").boost_terms
