"""Check every title a generator wrote against the catalogue before a user sees it.

A generator's picks are only words: an LLM may misspell a real title ("Matrix, The",
"jurasic park"), invent one, name a remake the platform lacks, repeat a movie, or echo its
instructions and internal data when a prompt injection succeeds. :class:`GroundingGuard`
turns picks into :class:`~movie_rag.chain.types.Recommendation` objects carrying the
catalogue's own title, year, genres and link, drops what the catalogue does not have (or
labels it, when ``allow_outside_catalog`` is on), and composes an answer text that names
only the movies it kept.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from movie_rag.catalog.titles import title_key
from movie_rag.chain.catalogue import Catalogue, MovieRef
from movie_rag.chain.prompts import CONTEXT_DELIMITERS, PROMPT_MARKERS, SYSTEM_PROMPT
from movie_rag.chain.types import Candidate, GeneratedAnswer, Pick, Recommendation

__all__ = ["NOT_ON_PLATFORM", "GroundingGuard"]

logger = logging.getLogger("movie_rag")

#: The label of a title the platform does not have (``allow_outside_catalog``).
NOT_ON_PLATFORM = "Not on the platform"

_YEAR_IN_TITLE = re.compile(r"[(\[]\s*((?:18|19|20)\d{2})\s*[)\]]")
_TRAILING_YEAR = re.compile(r"\s*[(\[]\s*((?:18|19|20)\d{2})\s*[)\]]\s*$")
# Numbers and roman numerals in a title: a match that loses or changes one ("Toy Story 5" →
# "Toy Story 3") is another film, not a typo.
_SEQUEL = re.compile(r"^(?:\d+|i{1,3}|iv|v|vi{1,3}|ix|x)$")
_COUNT_CLAIM = re.compile(
    r"\b(\d{1,2})\s+(?:\w+\s+)?(?:movies|films|picks|titles|recommendations|suggestions)\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions|prompt|rules)\b"
    r"|\bsystem prompt\b|\bas an ai\b|\bjailbreak\b",
    re.IGNORECASE,
)
_INTERNAL_WORDS = re.compile(
    r"user[_ ]tags|genome|relevance|content[_ ]hash|movie[_ ]?id|\bscore\b|\bdocument\s*[:=]",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W_][\w'’-]*", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"(?:^|[.!?:;—–\n(\"“]|\s-\s)\s*$")
_MAX_INTRO_CHARS = 400
_MAX_REASON_CHARS = 600
_MAX_OUTSIDE_TITLE_CHARS = 120

# Lower-case words that may start a sentence capitalised without naming anything.
_COMMON_WORDS = """
    a an the this that these those it its it's if for with in on at as like fans here there
    both each all from set when after before while one two three his her their our your you
    we they he she what why how who great perfect classic another also not no but and or so
    then now just some many more most best top try watch enjoy expect based directed starring
    featuring written told a must this is ideal whether since because though although where
    yes sure certainly absolutely unfortunately sadly nothing none i'm i've you'll you're
"""
_COMMON = frozenset(_COMMON_WORDS.split())
# Capitalised words that name no movie: languages, places, calendar, awards, genres.
_ALLOWED = """
    i tv usa us uk u.s imdb oscar oscars academy award awards golden globe globes cannes
    hollywood bollywood christmas halloween easter thanksgiving valentine's new york paris
    london rome tokyo earth mars god mr mrs ms dr st ok monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september
    october november december english french german italian spanish japanese korean chinese
    american british indian mexican russian swedish danish irish australian canadian european
    asian african western eastern northern southern world war ii action adventure animation
    animated children comedy crime documentary drama fantasy film-noir noir horror imax
    musical mystery romance sci-fi sci fi thriller
