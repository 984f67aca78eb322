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

from movie_rag.chain.text import STOP_WORDS
from movie_rag.chain.text import stem as _stem
from movie_rag.chain.types import Candidate, GeneratedAnswer, HistoryTurn, ParsedQuery, Pick
from movie_rag.index.filters import normalise_name

__all__ = ["Evidence", "GroundedGenerator"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# A co-like or taste score (scaled by the pool's best) this high counts as a reason to pick.
_STRONG_TASTE = 0.5
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


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
    text = (parsed.text if parsed.search_text is None else parsed.search_text).lower()
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
    if seed_record is not None:
        evidence["seed themes"] = [t for t in _themes_ordered(meta) if t.lower() in seed_themes][:3]
        evidence["seed"] = [str(seed_record.get("title") or "")]

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
    return any(evidence.get(kind) for kind in evidence if kind != "seed")


def compose_reason(evidence: Evidence, meta: dict[str, Any]) -> str:
    """One sentence tying the movie to the request, built only from the evidence and record.

    What kind of film it is (the genres asked for, else its own), its year when years were
    asked for, the people asked for, the "like X" movie it shares themes or fans with, the
    themes of the request it has, its rating when the best was asked for, and a short clause
    of its overview (the one closest to the request, else its first).
    """
    genres = evidence.get("genres") or list(meta.get("genres") or [])[:2]
    kind = " / ".join(g for g in genres if g != "(no genres listed)")
    article = "An" if kind[:1].upper() in "AEIOU" and kind else "A"
    lead = f"{article} {kind} film" if kind else "A film"
    if evidence.get("year"):
        lead += f" from {evidence['year'][0]}"
    people = []
    if evidence.get("directed by"):
        people.append("directed by " + _and(evidence["directed by"]))
    if evidence.get("with"):
        people.append("with " + _and(evidence["with"]))
    parts = [lead + (" " + ", ".join(people) if people else "")]
    seed = (evidence.get("fans of") or [""])[0]
    seed_themes = evidence.get("seed themes") or []
    if seed and seed_themes:
        parts.append(f"like {seed} in its {_and(seed_themes[:3])} and loved by the same fans")
    elif seed:
        parts.append(f"loved by the same fans as {seed}")
    elif seed_themes and evidence.get("seed"):
        parts.append(f"like {evidence['seed'][0]} in its {_and(seed_themes[:3])}")
    themes = [t for t in evidence.get("themes") or [] if t not in seed_themes]
    if themes:
        parts.append("about " + _and(themes[:3]))
    if evidence.get("your taste"):
        parts.append(evidence["your taste"][0])
    if evidence.get("rating"):
        parts.append("rated " + evidence["rating"][0])
    reason = ", ".join(parts)
    clause = (evidence.get("plot") or [""])[0] or _first_clause(meta.get("overview") or "")
    if clause:
        reason = f"{reason} — {clause}"
    reason = reason.strip()
    return reason if reason.endswith((".", "!", "?", "...")) else reason + "."


def _and(values: Sequence[str]) -> str:
    values = list(values)
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def _first_clause(overview: str, limit: int = 140) -> str:
    """The overview's first sentence, cut at ``limit`` characters between words."""
    text = " ".join(overview.split())
    if not text or text.lower().startswith("no overview"):
        return ""
    first = ""
    for sentence in _SENTENCE.split(text):
        first = f"{first} {sentence}".strip()
        if len(first) >= 40:  # "Thomas A." is no sentence
            break
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "..."
    return first


def best_sentence(overview: str, words: set[str], limit: int = 220) -> str:
    """The overview sentence sharing most content words with the request ('' if none)."""
    best, best_overlap = "", 0
    for sentence in _SENTENCE.split(" ".join(overview.split())):
        overlap = len({_stem(w) for w in _WORD.findall(sentence.lower())} & words)
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    if len(best) > limit:
        best = best[:limit].rsplit(" ", 1)[0] + "..."
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


def intro_for(parsed: ParsedQuery, count: int) -> str:
    """The grounded answer's first sentence for ``count`` recommendations."""
    if count == 0:
        return (
            "I couldn't find a movie on the platform that matches this request. "
            "Try fewer constraints (another genre, a wider range of years, a lower rating)."
        )
    if parsed.seed is not None:
        year = f" ({parsed.seed.year})" if parsed.seed.year else ""
        # Neutral: "Heat" alone or "like Heat" says nothing about having liked it.
        return f"Here are {count} movies like {parsed.seed.title}{year}:"
    genres = list(parsed.filters.genres_all or parsed.filters.genres_any or ())
    if genres:
        best = "best-rated " if parsed.wants_best else ""
        return f"Here are {count} {best}{' / '.join(genres)} movies for you:"
    return f"Here are {count} movies for you:"
