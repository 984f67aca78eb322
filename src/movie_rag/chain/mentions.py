"""Movies a request talks about: liked, disliked, seen, ruled out — titles as people write them.

Read after the "like X" seed, on the parser's masked text (what is understood is blanked):

- **disliked**: "I didn't like X", "hated X", "not a fan of X", "X was boring/bad/
  overrated", and a title after a negation ("Tarantino but not Pulp Fiction", "anything
  except Titanic");
- **seen**: "I've seen Y", "already watched Y" — unless the same sentence then says what it
  was ("I saw Y and loved it", "I watched Y last week, it was great": liked; "... and hated
  it", "... it was boring": disliked);
- **liked**: "X is one of my favourites", "X was amazing"; any other title written with its
  year in brackets ("Easy A (2010)" — the year names the film and filters nothing), and
  further "I loved X and Y" titles.

Titles resolve with :meth:`~movie_rag.chain.catalogue.Catalogue.resolve_title` (any case,
without a year, "the lord of the rings", small typos); a fragment made only of genre and mood
words ("war movies", "scary movies") never names a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from movie_rag.chain.query_patterns import _MAX_SEED_WORDS, _NEGATED_BEFORE, _article_first
from movie_rag.chain.types import SeedMovie
from movie_rag.chain.vocabulary import _FUNCTION_WORDS, _only_vocabulary

if TYPE_CHECKING:
    from movie_rag.chain.catalogue import Catalogue, MovieRef

__all__ = ["Mentions", "read_mentions"]

_ADVERB = r"(?:(?:really|so|very|pretty|kind\s+of|kinda|a\s+bit|quite|super|too|just)\s+)?"
_DISLIKED_AFTER = re.compile(
    r"\b(?:(?:didn'?t|did\s+not|don'?t|do\s+not|never|wouldn'?t)\s+(?:really\s+)?"
    r"(?:like|liked|love|enjoy|care\s+for|get\s+into)|hated|hate|disliked|dislike|"
    r"can'?t\s+stand|couldn'?t\s+stand|not\s+(?:a\s+)?(?:big\s+)?fan\s+of|"
    r"(?:was|were)\s+(?:not|n't)\s+(?:into|a\s+fan\s+of))\s+",
    re.IGNORECASE,
)
_BAD = (
    r"(?:boring|bad|terrible|awful|dull|stupid|overrated|meh|lame|slow|horrible|a\s+letdown|"
    r"disappointing|not\s+(?:good|great|that\s+good|for\s+me|my\s+thing))"
)
_GOOD = (
    r"(?:one\s+of\s+my\s+(?:all[- ]time\s+)?favou?rites?|my\s+(?:all[- ]time\s+)?favou?rite|"
    r"great|amazing|awesome|fantastic|excellent|brilliant|wonderful|hilarious|so\s+good|"
    r"really\s+good|very\s+good|a\s+(?:great|good)\s+(?:movie|film)|perfect|the\s+best)"
)
_DISLIKED_BEFORE = re.compile(rf"\s+(?:was|is|were|felt|seemed)\s+{_ADVERB}{_BAD}\b", re.IGNORECASE)
_LIKED_BEFORE = re.compile(rf"\s+(?:was|is|were|are)\s+{_ADVERB}{_GOOD}\b", re.IGNORECASE)
# What a seen film is then called in the same sentence: "I saw X and loved it", "I watched
# X last week, it was great", "I saw X (2017) and that was awesome".
_VERDICT_AFTER = re.compile(
    r"[^.!?;\n]{0,40}?\b(?:(?:i|we)\s+)?(?:really\s+|absolutely\s+)?"
    r"(?:(?P<liked>loved|liked|enjoyed|adored)|(?P<disliked>hated|disliked|didn'?t\s+like))"
    rf"\s+it\b|[^.!?;\n]{{0,40}}?\b(?:it|that)\s+(?:was|is)\s+{_ADVERB}"
    rf"(?:(?P<good>{_GOOD})|(?P<bad>{_BAD}))\b",
    re.IGNORECASE,
)
_SEEN_AFTER = re.compile(
    r"\b(?:i'?ve|i\s+have|i|we'?ve|we\s+have)\s+(?:already\s+|just\s+|recently\s+)?"
    r"(?:seen|watched|saw)\s+|\balready\s+(?:seen|watched|saw)\s+",
    re.IGNORECASE,
)
_NEGATED_TITLE = re.compile(
    r"\b(?:but\s+not|not|except(?:\s+for)?|other\s+than|apart\s+from|besides|excluding|"
    r"anything\s+but|no)\s+",
    re.IGNORECASE,
)
_LIKED_MORE = re.compile(
    r"\b(?:liked|loved|enjoyed|adored|like|love|enjoy|adore|a\s+fan\s+of|fan\s+of|"
    r"favou?rites?\s+(?:is|are|was|were|include)|into)\s+|\b(?:and|also|or|,)\s+",
    re.IGNORECASE,
)
_BRACKETED_YEAR = re.compile(r"\s*\(\s*((?:19|20)\d{2})\s*\)")
_CLAUSE_END = re.compile(r"[.!?;\n]|\s[-–—]\s|\b(?:but|because|though|although)\b", re.I)
_MIN_SCORE = 90.0


@dataclass
class Mentions:
    """The movies a request talks about (see the module docstring)."""

    liked: list[SeedMovie] = field(default_factory=list)
    disliked: list[SeedMovie] = field(default_factory=list)
    seen: list[SeedMovie] = field(default_factory=list)

    def ids(self) -> set[int]:
        """Every movie mentioned: none of them is a new suggestion."""
        return {m.movie_id for m in (*self.liked, *self.disliked, *self.seen)}


class _Text(Protocol):
    """The part of the parser's working text this module needs (masked text, masking)."""

    @property
    def text(self) -> str: ...

    @property
    def masked(self) -> str: ...

    @property
    def titles(self) -> list[tuple[int, int]]: ...

    def mask(self, start: int, end: int) -> None: ...

    def mask_title(self, start: int, end: int) -> None: ...