"""
_ALLOWED_WORDS = frozenset(_ALLOWED.split())


@dataclass
class _Outcome:
    """What grounding decided, pick by pick."""

    kept: list[Recommendation] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    kept_ids: set[int] = field(default_factory=set)
    mentioned: list[str] = field(default_factory=list)
    #: The named movies' titles: a reason may say which of them a pick is like.
    mentioned_titles: list[str] = field(default_factory=list)


class GroundingGuard:
    """Resolve picks to catalogue movies and compose an answer that names only those.

    Args:
        catalogue: Title lookups over movies_info.
        allow_outside_catalog: Keep titles the catalogue lacks, with ``in_catalog=False``,
            ``movie_id=0`` and a reason labelled "Not on the platform"; off, they are
            dropped.
        year_tolerance: Years a pick's year may differ from the catalogue's before the pick
            counts as another film (a remake the platform lacks).
        candidates_only: Keep only movies that were among the candidates (a real catalogue
            movie the model took from elsewhere may break the request's filters).

    Example:
        >>> guard = GroundingGuard(catalogue)  # doctest: +SKIP
        >>> answer = GeneratedAnswer(picks=[Pick(title="Matrix, The"), Pick(title="Dune 7")])
        >>> recommendations, text = guard.ground(answer, candidates, k=5)  # doctest: +SKIP
        >>> [r.title for r in recommendations]  # doctest: +SKIP
        ['The Matrix']

    The answer text names no dropped title: an intro that names one (or is long, echoes the
    instructions, carries internal fields or claims a wrong count) is replaced by a neutral
    one, and a reason that does is replaced by one drawn from the movie's record. Proper
    names in intros and reasons must occur in the kept movies' records, be catalogue titles
    or be ordinary capitalised words. The one gap: a made-up title that is a single ordinary
    English word ("Lighthouse"), written first in a sentence and never offered as a pick,
    cannot be told from the word and is let through.
    """

    def __init__(
        self,
        catalogue: Catalogue,
        allow_outside_catalog: bool = False,
        *,
        year_tolerance: int = 1,
        candidates_only: bool = False,
    ) -> None:
        self.catalogue = catalogue
        self.allow_outside_catalog = allow_outside_catalog
        self.year_tolerance = year_tolerance
        self.candidates_only = candidates_only
        self._prompt_markers = _prompt_markers()

    def __repr__(self) -> str:
        return (
            f"GroundingGuard(movies={len(self.catalogue)}, "
            f"allow_outside_catalog={self.allow_outside_catalog}, "
            f"year_tolerance={self.year_tolerance}, candidates_only={self.candidates_only})"
        )

    def ground(
        self,
        answer: GeneratedAnswer,
        candidates: list[Candidate],
        k: int,
        *,
        mentioned: Sequence[int] = (),
    ) -> tuple[list[Recommendation], str]:
        """Keep the picks the catalogue has (up to ``k``) and write the answer text.

        Args:
            answer: A generator's intro and picks.
            candidates: The retrieved movies (their scores and records are reused).
            k: The most recommendations to keep.
            mentioned: Catalogue movies the user named (the "like X" seed): the intro may
                name them although they are not recommended.

        Returns:
            The recommendations, in the generator's order without duplicates, and the answer
            text: an intro, then one line per recommendation.
        """
        by_id = {candidate.movie_id: candidate for candidate in candidates}
        outcome = _Outcome()
        for named in mentioned:
            if named in self.catalogue:
                outcome.mentioned.append(_record_text(self.catalogue.movie(named)))
                outcome.mentioned_titles.append(_squash(self.catalogue.movie(named)["title"]))
        outside_keys: set[str] = set()
        for pick in answer.picks:
            movie_id = self._resolve(pick)
            if movie_id is not None:
                movie_id = self._candidate_twin(movie_id, by_id)
                if self.candidates_only and movie_id not in by_id:
                    movie_id = None
            if movie_id is None:
                if not self._keep_outside(pick, outside_keys, outcome, k):
                    outcome.dropped.append(pick.title)
                continue
            if movie_id in outcome.kept_ids:
                continue  # the same movie again, or its duplicate entry
            if len(outcome.kept) >= k:
                outcome.dropped.append(pick.title)
                continue
            self._keep(movie_id, pick, by_id.get(movie_id), outcome)
        # Reasons are checked once every dropped title is known.
        for i, recommendation in enumerate(outcome.kept):
            reason = self._safe_reason(recommendation, outcome, i)
            outcome.kept[i] = recommendation.model_copy(update={"reason": reason})
        if outcome.dropped:
            logger.info(
                "grounding dropped %d of %d picks (not on the platform, duplicates or past k)",
                len(outcome.dropped),
                len(answer.picks),
            )
        return outcome.kept, self._compose(answer, outcome)

    # -- resolving -------------------------------------------------------------------------

    def _resolve(self, pick: Pick) -> int | None:
        catalogue = self.catalogue
        if pick.movie_id is not None and pick.movie_id in catalogue:
            movie = catalogue.movie(pick.movie_id)
            if not pick.title.strip() or title_key(pick.title) == title_key(movie["title"]):
                return pick.movie_id
            # The id and the title disagree: the title is what the user will read.
        title, year = _split_year(pick.title, pick.year)
        ref = self._lookup(title, year)
        if ref is None:
            return None
        if year is not None and not self._year_fits(ref.year, year):
            # Several films share the name ("The Vanishing" 1988 and 1993): the one the
            # model meant is the one within tolerance of its year, if the platform has it.
            nearby = (
                self._lookup(title, year + step)
                for offset in range(1, self.year_tolerance + 1)
                for step in (-offset, offset)
            )
            ref = next((r for r in nearby if r is not None and self._year_fits(r.year, year)), None)
            if ref is None:
                # Same name, another year: a remake or a film the platform does not have.
                return None
        if not _sequel_markers(title) <= _sequel_markers(ref.title):
            # "Toy Story 5" is not a typo of "Toy Story 3", nor "Blade Runner 2049" a longer
            # way of writing "Blade Runner".
            return None
        return ref.movie_id

    def _lookup(self, title: str, year: int | None) -> MovieRef | None:
        # The year goes back in parentheses: passed apart, a title that ends in a number
        # ("Death Race 2000") would lose that number to the catalogue's year parsing.
        ref = self.catalogue.resolve_title(f"{title} ({year})" if year else title)
        if ref is None and title.isupper():
            # Title keys move a trailing article written "The", not "THE" ("THING, THE").
            return self._lookup(title.title(), year)
        return ref

    def _year_fits(self, found: int | None, wanted: int) -> bool:
        return found is None or abs(found - wanted) <= self.year_tolerance

    def _candidate_twin(self, movie_id: int, by_id: Mapping[int, Candidate]) -> int:
        """The candidate's id when the movie is duplicated under two ids in the catalogue."""
        if movie_id in by_id:
            return movie_id
        return next((i for i in self.catalogue.duplicates_of(movie_id) if i in by_id), movie_id)

    def _keep(
        self, movie_id: int, pick: Pick, candidate: Candidate | None, outcome: _Outcome
    ) -> None:
        movie = self.catalogue.movie(movie_id)
        metadata: Mapping[str, Any] = candidate.metadata if candidate is not None else {}
        genres = movie.get("genres") or metadata.get("genres") or []
        recommendation = Recommendation(
            movie_id=movie_id,
            title=str(movie["title"]),
            year=movie.get("year"),
            genres=list(genres),
            reason=pick.reason,
            url=movie.get("url") or metadata.get("url"),
            score=candidate.score if candidate is not None else 0.0,
            rating=movie.get("rating", metadata.get("rating")),
            poster_path=movie.get("poster_path") or metadata.get("poster_path"),
            in_catalog=True,
        )
        outcome.kept.append(recommendation)
        outcome.records.append(_record_text({**metadata, **movie}))
        outcome.kept_ids.update({movie_id, *self.catalogue.duplicates_of(movie_id)})

    def _keep_outside(self, pick: Pick, seen: set[str], outcome: _Outcome, k: int) -> bool:
        if not self.allow_outside_catalog or len(outcome.kept) >= k:
            return False
        title, year = _split_year(pick.title, pick.year)
        title = title.strip(" -–—")
        key = title_key(title)
        if not key or not self._plausible_title(title):
            return False
        if key in seen:
            return True  # already shown once
        seen.add(key)
        outcome.kept.append(
            Recommendation(movie_id=0, title=title, year=year, reason=pick.reason, in_catalog=False)
        )
        # Unverifiable, so nothing about it may ground a name in the intro or other reasons.
        outcome.records.append("")
        return True

    def _plausible_title(self, title: str) -> bool:
        """A title, not an injected instruction or a dump of internal fields."""
        return (
            len(title) <= _MAX_OUTSIDE_TITLE_CHARS
            and len(title.split()) <= 15
            and "\n" not in title
            and not _INJECTION.search(title)
            and not _INTERNAL_WORDS.search(title)
            and not self._echoes_prompt(title)
            and _scrubbed(title) == title.strip()
        )

    # -- checking text ---------------------------------------------------------------------

    def _safe_reason(self, recommendation: Recommendation, outcome: _Outcome, i: int) -> str:
        reason = " ".join(recommendation.reason.split())
        if not recommendation.in_catalog:
            checked = reason if reason and self._clean(reason, outcome.dropped) else ""
            return f"{NOT_ON_PLATFORM}. {checked}".strip() if checked else f"{NOT_ON_PLATFORM}."
        # "Loved by the same fans as Rogue One: A Star Wars Story": the seed's title is known.
        allowed = " ".join([outcome.records[i], *outcome.mentioned_titles])
        if (
            reason
            and len(reason) <= _MAX_REASON_CHARS
            and self._clean(reason, outcome.dropped, allowed)
            and self._names_grounded(reason, allowed, outcome)
        ):
            return reason
        return self._record_reason(recommendation.movie_id)

    def _clean(self, text: str, dropped: Iterable[str], record: str = "") -> bool:
        """No internal data, no echo of the instructions, no dropped title.

        An internal word the movie's own record uses with the same neighbours is the
        record's ("trying to *score* enough alcohol" in Superbad's overview), not leaked
        data ("score 0.93").
        """
        from movie_rag.chain.safety import scrub_internal

        internal = [
            m
            for m in _INTERNAL_WORDS.finditer(text)
            if not record or f" {_squash(_with_neighbours(text, *m.span()))} " not in f" {record} "
        ]
        if _INJECTION.search(text) or internal or self._echoes_prompt(text):
            return False
        if scrub_internal(text, extra_markers=self._prompt_markers) != text.strip():
            return False
        return not _names_any(text, dropped)

    def _echoes_prompt(self, text: str) -> bool:
        if any(tag in text for tag in CONTEXT_DELIMITERS):
            return True
        squashed = f" {_squash(text)} "
        return any(f" {marker} " in squashed for marker in self._squashed_markers)

    @property
    def _squashed_markers(self) -> list[str]:
        return [m for m in (_squash(marker) for marker in self._prompt_markers) if m]

    def _names_grounded(self, text: str, allowed: str, outcome: _Outcome) -> bool:
        """Whether every proper name in ``text`` is in ``allowed`` or a catalogue title.

        Titles of dropped picks never count as known.
        """
        haystack = f" {allowed} "
        dropped_keys = {title_key(title) for title in outcome.dropped}
        # Titles a pick named that are not on the platform, dropped or labelled.
        named_keys = dropped_keys | {title_key(r.title) for r in outcome.kept if not r.in_catalog}
        for words, at_start in _name_spans(text):
            if at_start and words[0].lower() in _COMMON:
                words, at_start = words[1:], False
            if not words or self._known_name(words, haystack, dropped_keys):
                continue
            if at_start and _ordinary_word(words[0]) and title_key(words[0]) not in named_keys:
                # "Gripping and tense": an ordinary word capitalised by the sentence.
                rest = words[1:]
                if not rest or self._known_name(rest, haystack, dropped_keys):
                    continue
            return False
        return True

    def _known_name(self, words: list[str], haystack: str, dropped_keys: set[str]) -> bool:
        if self._known_span(words, haystack, dropped_keys):
            return True
        # "Robert De Niro and Roy Scheider": two names joined, each known on its own.
        parts: list[list[str]] = [[]]
        for word in words:
            if word in _CONNECTORS:
                parts.append([])
            else:
                parts[-1].append(word)
        parts = [part for part in parts if part]
        return len(parts) > 1 and all(
            self._known_span(part, haystack, dropped_keys) for part in parts
        )

    def _known_span(self, words: list[str], haystack: str, dropped_keys: set[str]) -> bool:
        span = " ".join(words)
        key = _squash(span)
        if not key or f" {key} " in haystack:
            return True
        if all(word.lower().strip("'’") in _ALLOWED_WORDS for word in words):
            return True
        if key in dropped_keys:
            return False
        ref = self.catalogue.resolve_title(span)
        # A movie the platform has; never one that was dropped (checked above).
        return ref is not None and ref.score >= 100

    def _record_reason(self, movie_id: int) -> str:
        """A sentence from the record alone, for when the generator's reason cannot be shown.

        "A Comedy film directed by Greg Mottola, with Jonah Hill and Michael Cera.": what
        kind of film it is and who made it, never a bare genre list.
        """
        movie = self.catalogue.movie(movie_id)
        genres = [str(g) for g in movie.get("genres") or [] if g != "(no genres listed)"]
        kind = " / ".join(genres[:2])
        article = "An" if kind[:1].upper() in "AEIOU" and kind else "A"
        text = f"{article} {kind} film" if kind else "A film"
        directors = list(movie.get("directors") or [])[:2]
        if directors:
            text += " directed by " + " and ".join(directors)
        cast = list(movie.get("cast") or [])[:2]
        if cast:
            text += ", with " + " and ".join(cast)
        return text + "." if text != "A film" else "A film on the platform."

    # -- composing -------------------------------------------------------------------------

    def _compose(self, answer: GeneratedAnswer, outcome: _Outcome) -> str:
        kept = outcome.kept
        if not kept:
            if not answer.picks:
                for text in (answer.refusal, answer.intro):
                    if text and self._intro_ok(text, outcome):
                        return " ".join(text.split())
            return (
                "I couldn't find a movie on the platform that matches your request. "
                "Try other words, a genre, a decade or a movie you liked."
            )
        intro = " ".join(answer.intro.split())
        if not (intro and self._intro_ok(intro, outcome)):
            intro = _neutral_intro(len(kept))
        lines = [intro, ""]
        for i, recommendation in enumerate(kept, start=1):
            title = recommendation.title
            shown = f"{title} ({recommendation.year})" if recommendation.year else title
            lines.append(f"{i}. {shown} — {recommendation.reason}")
        return "\n".join(lines)

    def _intro_ok(self, intro: str, outcome: _Outcome) -> bool:
        if len(intro) > _MAX_INTRO_CHARS or not self._clean(intro, outcome.dropped):
            return False
        claim = _COUNT_CLAIM.search(intro)
        if claim and int(claim.group(1)) != len(outcome.kept):
            return False
        # Only movies on the platform may be named outside their own labelled line.
        allowed = " ".join([*outcome.records, *outcome.mentioned])
        return self._names_grounded(intro, allowed, outcome)


def _scrubbed(text: str) -> str:
    from movie_rag.chain.safety import scrub_internal

    # Markup, invisible characters, look-alike letters or a secret in an invented title:
    # not a title.
    return scrub_internal(text)


def _neutral_intro(count: int) -> str:
    if count == 1:
        return "Here is a movie on the platform that fits your request:"
    return f"Here are {count} movies on the platform that fit your request:"


def _prompt_markers() -> list[str]:
    from movie_rag.chain.safety import markers_from_prompt

    markers = [*PROMPT_MARKERS, *markers_from_prompt(SYSTEM_PROMPT)]
    # Markers are compared as squashed words: a short one ("1. Recommend only") would match
    # ordinary sentences.
    return [marker for marker in markers if len(_squash(marker).split()) >= 4]


def _with_neighbours(text: str, start: int, end: int) -> str:
    """The words at ``text[start:end]`` with the word before and the word after."""
    before = re.search(r"[\w'’.]+\W*$", text[:start])
    after = re.match(r"\W*[\w'’.]+", text[end:])
    return text[before.start() if before else start : end + (after.end() if after else 0)]


def _squash(text: str) -> str:
    """Lower-case words joined by single spaces (accents and punctuation dropped)."""
    return title_key(text) if text.strip() else ""


def _record_text(record: Mapping[str, Any]) -> str:
    """A record's public words, squashed, for checking names in a reason against it."""
    parts: list[str] = [str(record.get("title") or "")]
    for name in ("genres", "directors", "cast", "keywords"):
        values = record.get(name) or []
        parts.extend(str(v) for v in values if v is not None)
    parts.append(str(record.get("overview") or ""))
    return " ".join(_squash(part) for part in parts if part)


def _names_any(text: str, titles: Iterable[str]) -> bool:
    """Whether ``text`` names any of ``titles``, in any case or punctuation.

    A one-word title counts only when written capitalised: "heat" in "the heat is on" is a
    word, "Heat" a title.
    """
    squashed = f" {_squash(text)} "
    for title in titles:
        key = title_key(_YEAR_IN_TITLE.sub("", title))
        if not key or f" {key} " not in squashed:
            continue
        if " " in key:
            return True
        written = re.finditer(r"[^\W_][\w'’]*", text)
        if any(title_key(m.group(0)) == key and m.group(0)[0].isupper() for m in written):
            return True
    return False


def _ordinary_word(word: str) -> bool:
    """An English word a sentence may start with, rather than a name.

    Whole words of the BERT uncased vocabulary (30k common words, shipped for document
    lengths) and words with an adjective or adverb ending count; made-up compounds such as
    "Emberfall" do not.
    """
    lower = word.lower().strip("'’")
    return lower in _vocabulary() or lower.endswith(_ORDINARY_SUFFIXES)


_ORDINARY_SUFFIXES = ("ing", "ful", "ly", "ous", "ive", "able", "ible", "ed", "est", "ic")


@functools.cache
def _vocabulary() -> frozenset[str]:
    source = resources.files("movie_rag.ingest._tokenizer") / "bert-base-uncased-wordpiece.json"
    vocab = json.loads(source.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(token for token in vocab if token.isalpha())


def _split_year(title: str, year: int | None) -> tuple[str, int | None]:
    """``"**Heat (1995)**"`` → ``("Heat", 1995)``; a year given separately wins."""
    title = title.strip().strip("\"'“”‘’*_ ")
    match = _TRAILING_YEAR.search(title)
    if not match or match.start() == 0:
        return title, year
    return title[: match.start()], year if year is not None else int(match.group(1))


def _sequel_markers(title: str) -> set[str]:
    return {word for word in title_key(title).split() if _SEQUEL.match(word)}


def _name_spans(text: str) -> list[tuple[list[str], bool]]:
    """Runs of capitalised words (``Lord of the Rings``), each with whether it opens a sentence."""
    spans: list[tuple[list[str], bool]] = []
    current: list[str] = []
    start = False
    pending: list[str] = []  # connectors seen inside a run ("of", "the")
    last_end = 0
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        gap = text[last_end : match.start()]
        last_end = match.end()
        capital = word[0].isupper() or (bool(current) and _SEQUEL.match(word.lower()) is not None)
        breaks = bool(re.search(r"[.!?:;,—–()\"“”\n]", gap))
        if current and (breaks or not (capital or word.lower() in _CONNECTORS)):
            spans.append((current, start))
            current, pending = [], []
        if current and "&" in gap:
            pending.append("&")  # "Fast & Furious" is one name
        if capital:
            if not current:
                start = bool(_SENTENCE_BREAK.search(text[: match.start()]))
            current.extend([*pending, word])
            pending = []
        elif current and word.lower() in _CONNECTORS:
            pending.append(word)
    if current:
        spans.append((current, start))
    return spans


_CONNECTORS = frozenset({"of", "the", "and", "in", "on", "a", "an", "to", "for", "de", "la"})
