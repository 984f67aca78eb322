"""Title parsing, display form and matching key; genre vocabulary and mapping (table-driven)."""

from __future__ import annotations

import pytest

from movie_rag.catalog.genres import (
    MOVIELENS_GENRES,
    map_genre,
    map_genres,
    parse_movielens_genres,
)
from movie_rag.catalog.titles import ParsedTitle, display_title, parse_movielens_title, title_key

# -- parse_movielens_title -----------------------------------------------------------------

# raw MovieLens title -> (display title, year, year_end, alternates). Most rows are real
# ml-latest-small titles; the rest are shapes other MovieLens releases use.
PARSE_CASES = [
    ("Toy Story (1995)", "Toy Story", 1995, None, ()),
    ("Matrix, The (1999)", "The Matrix", 1999, None, ()),
    ("Boy and His Dog, A (1975)", "A Boy and His Dog", 1975, None, ()),
    ("American in Paris, An (1951)", "An American in Paris", 1951, None, ()),
    ("Misérables, Les (1995)", "Les Misérables", 1995, None, ()),
    ("Jetée, La (1962)", "La Jetée", 1962, None, ()),
    ("Colonel Chabert, Le (1994)", "Le Colonel Chabert", 1994, None, ()),
    ("Atalante, L' (1934)", "L'Atalante", 1934, None, ()),
    ("Avventura, L' (Adventure, The) (1960)", "L'Avventura", 1960, None, ("The Adventure",)),
    ("Boot, Das (Boat, The) (1981)", "Das Boot", 1981, None, ("The Boat",)),
    ("Blechtrommel, Die (1979)", "Die Blechtrommel", 1979, None, ()),
    ("Mariachi, El (1992)", "El Mariachi", 1992, None, ()),
    ("Olvidados, Los (1950)", "Los Olvidados", 1950, None, ()),
    (
        "Vitelloni, I (a.k.a. The Young and the Passionate) (1953)",
        "I Vitelloni",
        1953,
        None,
        ("The Young and the Passionate",),
    ),
    ("Postman, The (Postino, Il) (1994)", "The Postman", 1994, None, ("Il Postino",)),
    (
        "Andalusian Dog, An (Chien andalou, Un) (1929)",
        "An Andalusian Dog",
        1929,
        None,
        ("Un Chien andalou",),
    ),
    (
        "Man Called Ove, A (En man som heter Ove) (2015)",
        "A Man Called Ove",
        2015,
        None,
        ("En man som heter Ove",),
    ),
    (
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
        "The City of Lost Children",
        1995,
        None,
        ("La Cité des enfants perdus",),
    ),
    (
        "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
        "Amelie",
        2001,
        None,
        ("Le Fabuleux destin d'Amélie Poulain",),
    ),
    (
        "Trou, Le (Hole, The) (Night Watch, The) (1960)",
        "Le Trou",
        1960,
        None,
        ("The Hole", "The Night Watch"),
    ),
    ("Seven (a.k.a. Se7en) (1995)", "Seven", 1995, None, ("Se7en",)),
    ("M*A*S*H (a.k.a. MASH) (1970)", "M*A*S*H", 1970, None, ("MASH",)),
    ("Movie (aka Film) (2000)", "Movie", 2000, None, ("Film",)),
    ("1900 (Novecento) (1976)", "1900", 1976, None, ("Novecento",)),
    ("(500) Days of Summer (2009)", "(500) Days of Summer", 2009, None, ()),
    (
        "From Dusk Till Dawn 2: Texas Blood Money (1999) ",
        "From Dusk Till Dawn 2: Texas Blood Money",
        1999,
        None,
        (),
    ),
    ("  Extra   spaces  (2001)", "Extra spaces", 2001, None, ()),
    ("Babylon 5", "Babylon 5", None, None, ()),
    ("Dark Knight, The", "The Dark Knight", None, None, ()),
    ("Death Note: Desu nôto (2006–2007)", "Death Note: Desu nôto", 2006, 2007, ()),
    ("Fawlty Towers (1975-1979)", "Fawlty Towers", 1975, 1979, ()),
    ("Wire, The (2002 – 2008)", "The Wire", 2002, 2008, ()),
    ("Show (2000-)", "Show", 2000, None, ()),
    ("11'09\"01 - September 11 (2002)", "11'09\"01 - September 11", 2002, None, ()),
    (
        "Lock, Stock & Two Smoking Barrels (1998)",
        "Lock, Stock & Two Smoking Barrels",
        1998,
        None,
        (),
    ),
    ("Cry, the Beloved Country (1995)", "Cry, the Beloved Country", 1995, None, ()),
    ("O Brother, Where Art Thou? (2000)", "O Brother, Where Art Thou?", 2000, None, ()),
    ("Me, Myself & I (2000)", "Me, Myself & I", 2000, None, ()),
    (
        "Hunger Games: Mockingjay - Part 1, The (2014)",
        "The Hunger Games: Mockingjay - Part 1",
        2014,
        None,
        (),
    ),
    (
        "Shall We Dance? (Shall We Dansu?) (1996)",
        "Shall We Dance?",
        1996,
        None,
        ("Shall We Dansu?",),
    ),
]