def read_mentions(work: _Text, catalogue: Catalogue) -> Mentions:
    """The liked, disliked and seen movies of a request; their words are masked.

    Args:
        work: The parser's working text (``text``, ``masked`` and ``mask``).
        catalogue: Where titles are resolved.

    Returns:
        The mentions found, in the order written.
    """
    found = Mentions()
    for pattern, bucket in (
        (_DISLIKED_AFTER, found.disliked),
        (_SEEN_AFTER, found.seen),
        (_NEGATED_TITLE, found.disliked),
    ):
        for cue in list(pattern.finditer(work.masked)):
            if work.masked[cue.start() : cue.end()] != work.text[cue.start() : cue.end()]:
                continue  # already understood
            movie = _title_after(work, catalogue, cue.end(), strict=pattern is _NEGATED_TITLE)
            if movie is not None:
                work.mask(cue.start(), cue.start() + len(cue.group(0)))
                if pattern is _SEEN_AFTER:
                    bucket = _seen_verdict(work, found)
                bucket.append(movie)
    for cue in list(_DISLIKED_BEFORE.finditer(work.masked)):
        movie = _title_before(work, catalogue, cue.start())
        if movie is not None:
            work.mask(*cue.span())
            found.disliked.append(movie)
    for cue in list(_LIKED_BEFORE.finditer(work.masked)):
        movie = _title_before(work, catalogue, cue.start())
        if movie is not None:
            work.mask(*cue.span())
            found.liked.append(movie)
    for bracket in list(_BRACKETED_YEAR.finditer(work.masked)):
        movie = _title_before(work, catalogue, bracket.start(), year=int(bracket.group(1)))
        if movie is not None:
            work.mask(*bracket.span())
            negated = _NEGATED_BEFORE.search(work.masked[: bracket.start()][-60:])
            (found.disliked if negated else found.liked).append(movie)
        else:
            # A film the catalogue lacks ("Girls Trip (2017)"): its words name no other film
            # ("The Trip", "The Girls").
            _mask_unknown_title(work, bracket.start(), bracket.end())
    for cue in list(_LIKED_MORE.finditer(work.masked)):
        if not work.masked[cue.start() : cue.end()].strip():
            continue
        after = work.masked[cue.end() : cue.end() + 1]
        past = cue.group(0).lower().rstrip().endswith(("liked", "loved", "enjoyed", "adored"))
        if not past and not (after.isupper() or after.isdigit()):
            continue  # "and then", "I like the way...": a title here is written as one
        movie = _title_after(work, catalogue, cue.end(), strict=True)
        if movie is not None:
            found.liked.append(movie)
    return found


