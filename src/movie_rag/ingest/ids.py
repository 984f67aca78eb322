"""IMDb title ids: one normal form (``tt`` + at least 7 digits) for every source."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["imdb_url", "normalize_imdb_id"]

# [0-9], not \d: \d also matches other scripts' digits, which int() would read happily.
_IMDB_ID = re.compile(r"(?:tt)?0*([0-9]{1,10})")


def normalize_imdb_id(value: Any) -> str | None:
    """``114709``, ``"0114709"`` or ``"tt0114709"`` → ``"tt0114709"``; blank → None.

    Ids are zero-padded to at least 7 digits; longer (newer, 8-digit) ids are kept whole.

    Args:
        value: An id as a source writes it (string or integer).

    Returns:
        The normal form, or None for a blank value.

    Raises:
        ValueError: The value is not an IMDb title id.

    Example:
        >>> normalize_imdb_id("0114709"), normalize_imdb_id(12345678)
        ('tt0114709', 'tt12345678')
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float):
        raise ValueError(f"not an IMDb title id: {value!r}")
    text = str(value).strip().lower()
    match = _IMDB_ID.fullmatch(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not an IMDb title id: {value!r}")
    return "tt" + match.group(1).zfill(7)


def imdb_url(imdb_id: str | None) -> str | None:
    """The IMDb page of a normalised id (``https://www.imdb.com/title/tt0133093/``)."""
    return f"https://www.imdb.com/title/{imdb_id}/" if imdb_id else None
