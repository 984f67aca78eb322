"""Word-level text helpers the chain's steps share: one definition each.

The query parser, the ranker and the grounded generator all drop the same
:data:`STOP_WORDS` and compare words in the same :func:`stem` form; the safety scrubber and
the grounding guard compare phrases in the same :func:`squash` form.
"""

from __future__ import annotations

import re

__all__ = ["STOP_WORDS", "squash", "stem"]

# Words that say nothing about which movie fits.
_STOP_WORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just like liked loved me more most movie movies film films my myself no nor not now of
off on once only or other our ours out over own same she should so some something such
suggest than that the their theirs them then there these they this those through to too under
until up very was watch we were what when where which while who whom why will with would you
your yours please recommend recommendation show give want looking good great best top one ones
similar enjoyed kind sort feel feeling tonight
"""
#: Words that say nothing about which movie fits (lower case).
STOP_WORDS = frozenset(_STOP_WORDS.split())

_WORDS = re.compile(r"\w+")


def stem(word: str) -> str:
    """A crude stem, enough to match "dinosaurs"/"dinosaur", "scary"/"scare", "robots"/"robot".

    Args:
        word: One lower-case word.

    Returns:
        The word without a common suffix, when at least four letters remain.

    Example:
        >>> stem("dinosaurs"), stem("scary"), stem("cat")
        ('dinosaur', 'scar', 'cat')
    """
    for suffix in ("ing", "ies", "es", "s", "y", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def squash(text: str) -> str:
    """Case-folded words joined by single spaces (punctuation dropped), for phrase matching.

    Args:
        text: Any text.

    Returns:
        The squashed form; search ``f" {marker} "`` in ``f" {squash(text)} "``.

    Example:
        >>> squash("You are  a Movie-recommendation ASSISTANT.")
        'you are a movie recommendation assistant'
    """
    return " ".join(_WORDS.findall(text.casefold()))