@pytest.mark.parametrize(
    ("raw", "title", "year", "year_end", "alternates"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES]
)
def test_parse_movielens_title(
    raw: str, title: str, year: int | None, year_end: int | None, alternates: tuple[str, ...]
) -> None:
    assert parse_movielens_title(raw) == ParsedTitle(title, year, year_end, alternates)


# -- display_title -------------------------------------------------------------------------

DISPLAY_CASES = [
    ("Matrix, The", "The Matrix"),
    ("Avventura, L'", "L'Avventura"),
    ("Misérables, Les", "Les Misérables"),
    ("Haus, Das", "Das Haus"),
    ("Homme et une femme, Un", "Un Homme et une femme"),
    ("  Heat  ", "Heat"),
    ("Heat", "Heat"),
    ("Cry, the Beloved Country", "Cry, the Beloved Country"),
    ("Lock, Stock & Two Smoking Barrels", "Lock, Stock & Two Smoking Barrels"),
    ("The Matrix", "The Matrix"),
]


@pytest.mark.parametrize(("title", "shown"), DISPLAY_CASES, ids=[c[0] for c in DISPLAY_CASES])
def test_display_title(title: str, shown: str) -> None:
    assert display_title(title) == shown


# -- title_key -----------------------------------------------------------------------------

# Spellings that must share one key, and that key.
SAME_KEY = [
    (("Matrix, The", "The Matrix", "THE MATRIX!", "the matrix"), "matrix"),
    (("Misérables, Les", "Les Miserables", "LES MISÉRABLES"), "les miserables"),
    (("Avventura, L'", "L'Avventura", "L’Avventura"), "lavventura"),
    (("Boot, Das", "Das Boot"), "das boot"),
    (("Mariachi, El", "El Mariachi"), "el mariachi"),
    (("Lock, Stock & Two Smoking Barrels", "Lock, Stock and Two Smoking Barrels"), None),
    (("(500) Days of Summer", "500 Days of Summer"), "500 days of summer"),
    (("Amélie", "Amelie", "AMÉLIE"), "amelie"),
    (("WALL·E", "WALL-E", "Wall E"), "wall e"),
    (("Ocean's Eleven", "Oceans Eleven", "Ocean’s Eleven"), "oceans eleven"),
    (("Spider-Man", "Spider Man"), "spider man"),
    (("Star Wars: Episode IV - A New Hope", "Star Wars Episode IV A New Hope"), None),
    (
        ("From Dusk Till Dawn 2: Texas Blood Money ", "From Dusk Till Dawn 2 Texas Blood Money"),
        None,
    ),
]


@pytest.mark.parametrize(("spellings", "key"), SAME_KEY, ids=[c[0][0] for c in SAME_KEY])
def test_spellings_share_a_key(spellings: tuple[str, ...], key: str | None) -> None:
    keys = {title_key(s) for s in spellings}
    assert len(keys) == 1, keys
    if key is not None:
        assert keys == {key}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Matrix", "The Matrix Reloaded"),
        ("Alien", "Aliens"),
        ("Heat", "The Heist"),
        ("Seven", "Se7en"),
        # Only English leading articles are dropped: these are English titles too.
        ("Die Hard", "Hard"),
        ("Die Another Day", "Another Day"),
        ("La La Land", "La Land"),
        ("El Dorado", "Dorado"),
        ("Седьмая печать", "Печать"),
    ],
)
def test_different_titles_have_different_keys(a: str, b: str) -> None:
    assert title_key(a) != title_key(b)


@pytest.mark.parametrize("title", ["", "!!!", " - "])
def test_title_of_punctuation_only_has_empty_key(title: str) -> None:
    assert title_key(title) == ""


