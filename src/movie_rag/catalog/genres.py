"""The MovieLens genre vocabulary and the mapping of other sources' genre names onto it."""

from __future__ import annotations

__all__ = ["MOVIELENS_GENRES", "map_genre", "map_genres", "parse_movielens_genres"]

MOVIELENS_GENRES: tuple[str, ...] = (
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

_NO_GENRES = "(no genres listed)"


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


# Synonyms seen in TMDB, IMDb, Bright Data and the Kaggle IMDb sets. Names with no honest
# MovieLens counterpart (Biography, History, Sport, TV Movie, Foreign, News, ...) map to None
# and are counted in the build report rather than forced into a wrong genre.
_SYNONYMS: dict[str, str] = {_squash(g): g for g in MOVIELENS_GENRES} | {
    "sciencefiction": "Sci-Fi",
    "scifi": "Sci-Fi",
    "sf": "Sci-Fi",
    "family": "Children",
    "kids": "Children",
    "childrens": "Children",
    "music": "Musical",
    "filmnoir": "Film-Noir",
    "noir": "Film-Noir",
    "animated": "Animation",
    "romantic": "Romance",
    "suspense": "Thriller",
    "documentaries": "Documentary",
    "warfare": "War",
    "actionadventure": "Action",
}


def map_genre(name: str) -> str | None:
    """Map one genre name from any source onto the MovieLens vocabulary.

    Args:
        name: A genre as the source spells it (``"Science Fiction"``, ``"Family"``).

    Returns:
        The MovieLens genre, or None when it has no counterpart.

    Example:
        >>> map_genre("Science Fiction")
        'Sci-Fi'
        >>> map_genre("Biography") is None
        True
    """
    return _SYNONYMS.get(_squash(name))


def map_genres(names: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Map a list of genre names, keeping the order and dropping duplicates.

    Args:
        names: Genre names as the source spells them.

    Returns:
        ``(mapped, unmapped)``: MovieLens genres, and the names that have no counterpart.
    """
    mapped: list[str] = []
    unmapped: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        genre = map_genre(name)
        if genre is None:
            unmapped.append(name)
        elif genre not in mapped:
            mapped.append(genre)
    return mapped, unmapped


def parse_movielens_genres(field: str) -> tuple[list[str], list[str]]:
    """Split a MovieLens ``genres`` field (``"Action|Sci-Fi"``).

    Args:
        field: The raw field.

    Returns:
        ``(genres, unknown)``; ``(no genres listed)`` gives an empty list.
    """
    field = field.strip()
    if not field or field == _NO_GENRES:
        return [], []
    return map_genres(field.split("|"))