def _seen_verdict(work: _Text, found: Mentions) -> list[SeedMovie]:
    """Where a just-read seen film belongs: liked or disliked when the sentence says so."""
    verdict = _VERDICT_AFTER.match(work.masked, work.titles[-1][1])
    if verdict is None:
        return found.seen
    work.mask(*verdict.span())
    return found.liked if verdict.group("liked") or verdict.group("good") else found.disliked


def _mask_unknown_title(work: _Text, start: int, end: int) -> None:
    """Blank the title-cased words written just before a bracketed year, and the year."""
    base = max(0, start - 200)
    run: list[re.Match[str]] = []
    for word in reversed(list(re.finditer(r"\S+", work.masked[base:start]))):
        text = word.group(0)
        if not (text[0].isupper() or text[0].isdigit() or text.lower() in _FUNCTION_WORDS):
            break
        run.insert(0, word)
    # Leading function words ("and", "of") belong to the sentence, not to the title.
    while run and not (run[0].group(0)[0].isupper() or run[0].group(0)[0].isdigit()):
        run.pop(0)
    work.mask(base + run[0].start() if run else start, end)


def _clause(work: _Text, start: int) -> int:
    stop = _CLAUSE_END.search(work.masked, start, min(len(work.masked), start + 200))
    return stop.start() if stop else min(len(work.masked), start + 200)


def _acceptable(written: str, ref: MovieRef | None, *, strict: bool) -> bool:
    if ref is None or ref.score < _MIN_SCORE:
        return False
    if _only_vocabulary(written):
        return False
    words = written.split()
    if ref.score < 100 and words[-1].lower() in _FUNCTION_WORDS:
        return False
    if strict and ref.score < 100:
        return False
    # One short common word ("it", "Up") is a title only when written as one.
    return not (len(words) == 1 and (len(written) < 4 or not written[0].isupper()))


def _title_after(
    work: _Text, catalogue: Catalogue, start: int, *, strict: bool
) -> SeedMovie | None:
    """The longest run of words from ``start`` (within the clause) that names a title."""
    end = _clause(work, start)
    spans = [m.span() for m in re.finditer(r"\S+", work.masked[start:end])][:_MAX_SEED_WORDS]
    for n in range(len(spans), 0, -1):
        a, b = start + spans[0][0], start + spans[n - 1][1]
        if work.masked[a:b] != work.text[a:b]:
            continue
        written = work.text[a:b].rstrip(",:;\"'.!?")
        year_match = _BRACKETED_YEAR.match(work.masked, b)
        year = int(year_match.group(1)) if year_match else None
        ref = catalogue.resolve_title(_article_first(written), year) if written else None
        if _acceptable(written, ref, strict=strict) and ref is not None:
            if year_match:
                b = year_match.end()
            work.mask_title(a, b)
            return SeedMovie(
                movie_id=ref.movie_id, title=ref.title, year=ref.year, written_as=written
            )
    return None


def _title_before(
    work: _Text, catalogue: Catalogue, end: int, *, year: int | None = None
) -> SeedMovie | None:
    """The longest run of words ending at ``end`` (within its clause) that names a title."""
    head = work.masked[max(0, end - 200) : end]
    # A title's own last mark ("Airplane! (1980)", "Monsters, Inc.") ends no clause.
    own = len(head.rstrip()) - len(head.rstrip().rstrip(".!?"))
    inner = head.rstrip()[: len(head.rstrip()) - own] if own else head
    cut = max((m.end() for m in _CLAUSE_END.finditer(inner)), default=0)
    base = max(0, end - 200) + cut
    spans = [m.span() for m in re.finditer(r"\S+", work.masked[base:end])][-_MAX_SEED_WORDS:]
    for i in range(len(spans)):
        a, b = base + spans[i][0], base + spans[-1][1]
        if work.masked[a:b] != work.text[a:b]:
            continue
        written = work.text[a:b].strip(",:;\"'")
        if not written:
            continue
        ref = catalogue.resolve_title(_article_first(written), year)
        if not _acceptable(written, ref, strict=year is None) or ref is None:
            continue
        if (
            year is not None
            and ref.year is not None
            and abs(ref.year - year) > 1
            and ref.score < 100
        ):
            continue
        work.mask_title(a, b)
        return SeedMovie(movie_id=ref.movie_id, title=ref.title, year=ref.year, written_as=written)
    return None
