"""A small movies_info table of real films, shaped like MovieInfoBuilder's output."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA

if TYPE_CHECKING:
    import numpy as np

    from movie_rag.index import LocalEmbeddings

# Never part of any document: if it shows up in a result, user_tags leaked.
SECRET_USER_TAG = "internal-user-tag-do-not-show"

# movie_id, title, year, genres, directors, cast, rating (IMDb 0-10), votes, overview, keywords
_MOVIES: list[tuple[Any, ...]] = [
    (
        1,
        "Toy Story",
        1995,
        "Adventure|Animation|Children|Comedy|Fantasy",
        ["John Lasseter"],
        ["Tom Hanks", "Tim Allen", "Don Rickles"],
        8.3,
        1_050_000,
        "A cowboy doll feels threatened when a flashy space ranger action figure becomes the "
        "boy's new favourite toy; the rivals must work together when they get lost.",
        ["toy", "rivalry", "friendship", "computer animation"],
    ),
    (
        2,
        "Jumanji",
        1995,
        "Adventure|Children|Fantasy",
        ["Joe Johnston"],
        ["Robin Williams", "Kirsten Dunst", "Bonnie Hunt"],
        7.1,
        380_000,
        "Two children find a magical board game that unleashes jungle animals and releases a man "
        "trapped inside it for decades.",
        ["board game", "jungle", "magic"],
    ),
    (
        6,
        "Heat",
        1995,
        "Action|Crime|Thriller",
        ["Michael Mann"],
        ["Al Pacino", "Robert De Niro", "Val Kilmer"],
        8.3,
        720_000,
        "A veteran Los Angeles detective hunts a meticulous professional thief whose crew plans "
        "one last bank heist.",
        ["heist", "bank robbery", "cat and mouse", "los angeles"],
    ),
    (
        47,
        "Se7en",
        1995,
        "Mystery|Thriller",
        ["David Fincher"],
        ["Brad Pitt", "Morgan Freeman", "Gwyneth Paltrow"],
        8.6,
        1_800_000,
        "Two detectives track a serial killer who stages each murder after one of the seven "
        "deadly sins.",
        ["serial killer", "seven deadly sins", "detective"],
    ),
    (
        50,
        "The Usual Suspects",
        1995,
        "Crime|Mystery|Thriller",
        ["Bryan Singer"],
        ["Kevin Spacey", "Gabriel Byrne", "Benicio Del Toro"],
        8.5,
        1_150_000,
        "A small-time con man tells customs agents how five criminals met in a police line-up "
        "and were drawn into a job for a mythical crime lord named Keyser Soze.",
        ["plot twist", "unreliable narrator", "keyser soze"],
    ),
    (
        110,
        "Braveheart",
        1995,
        "Action|Drama|War",
        ["Mel Gibson"],
        ["Mel Gibson", "Sophie Marceau", "Patrick McGoohan"],
        8.3,
        1_100_000,
        "A Scottish commoner leads a rebellion against the English king after his wife is "
        "murdered.",
        ["scotland", "rebellion", "medieval battle"],
    ),
    (
        150,
        "Apollo 13",
        1995,
        "Adventure|Drama|IMAX",
        ["Ron Howard"],
        ["Tom Hanks", "Kevin Bacon", "Bill Paxton"],
        7.7,
        320_000,
        "An oxygen tank explodes on the way to the Moon and three astronauts must improvise to "
        "get home alive.",
        ["nasa", "astronaut", "space mission", "true story"],
    ),
    (
        296,
        "Pulp Fiction",
        1994,
        "Comedy|Crime|Drama|Thriller",
        ["Quentin Tarantino"],
        ["John Travolta", "Samuel L. Jackson", "Uma Thurman"],
        8.9,
        2_200_000,
        "Hitmen, a boxer, a gangster's wife and a pair of diner robbers cross paths in "
        "interlocking stories of Los Angeles crime.",
        ["nonlinear timeline", "hitman", "briefcase"],
    ),
    (
        318,
        "The Shawshank Redemption",
        1994,
        "Crime|Drama",
        ["Frank Darabont"],
        ["Tim Robbins", "Morgan Freeman", "Bob Gunton"],
        9.3,
        2_900_000,
        "A banker sentenced to life in prison for murders he did not commit befriends a "
        "smuggler and quietly plans his escape over two decades.",
        ["prison", "friendship", "escape", "hope"],
    ),
    (
        356,
        "Forrest Gump",
        1994,
        "Comedy|Drama|Romance|War",
        ["Robert Zemeckis"],
        ["Tom Hanks", "Robin Wright", "Gary Sinise"],
        8.8,
        2_300_000,
        "A kind-hearted man with a low IQ drifts through decades of American history while "
        "never forgetting his childhood sweetheart.",
        ["vietnam war", "running", "american history"],
    ),
    (
        364,
        "The Lion King",
        1994,
        "Adventure|Animation|Children|Drama|Musical",
        ["Roger Allers", "Rob Minkoff"],
        ["Matthew Broderick", "Jeremy Irons", "James Earl Jones"],
        8.5,
        1_150_000,
        "A young lion prince flees his kingdom after his uncle murders his father, and must "
        "return to claim his place.",
        ["lion", "africa", "coming of age", "musical"],
    ),
    (
        480,
        "Jurassic Park",
        1993,
        "Action|Adventure|Sci-Fi|Thriller",
        ["Steven Spielberg"],
        ["Sam Neill", "Laura Dern", "Jeff Goldblum"],
        8.2,
        1_050_000,
        "Cloned dinosaurs escape their enclosures on an island theme park during a storm.",
        ["dinosaur", "cloning", "theme park", "island"],
    ),
    (
        527,
        "Schindler's List",
        1993,
        "Drama|War",
        ["Steven Spielberg"],
        ["Liam Neeson", "Ralph Fiennes", "Ben Kingsley"],
        9.0,
        1_450_000,
        "A German industrialist saves more than a thousand Jewish refugees during the Holocaust "
        "by employing them in his factories.",
        ["holocaust", "world war two", "true story"],
    ),
    (
        593,
        "The Silence of the Lambs",
        1991,
        "Crime|Horror|Thriller",
        ["Jonathan Demme"],
        ["Jodie Foster", "Anthony Hopkins", "Scott Glenn"],
        8.6,
        1_550_000,
        "An FBI trainee seeks the help of an imprisoned cannibal psychiatrist to catch another "
        "serial killer.",
        ["serial killer", "fbi", "cannibal", "psychiatrist"],
    ),
    (
        589,
        "Terminator 2: Judgment Day",
        1991,
        "Action|Sci-Fi",
        ["James Cameron"],
        ["Arnold Schwarzenegger", "Linda Hamilton", "Edward Furlong"],
        8.6,
        1_200_000,
        "A reprogrammed cyborg protects a boy, the future leader of the human resistance, from "
        "a shape-shifting killing machine sent back in time.",
        ["cyborg", "time travel", "artificial intelligence"],
    ),
    (
        2571,
        "The Matrix",
        1999,
        "Action|Sci-Fi|Thriller",
        ["Lana Wachowski", "Lilly Wachowski"],
        ["Keanu Reeves", "Laurence Fishburne", "Carrie-Anne Moss"],
        8.7,
        2_100_000,
        "A computer hacker learns that the world he lives in is a simulation run by machines "
        "and joins the rebellion against them.",
        ["simulated reality", "hacker", "artificial intelligence", "martial arts"],
    ),
    (
        2959,
        "Fight Club",
        1999,
        "Action|Crime|Drama|Thriller",
        ["David Fincher"],
        ["Brad Pitt", "Edward Norton", "Helena Bonham Carter"],
        8.8,
        2_300_000,
        "An insomniac office worker and a soap maker form an underground fighting club that "
        "grows into something far more dangerous.",
        ["insomnia", "split personality", "anarchism"],
    ),
    (
        2762,
        "The Sixth Sense",
        1999,
        "Drama|Horror|Mystery",
        ["M. Night Shyamalan"],
        ["Bruce Willis", "Haley Joel Osment", "Toni Collette"],
        8.2,
        1_050_000,
        "A child psychologist treats a frightened boy who claims he sees dead people.",
        ["ghost", "child psychologist", "plot twist"],
    ),
    (
        2858,
        "American Beauty",
        1999,
        "Drama|Romance",
        ["Sam Mendes"],
        ["Kevin Spacey", "Annette Bening", "Thora Birch"],
        8.3,
        1_200_000,
        "A suburban father in a midlife crisis becomes infatuated with his daughter's friend.",
        ["midlife crisis", "suburbia", "dark comedy"],
    ),
    (
        2028,
        "Saving Private Ryan",
        1998,
        "Action|Drama|War",
        ["Steven Spielberg"],
        ["Tom Hanks", "Matt Damon", "Tom Sizemore"],
        8.6,
        1_500_000,
        "After the Normandy landings a squad of soldiers goes behind enemy lines to bring home "
        "a paratrooper whose brothers were all killed.",
        ["world war two", "d-day", "soldier"],
    ),
    (
        1732,
        "The Big Lebowski",
        1998,
        "Comedy|Crime",
        ["Joel Coen", "Ethan Coen"],
        ["Jeff Bridges", "John Goodman", "Julianne Moore"],
        8.1,
        850_000,
        "A laid-back bowler is mistaken for a millionaire and dragged into a bungled kidnapping.",
        ["bowling", "mistaken identity", "kidnapping", "rug"],
    ),
    (
        1721,
        "Titanic",
        1997,
        "Drama|Romance",
        ["James Cameron"],
        ["Leonardo DiCaprio", "Kate Winslet", "Billy Zane"],
        7.9,
        1_300_000,
        "A young aristocrat falls in love with a poor artist aboard the ill-fated ocean liner.",
        ["shipwreck", "iceberg", "forbidden love"],
    ),
    (
        608,
        "Fargo",
        1996,
        "Comedy|Crime|Drama|Thriller",
        ["Joel Coen", "Ethan Coen"],
        ["Frances McDormand", "William H. Macy", "Steve Buscemi"],
        8.1,
        730_000,
        "A car salesman's scheme to have his wife kidnapped goes wrong, and a pregnant police "
        "chief investigates in snowy Minnesota.",
        ["kidnapping", "minnesota", "snow", "woodchipper"],
    ),
    (
        1407,
        "Scream",
        1996,
        "Comedy|Horror|Mystery|Thriller",
        ["Wes Craven"],
        ["Neve Campbell", "Courteney Cox", "David Arquette"],
        7.4,
        400_000,
        "A masked killer who loves horror movies terrorises the teenagers of a small town.",
        ["slasher", "masked killer", "teenager"],
    ),
    (
        1214,
        "Alien",
        1979,
        "Horror|Sci-Fi",
        ["Ridley Scott"],
        ["Sigourney Weaver", "Tom Skerritt", "John Hurt"],
        8.5,
        950_000,
        "The crew of a commercial space tug is stalked by a deadly creature after answering a "
        "distress signal.",
        ["space", "creature", "survival horror", "spaceship"],
    ),
    (
        1200,
        "Aliens",
        1986,
        "Action|Adventure|Horror|Sci-Fi",
        ["James Cameron"],
        ["Sigourney Weaver", "Michael Biehn", "Bill Paxton"],
        8.4,
        780_000,
        "Ripley returns with a unit of space marines to a colony overrun by the creatures.",
        ["space marine", "creature", "colony", "spaceship"],
    ),
    (
        1258,
        "The Shining",
        1980,
        "Horror",
        ["Stanley Kubrick"],
        ["Jack Nicholson", "Shelley Duvall", "Danny Lloyd"],
        8.4,
        1_100_000,
        "A writer becomes winter caretaker of an isolated hotel and is driven to madness by "
        "its ghosts.",
        ["haunted hotel", "isolation", "madness"],
    ),
    (
        260,
        "Star Wars: Episode IV - A New Hope",
        1977,
        "Action|Adventure|Sci-Fi",
        ["George Lucas"],
        ["Mark Hamill", "Harrison Ford", "Carrie Fisher"],
        8.6,
        1_450_000,
        "A farm boy joins a smuggler and a princess to rescue her from an evil empire's "
        "planet-destroying space station.",
        ["jedi", "galactic empire", "space opera"],
    ),
    (
        1196,
        "Star Wars: Episode V - The Empire Strikes Back",
        1980,
        "Action|Adventure|Sci-Fi",
        ["Irvin Kershner"],
        ["Mark Hamill", "Harrison Ford", "Carrie Fisher"],
        8.7,
        1_350_000,
        "The rebels are scattered by the Empire while a young Jedi trains with a master in a "
        "swamp.",
        ["jedi", "galactic empire", "space opera"],
    ),
    (
        1198,
        "Raiders of the Lost Ark",
        1981,
        "Action|Adventure",
        ["Steven Spielberg"],
        ["Harrison Ford", "Karen Allen", "Paul Freeman"],
        8.4,
        1_050_000,
        "An archaeologist races Nazi agents to find the Ark of the Covenant.",
        ["archaeologist", "treasure hunt", "nazi"],
    ),
    (
        1270,
        "Back to the Future",
        1985,
        "Adventure|Comedy|Sci-Fi",
        ["Robert Zemeckis"],
        ["Michael J. Fox", "Christopher Lloyd", "Lea Thompson"],
        8.5,
        1_300_000,
        "A teenager is sent thirty years into the past in a time machine built by an eccentric "
        "scientist and must make sure his parents fall in love.",
        ["time travel", "time machine", "flux capacitor", "delorean"],
    ),
    (
        541,
        "Blade Runner",
        1982,
        "Action|Sci-Fi|Thriller",
        ["Ridley Scott"],
        ["Harrison Ford", "Rutger Hauer", "Sean Young"],
        8.1,
        820_000,
        "A retired detective hunts four fugitive androids in a rain-soaked future Los Angeles.",
        ["android", "dystopia", "cyberpunk", "replicant"],
    ),
    (
        858,
        "The Godfather",
        1972,
        "Crime|Drama",
        ["Francis Ford Coppola"],
        ["Marlon Brando", "Al Pacino", "James Caan"],
        9.2,
        2_000_000,
        "The ageing patriarch of a crime dynasty hands control of his empire to his reluctant "
        "youngest son.",
        ["mafia", "family", "organised crime"],
    ),
    (
        912,
        "Casablanca",
        1942,
        "Drama|Romance",
        ["Michael Curtiz"],
        ["Humphrey Bogart", "Ingrid Bergman", "Paul Henreid"],
        8.5,
        600_000,
        "A cynical nightclub owner in wartime Morocco must choose between love and helping his "
        "former lover's husband escape the Nazis.",
        ["world war two", "nightclub", "lost love"],
    ),
    (
        923,
        "Citizen Kane",
        1941,
        "Drama|Mystery",
        ["Orson Welles"],
        ["Orson Welles", "Joseph Cotten", "Dorothy Comingore"],
        8.3,
        460_000,
        "Reporters piece together the life of a newspaper magnate to explain his dying word, "
        "Rosebud.",
        ["newspaper", "rosebud", "flashback"],
    ),
    (
        1219,
        "Psycho",
        1960,
        "Crime|Horror",
        ["Alfred Hitchcock"],
        ["Anthony Perkins", "Janet Leigh", "Vera Miles"],
        8.5,
        720_000,
        "A secretary on the run checks into a remote motel run by a young man dominated by his "
        "mother.",
        ["motel", "shower", "split personality"],
    ),
    (
        903,
        "Vertigo",
        1958,
        "Drama|Mystery|Romance|Thriller",
        ["Alfred Hitchcock"],
        ["James Stewart", "Kim Novak", "Barbara Bel Geddes"],
        8.2,
        430_000,
        "A retired detective with a fear of heights is hired to follow an old friend's wife and "
        "becomes obsessed with her.",
        ["obsession", "acrophobia", "san francisco"],
    ),
    (
        924,
        "2001: A Space Odyssey",
        1968,
        "Adventure|Drama|Sci-Fi",
        ["Stanley Kubrick"],
        ["Keir Dullea", "Gary Lockwood", "William Sylvester"],
        8.3,
        720_000,
        "A mysterious black monolith guides human evolution, and astronauts bound for Jupiter "
        "face a rebellious onboard computer.",
        ["monolith", "artificial intelligence", "space travel", "hal 9000"],
    ),
    (
        1201,
        "The Good, the Bad and the Ugly",
        1966,
        "Action|Adventure|Western",
        ["Sergio Leone"],
        ["Clint Eastwood", "Eli Wallach", "Lee Van Cleef"],
        8.8,
        820_000,
        "Three gunslingers compete to find a fortune in buried Confederate gold during the "
        "American Civil War.",
        ["spaghetti western", "gold", "civil war"],
    ),
    (
        1266,
        "Unforgiven",
        1992,
        "Drama|Western",
        ["Clint Eastwood"],
        ["Clint Eastwood", "Gene Hackman", "Morgan Freeman"],
        8.2,
        430_000,
        "A retired gunslinger takes on one last bounty to avenge a wounded woman in a town run "
        "by a brutal sheriff.",
        ["bounty hunter", "revenge", "aging gunfighter"],
    ),
    (
        1265,
        "Groundhog Day",
        1993,
        "Comedy|Fantasy|Romance",
        ["Harold Ramis"],
        ["Bill Murray", "Andie MacDowell", "Chris Elliott"],
        8.0,
        680_000,
        "A cynical TV weatherman finds himself reliving the same day over and over in a small "
        "Pennsylvania town.",
        ["time loop", "weatherman", "redemption"],
    ),
    (
        1307,
        "When Harry Met Sally...",
        1989,
        "Comedy|Romance",
        ["Rob Reiner"],
        ["Billy Crystal", "Meg Ryan", "Carrie Fisher"],
        7.7,
        240_000,
        "Two friends spend years wondering whether men and women can ever just be friends.",
        ["friendship", "new york city", "romantic comedy"],
    ),
    (
        539,
        "Sleepless in Seattle",
        1993,
        "Comedy|Drama|Romance",
        ["Nora Ephron"],
        ["Tom Hanks", "Meg Ryan", "Ross Malinger"],
        6.8,
        190_000,
        "A widower's son calls a radio show, and a woman across the country falls for the "
        "father's voice.",
        ["radio show", "widower", "romantic comedy"],
    ),
    (
        2424,
        "You've Got Mail",
        1998,
        "Comedy|Romance",
        ["Nora Ephron"],
        ["Tom Hanks", "Meg Ryan", "Greg Kinnear"],
        6.7,
        230_000,
        "Two business rivals in New York fall in love over anonymous email without knowing who "
        "the other is.",
        ["email", "bookstore", "romantic comedy"],
    ),
    (
        5618,
        "Spirited Away",
        2001,
        "Adventure|Animation|Fantasy",
        ["Hayao Miyazaki"],
        ["Rumi Hiiragi", "Miyu Irino", "Mari Natsuki"],
        8.6,
        900_000,
        "A girl wanders into a world of spirits and must work in a bathhouse to free her "
        "parents, who were turned into pigs.",
        ["spirit world", "bathhouse", "witch"],
    ),
    (
        4973,
        "Amelie",
        2001,
        "Comedy|Romance",
        ["Jean-Pierre Jeunet"],
        ["Audrey Tautou", "Mathieu Kassovitz", "Rufus"],
        8.3,
        790_000,
        "A shy Parisian waitress decides to secretly improve the lives of the people around her.",
        ["paris", "whimsy", "waitress"],
    ),
    (
        79132,
        "Inception",
        2010,
        "Action|Crime|Drama|Mystery|Sci-Fi|Thriller|IMAX",
        ["Christopher Nolan"],
        ["Leonardo DiCaprio", "Joseph Gordon-Levitt", "Elliot Page"],
        8.8,
        2_600_000,
        "A thief who steals corporate secrets by entering people's dreams is offered a chance to "
        "plant an idea instead.",
        ["dream", "heist", "subconscious", "mind bending"],
    ),
    (
        58559,
        "The Dark Knight",
        2008,
        "Action|Crime|Drama|IMAX",
        ["Christopher Nolan"],
        ["Christian Bale", "Heath Ledger", "Aaron Eckhart"],
        9.0,
        2_900_000,
        "Batman faces the Joker, an anarchist criminal mastermind who plunges Gotham into chaos.",
        ["superhero", "joker", "vigilante"],
    ),
    (
        4226,
        "Memento",
        2000,
        "Mystery|Thriller",
        ["Christopher Nolan"],
        ["Guy Pearce", "Carrie-Anne Moss", "Joe Pantoliano"],
        8.4,
        1_350_000,
        "A man who cannot form new memories hunts his wife's killer using notes and tattoos.",
        ["amnesia", "tattoo", "reverse chronology"],
    ),
    (
        174055,
        "Get Out",
        2017,
        "Horror",
        ["Jordan Peele"],
        ["Daniel Kaluuya", "Allison Williams", "Bradley Whitford"],
        7.8,
        700_000,
        "A young Black man uncovers a disturbing secret when he visits his white girlfriend's "
        "family estate.",
        ["hypnosis", "racism", "social thriller"],
    ),
    (
        122882,
        "Mad Max: Fury Road",
        2015,
        "Action|Adventure|Sci-Fi|Thriller",
        ["George Miller"],
        ["Tom Hardy", "Charlize Theron", "Nicholas Hoult"],
        8.1,
        1_100_000,
        "In a desert wasteland a drifter and a rebel warrior flee a tyrant in an armoured war rig.",
        ["post-apocalypse", "car chase", "desert"],
    ),
    (
        116797,
        "Paddington",
        2014,
        "Children|Comedy",
        ["Paul King"],
        ["Ben Whishaw", "Hugh Bonneville", "Sally Hawkins"],
        7.3,
        110_000,
        "A polite young bear from Peru arrives in London and is taken in by a family while a "
        "taxidermist hunts him.",
        ["bear", "london", "marmalade"],
    ),
    (
        1975,
        "Night of the Living Dead",
        1968,
        "Horror|Sci-Fi|Thriller",
        ["George A. Romero"],
        ["Duane Jones", "Judith O'Dea", "Karl Hardman"],
        None,
        None,
        "Strangers barricade themselves in a farmhouse while the dead rise and attack.",
        ["zombie", "farmhouse", "siege"],
    ),
    (
        5069,
        "Babylon 5",
        None,
        "Sci-Fi",
        ["J. Michael Straczynski"],
        ["Bruce Boxleitner", "Claudia Christian", "Mira Furlan"],
        None,
        None,
        "A space station becomes the last best hope for peace between warring alien empires.",
        ["space station", "diplomacy", "alien"],
    ),
]


def document_for(row: dict[str, Any]) -> str:
    """The text the ingestion side embeds (same ingredients, our own wording)."""
    year = f" ({row['year']})" if row["year"] is not None else ""
    parts = [
        f"{row['title']}{year}.",
        f"Genres: {', '.join(row['genres'])}.",
        f"Directed by {', '.join(row['directors'])}.",
        f"Starring {', '.join(row['cast'])}.",
        row["overview"],
        f"Keywords: {', '.join(row['keywords'])}.",
    ]
    return " ".join(parts)


def content_hash(row: dict[str, Any]) -> str:
    payload = {k: v for k, v in row.items() if k != "content_hash"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def movie_rows() -> list[dict[str, Any]]:
    """One dict per movie with every MOVIES_INFO_SCHEMA column."""
    rows = []
    for (
        movie_id,
        title,
        year,
        genres,
        directors,
        cast,
        rating,
        votes,
        overview,
        keywords,
    ) in _MOVIES:
        row: dict[str, Any] = {
            "movie_id": movie_id,
            "title": title,
            "year": year,
            "genres": genres.split("|"),
            "imdb_id": f"tt{movie_id:07d}",
            "tmdb_id": movie_id + 100_000,
            "overview": overview,
            "directors": directors,
            "cast": cast,
            "keywords": keywords,
            "genome_tags": [{"tag": keywords[0], "relevance": 0.9}],
            "user_tags": [SECRET_USER_TAG, f"seen-by-user-{movie_id}"],
            "ml_rating_mean": None if rating is None else round(rating / 2, 2),
            "ml_rating_count": None if votes is None else votes // 10_000,
            "ml_rating_bayes": None if rating is None else round(rating / 2 - 0.1, 2),
            "imdb_rating": rating,
            "imdb_votes": votes,
            "rating": rating,
            "votes": votes,
            "url": f"https://www.imdb.com/title/tt{movie_id:07d}/",
            "poster_path": None,
            "sources": ["movielens", "imdb"],
        }
        row["document"] = document_for(row)
        row["content_hash"] = content_hash(row)
        rows.append(row)
    return rows


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=MOVIES_INFO_SCHEMA)


def movies_table() -> pa.Table:
    return to_table(movie_rows())


class CountingEncoder:
    """The real embedder, recording every text it is asked to embed as a document."""

    def __init__(self, inner: LocalEmbeddings, model_name: str | None = None) -> None:
        self.inner = inner
        self._model_name = model_name or inner.model_name
        self.embedded: list[str] = []

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self.inner.encode(texts)

    def encode_query(self, text: str) -> np.ndarray:
        return self.inner.encode_query(text)
