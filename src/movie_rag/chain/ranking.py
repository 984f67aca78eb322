"""Candidate retrieval and re-ranking: similarity blended with a rating prior and popularity.

The blend (weights in :class:`~movie_rag.settings.MovieRagSettings`)::

    score = (w_sim * similarity + w_rating * rating/10 + w_pop * popularity + w_boost * boost)
            / (w_sim + w_rating + w_pop + w_boost)

``similarity`` is the index score min-max scaled over the retrieved pool, ``popularity`` is
``log(1 + MovieLens rating count)`` scaled by the catalogue's maximum, and ``boost`` is the
share of a vibe's genres and words the movie carries (for "like X", of X's genres). Asking
for "the best" doubles the rating weight. Unknown ratings count as 5/10 so that unrated films
are neither favoured nor buried.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from movie_rag.chain.grounded import STOP_WORDS
from movie_rag.chain.types import Candidate, ParsedQuery
from movie_rag.index.filters import SearchFilters, normalise_name
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from movie_rag.chain.catalogue import Catalogue
    from movie_rag.index.base import SearchHit
    from movie_rag.index.manager import VectorIndexManager

__all__ = ["Ranker"]

_WORD = re.compile(r"[a-z0-9]+")


class Ranker:
    """Retrieve candidates for a parsed query and order them.

    Args:
        index: The vector index.
        catalogue: Title/people lookups (duplicates detection).
        settings: Weights, pool size, retrieval mode and MMR.
    """

    def __init__(
        self, index: VectorIndexManager, catalogue: Catalogue, settings: MovieRagSettings
    ) -> None:
        self.index = index
        self.catalogue = catalogue
        self.settings = settings
        counts = [int(catalogue.movie(i).get("ml_rating_count") or 0) for i in catalogue.ids()]
        self._log_max_count = math.log1p(max(counts, default=0)) or 1.0

    def rank(self, parsed: ParsedQuery, k: int, *, exclude: Iterable[int] = ()) -> list[Candidate]:
        """The best ``k`` (or more) candidates for ``parsed``, de-duplicated, best first.

        Retrieval widens until ``k`` distinct movies pass the filters or the catalogue runs
        out, so exactly ``k`` come back whenever the catalogue has ``k`` matches.

        Args:
            parsed: The understood query.
            k: How many movies are wanted.
            exclude: Movie ids that must not come back (seen before, the seed...).

        Returns:
            Candidates, best first (at most the pool size, at least ``k`` when possible).
        """
        excluded = set(exclude)
        if parsed.seed is not None:
            seed_id = parsed.seed.movie_id
            excluded |= {seed_id, *self.catalogue.duplicates_of(seed_id)}
            if not parsed.boost_genres and seed_id in self.catalogue:
                # "Like X" softly prefers X's genres; similarity alone drifts across genres.
                seed_genres = list(self.catalogue.movie(seed_id).get("genres") or [])
                parsed = parsed.model_copy(update={"boost_genres": seed_genres})
        filters = _with_exclusions(parsed.filters, excluded)
        pool = max(self.settings.candidate_pool, 3 * k)
        if parsed.wants_best:
            # "The best X" ranks the whole kind on rating and popularity, not on wording.
            pool *= 20
        elif parsed.seed is None and parsed.filters.is_empty:
            pool *= 5  # vibes re-rank on rating and popularity too: more to choose from
        while True:
            hits = self._retrieve(parsed, pool, filters)
            ranked = self._dedupe(self._blend(parsed, hits))
            if len(ranked) >= k or len(hits) < pool or pool >= len(self.catalogue):
                return ranked
            pool *= 2

    def _retrieve(
        self, parsed: ParsedQuery, pool: int, filters: SearchFilters | None
    ) -> list[SearchHit]:
        if parsed.seed is not None:
            return self.index.similar_to(parsed.seed.movie_id, pool, filters)
        # Filler ("I am feeling", "suggest me some movies") only adds noise to a keyword match.
        words = [w for w in parsed.text.split() if w.lower().strip(".,!?;:'\"") not in STOP_WORDS]
        text = " ".join([*words, *parsed.boost_terms]).strip() or parsed.text
        return self.index.search(
            text,
            pool,
            filters,
            mode=self.settings.retrieval_mode,
            mmr=self.settings.mmr_lambda,
        )

    def _blend(self, parsed: ParsedQuery, hits: Sequence[SearchHit]) -> list[Candidate]:
        if not hits:
            return []
        s = self.settings
        vibe_only = (
            parsed.seed is None
            and parsed.filters.is_empty
            and bool(parsed.boost_genres or parsed.boost_terms)
        )
        # "The best horror movie" and "something to cheer me up" are asking for well-liked,
        # well-known films of a kind more than for the closest wording: the text match weighs
        # a quarter (best) or half (vibes), rating and popularity double.
        broad = parsed.wants_best or vibe_only
        w_sim, w_rating, w_pop, w_boost = (
            s.weight_similarity * (0.25 if parsed.wants_best else 0.5 if broad else 1.0),
            s.weight_rating * (2.0 if broad else 1.0),
            s.weight_popularity * (2.0 if broad else 1.0),
            s.weight_boost if (parsed.boost_genres or parsed.boost_terms) else 0.0,
        )
        total = (w_sim + w_rating + w_pop + w_boost) or 1.0
        raw = [h.score for h in hits]
        low, high = min(raw), max(raw)
        span = (high - low) or 1.0
        candidates = []
        for hit in hits:
            meta = hit.metadata
            parts = {
                "similarity": (hit.score - low) / span if high > low else 1.0,
                "rating": _rating_prior(meta.get("rating")),
                "popularity": math.log1p(int(meta.get("ml_rating_count") or 0))
                / self._log_max_count,
                "boost": _boost(parsed, meta),
            }
            score = (
                w_sim * parts["similarity"]
                + w_rating * parts["rating"]
                + w_pop * parts["popularity"]
                + w_boost * parts["boost"]
            ) / total
            candidates.append(
                Candidate(movie_id=hit.movie_id, score=round(score, 6), metadata=meta, scores=parts)
            )
        candidates.sort(key=lambda c: (-c.score, c.movie_id))
        return candidates

    def _dedupe(self, candidates: list[Candidate]) -> list[Candidate]:
        kept: list[Candidate] = []
        taken: set[int] = set()
        for candidate in candidates:
            if candidate.movie_id in taken:
                continue
            kept.append(candidate)
            taken.add(candidate.movie_id)
            # The same film listed under two ids (Emma 1996) must not appear twice.
            taken.update(self.catalogue.duplicates_of(candidate.movie_id))
        return kept


def _with_exclusions(filters: SearchFilters, excluded: set[int]) -> SearchFilters | None:
    if excluded:
        already = set(filters.exclude_ids or ())
        filters = filters.model_copy(update={"exclude_ids": frozenset(already | excluded)})
    return None if filters.is_empty else filters


def _rating_prior(rating: Any) -> float:
    if rating is None or (isinstance(rating, float) and math.isnan(rating)):
        return 0.5
    return max(0.0, min(float(rating) / 10.0, 1.0))


def _boost(parsed: ParsedQuery, meta: dict[str, Any]) -> float:
    signals = 0.0
    wanted = 0
    if parsed.boost_genres:
        genres = {normalise_name(g) for g in meta.get("genres") or []}
        hits = sum(1 for g in parsed.boost_genres if normalise_name(g) in genres)
        signals += hits / len(parsed.boost_genres)
        wanted += 1
    if parsed.boost_terms:
        words = set(_WORD.findall(_describing_text(meta)))
        hits = sum(1 for term in parsed.boost_terms if set(_WORD.findall(term.lower())) <= words)
        signals += min(1.0, hits / 3)
        wanted += 1
    avoid = parsed.avoid_genres
    if avoid:
        genres = {normalise_name(g) for g in meta.get("genres") or []}
        if any(normalise_name(g) in genres for g in avoid):
            signals -= 1.0
            wanted = max(wanted, 1)
    return signals / wanted if wanted else 0.0


def _describing_text(meta: dict[str, Any]) -> str:
    tags = [t["tag"] for t in meta.get("genome_tags") or [] if isinstance(t, dict)]
    parts = [
        " ".join(meta.get("keywords") or []),
        " ".join(tags),
        meta.get("overview") or "",
    ]
    return " ".join(parts).lower()
