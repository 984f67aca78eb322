"""The offline default generator: answers and reasons written from the retrieved records only.

No LLM, nothing invented. Each reason cites values from the movie's own record that match the
request: genres asked for (or suggested by a mood), people named, themes and keywords that
share words with the question or with the "like X" movie, the plot sentence closest to the
question, and the rating when the best was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from movie_rag.chain.types import Candidate, GeneratedAnswer, HistoryTurn, ParsedQuery, Pick
from movie_rag.index.filters import normalise_name

__all__ = ["Evidence", "GroundedGenerator"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# A co-like or taste score (scaled by the pool's best) this high counts as a reason to pick.
_STRONG_TASTE = 0.5
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
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
STOP_WORDS = frozenset(_STOP_WORDS.split())


class Evidence(dict[str, list[str]]):
    """Values of one record that match the request, by kind (genres, people, themes...)."""


class GroundedGenerator:
    """Compose the answer and per-movie reasons from the candidates' records.

    Example:
        >>> generator = GroundedGenerator()
        >>> answer = generator.generate(parsed, candidates, k=5)  # doctest: +SKIP
        >>> answer.picks[0].reason  # doctest: +SKIP
        'Horror — themes: haunted house, isolation. Rated 8.4/10. ...'
    """

    name = "grounded"

    def generate(
        self,
        parsed: ParsedQuery,
        candidates: Sequence[Candidate],
        k: int,
        history: Sequence[HistoryTurn] | None = None,
        seed_record: dict[str, Any] | None = None,
    ) -> GeneratedAnswer:
        """Pick the top ``k`` candidates and explain each from its record.

        Args:
            parsed: The understood query.
            candidates: Ranked candidates, best first.
            k: How many to pick.
            history: Earlier turns (unused: the ranking already accounts for them).
            seed_record: The "like X" movie's record, whose shared genres and themes count as
                matching values.

        Returns:
            An introduction and the picks, each carrying its movie id.
        """
        # Among the best 3k candidates, those whose record shows why they fit come first; the
        # rest only fill up to k, so an answer never shrinks below what the catalogue has.
        scored = [
            (
                candidate,
                _with_taste(
                    collect_evidence(parsed, candidate.metadata, seed_record),
                    candidate,
                    seed_record,
                ),
            )
            for candidate in candidates[: 3 * k]
        ]
        backed = [pair for pair in scored if _matches(pair[1])]
        unbacked = [pair for pair in scored if not _matches(pair[1])]
        picks = []
        for candidate, evidence in (backed + unbacked)[:k]:
            meta = candidate.metadata
            picks.append(
                Pick(
                    title=str(meta.get("title", "")),
                    year=meta.get("year"),
                    movie_id=candidate.movie_id,
                    reason=compose_reason(evidence, meta),
                )
            )
        return GeneratedAnswer(intro=intro_for(parsed, len(picks)), picks=picks)


def query_words(parsed: ParsedQuery) -> set[str]:
    """Content words of the request (stop words and the seed's title left out)."""
    text = parsed.text.lower()
    if parsed.seed is not None and parsed.seed.written_as:
        text = text.replace(parsed.seed.written_as.lower(), " ")
    words = set(_WORD.findall(text)) | {
        w for term in parsed.boost_terms for w in _WORD.findall(term.lower())
    }
    return {_stem(w) for w in words if w not in STOP_WORDS and len(w) > 2}


def collect_evidence(
    parsed: ParsedQuery, meta: dict[str, Any], seed_record: dict[str, Any] | None = None
) -> Evidence:
    """The values of ``meta`` that match the request."""
    evidence = Evidence()
    genres = list(meta.get("genres") or [])
    wanted_genres = {
        normalise_name(g)
        for g in [
            *(parsed.filters.genres_any or ()),
            *(parsed.filters.genres_all or ()),
            *parsed.boost_genres,
        ]
    }
    if seed_record is not None:
        wanted_genres |= {normalise_name(g) for g in seed_record.get("genres") or []}
    evidence["genres"] = [g for g in genres if normalise_name(g) in wanted_genres]

    people = {normalise_name(p) for p in parsed.filters.people or ()}
    evidence["directed by"] = [
        d for d in meta.get("directors") or [] if normalise_name(d) in people
    ]
    evidence["with"] = [c for c in meta.get("cast") or [] if normalise_name(c) in people]

    words = query_words(parsed)
    seed_themes = _themes(seed_record) if seed_record is not None else set()
    themes = []
    for theme in _themes_ordered(meta):
        theme_words = {_stem(w) for w in _WORD.findall(theme.lower())}
        if theme_words & words or theme.lower() in seed_themes:
            themes.append(theme)
    evidence["themes"] = themes[:4]

    title = str(meta.get("title") or "")
    if {_stem(w) for w in _WORD.findall(title.lower())} & words:
        evidence["title"] = [title]
    year = meta.get("year")
    if year is not None and (parsed.filters.year_min or parsed.filters.year_max):
        evidence["year"] = [str(year)]
    rating = meta.get("rating")
    if rating is not None and (parsed.wants_best or parsed.filters.min_rating is not None):
        evidence["rating"] = [f"{float(rating):.1f}/10"]
    sentence = best_sentence(meta.get("overview") or "", words)
    if sentence:
        evidence["plot"] = [sentence]
    return evidence


def _with_taste(
    evidence: Evidence, candidate: Candidate, seed_record: dict[str, Any] | None
) -> Evidence:
    # Strong co-likes with the seed, or with the user's liked movies, are a reason too: the
    # ranking put the movie there for what people liked, not for what its record says.
    if seed_record is not None and candidate.scores.get("collab", 0.0) >= _STRONG_TASTE:
        evidence["fans of"] = [str(seed_record.get("title") or "")]
    if candidate.scores.get("personal", 0.0) >= _STRONG_TASTE:
        evidence["your taste"] = ["close to movies you liked"]
    return evidence


def _matches(evidence: Evidence) -> bool:
    return any(evidence.get(kind) for kind in evidence)


def compose_reason(evidence: Evidence, meta: dict[str, Any]) -> str:
    """One or two sentences built only from the evidence (and the movie's own genres)."""
    parts = []
    genres = evidence.get("genres") or []
    if genres:
        parts.append(" / ".join(genres))
    if evidence.get("directed by"):
        parts.append("directed by " + ", ".join(evidence["directed by"]))
    if evidence.get("with"):
        parts.append("with " + ", ".join(evidence["with"]))
    if evidence.get("themes"):
        parts.append("themes: " + ", ".join(evidence["themes"]))
    if evidence.get("year"):
        parts.append("from " + evidence["year"][0])
    if evidence.get("fans of") and evidence["fans of"][0]:
        parts.append(f"a favourite of people who liked {evidence['fans of'][0]}")
    if evidence.get("your taste"):
        parts.append(evidence["your taste"][0])
    if evidence.get("title") and not (evidence.get("themes") or evidence.get("plot")):
        parts.append("its title: " + evidence["title"][0])
    reason = "; ".join(parts)
    if evidence.get("rating"):
        reason = (
            f"{reason}. Rated {evidence['rating'][0]}"
            if reason
            else (f"Rated {evidence['rating'][0]}")
        )
    if evidence.get("plot"):
        plot = evidence["plot"][0]
        reason = f"{reason}. {plot}" if reason else plot
    if not reason:
        # Nothing matched: say what the movie is, from its record, without claiming a match.
        fallback = " / ".join(meta.get("genres") or []) or "A film"
        rating = meta.get("rating")
        reason = f"{fallback}" + (f", rated {float(rating):.1f}/10" if rating is not None else "")
    reason = reason.strip()
    return reason if reason.endswith((".", "!", "?")) else reason + "."


def best_sentence(overview: str, words: set[str], limit: int = 220) -> str:
    """The overview sentence sharing most content words with the request ('' if none)."""
    best, best_overlap = "", 0
    for sentence in _SENTENCE.split(" ".join(overview.split())):
        overlap = len({_stem(w) for w in _WORD.findall(sentence.lower())} & words)
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    if len(best) > limit:
        best = best[:limit].rsplit(" ", 1)[0] + "…"
    return best


def _themes_ordered(meta: dict[str, Any]) -> list[str]:
    tags = [t["tag"] for t in meta.get("genome_tags") or [] if isinstance(t, dict)]
    seen: set[str] = set()
    ordered = []
    for theme in [*tags, *(meta.get("keywords") or [])]:
        if theme.lower() not in seen:
            seen.add(theme.lower())
            ordered.append(theme)
    return ordered


def _themes(record: dict[str, Any]) -> set[str]:
    return {t.lower() for t in _themes_ordered(record)}


def _stem(word: str) -> str:
    # Enough to match "dinosaurs"/"dinosaur", "scary"/"scare", "robots"/"robot".
    for suffix in ("ing", "ies", "es", "s", "y", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def intro_for(parsed: ParsedQuery, count: int) -> str:
    """The grounded answer's first sentence for ``count`` recommendations."""
    if count == 0:
        return (
            "I couldn't find a movie on the platform that matches this request. "
            "Try fewer constraints (another genre, a wider range of years, a lower rating)."
        )
    if parsed.seed is not None:
        year = f" ({parsed.seed.year})" if parsed.seed.year else ""
        return f"Since you liked {parsed.seed.title}{year}, here are {count} movies like it:"
    genres = list(parsed.filters.genres_all or parsed.filters.genres_any or ())
    if genres:
        best = "best-rated " if parsed.wants_best else ""
        return f"Here are {count} {best}{' / '.join(genres)} movies for you:"
    return f"Here are {count} movies for you:"