def test_alternate_titles_get_keys_too() -> None:
    parsed = parse_movielens_title(
        "City of Lost Children, The (Cité des enfants perdus, La) (1995)"
    )
    assert [title_key(a) for a in parsed.alternates] == ["la cite des enfants perdus"]
    assert title_key(parsed.title) == title_key("The City of Lost Children")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Die Stille nach dem Schuß", "Die Stille nach dem Schuss"),
        ("Babettes gæstebud", "Babettes gaestebud"),
        ("Salmer fra kjøkkenet", "Salmer fra kjokkenet"),
        ("Œdipe roi", "Oedipe roi"),
    ],
)
def test_letters_without_decomposition_are_transliterated(a: str, b: str) -> None:
    assert title_key(a) == title_key(b)


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Die Stille nach dem Schuß", "die stille nach dem schuss"),
        ("Stille nach dem Schuß, Die", "die stille nach dem schuss"),
        ("Die Hard", "die hard"),
        ("The Seventh Seal", "seventh seal"),
        ("Седьмая печать", "седьмая печать"),
        ("СЕДЬМАЯ ПЕЧАТЬ!", "седьмая печать"),
        ("七人の侍", "七人の侍"),
    ],
)
def test_title_key_values(title: str, key: str) -> None:
    assert title_key(title) == key


def test_non_latin_titles_do_not_share_an_empty_key() -> None:
    keys = [title_key(t) for t in ("Седьмая печать", "七人の侍", "Ζ")]
    assert "" not in keys
    assert len(set(keys)) == 3


# -- genres --------------------------------------------------------------------------------


def test_vocabulary_is_the_movielens_one() -> None:
    assert MOVIELENS_GENRES == (
        "Action",
        "Adventure",
        "Animation",
        "Children",
        "Comedy",
        "Crime",
        "Documentary",
        "Drama",
        "Fantasy",
        "Film-Noir",
        "Horror",
        "IMAX",
        "Musical",
        "Mystery",
        "Romance",
        "Sci-Fi",
        "Thriller",
        "War",
        "Western",
    )


@pytest.mark.parametrize("genre", MOVIELENS_GENRES)
def test_every_movielens_genre_maps_to_itself_in_any_case(genre: str) -> None:
    assert map_genre(genre) == genre
    assert map_genre(genre.upper()) == genre
    assert map_genre(f" {genre.lower()} ") == genre


GENRE_CASES = [
    ("Science Fiction", "Sci-Fi"),
    ("sci fi", "Sci-Fi"),
    ("SciFi", "Sci-Fi"),
    ("Family", "Children"),
    ("Kids", "Children"),
    ("Children's", "Children"),
    ("Music", "Musical"),
    ("Film Noir", "Film-Noir"),
    ("noir", "Film-Noir"),
    ("Animated", "Animation"),
    ("Romantic", "Romance"),
    ("Suspense", "Thriller"),
    ("Documentaries", "Documentary"),
    ("Action & Adventure", "Action"),
    ("imax", "IMAX"),
    ("Biography", None),
    ("History", None),
    ("Sport", None),
    ("TV Movie", None),
    ("Foreign", None),
    ("News", None),
    ("Sci-Fi & Fantasy", None),
    ("", None),
]


@pytest.mark.parametrize(("name", "genre"), GENRE_CASES, ids=[c[0] or "empty" for c in GENRE_CASES])
def test_map_genre(name: str, genre: str | None) -> None:
    assert map_genre(name) == genre


def test_map_genres_keeps_order_and_drops_duplicates_and_blanks() -> None:
    names = ["Drama", "Science Fiction", "Sci-Fi", " ", "Biography", "drama", "History", "Family"]
    assert map_genres(names) == (["Drama", "Sci-Fi", "Children"], ["Biography", "History"])
    assert map_genres(()) == ([], [])


@pytest.mark.parametrize(
    ("field", "genres", "unknown"),
    [
        (
            "Adventure|Animation|Children|Comedy|Fantasy",
            ["Adventure", "Animation", "Children", "Comedy", "Fantasy"],
            [],
        ),
        ("(no genres listed)", [], []),
        ("  (no genres listed) ", [], []),
        ("", [], []),
        ("IMAX|Sci-Fi", ["IMAX", "Sci-Fi"], []),
        ("Action|Superhero|Action", ["Action"], ["Superhero"]),
        ("Drama||Romance", ["Drama", "Romance"], []),
    ],
)
def test_parse_movielens_genres(field: str, genres: list[str], unknown: list[str]) -> None:
    assert parse_movielens_genres(field) == (genres, unknown)
