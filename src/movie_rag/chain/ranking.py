"""Candidate retrieval and re-ranking: similarity, co-likes, taste, rating and popularity.

The blend (weights in :class:`~movie_rag.settings.MovieRagSettings`)::

    score = (w_sim * similarity + w_collab * collab + w_personal * personal
             + w_rating * rating/10 + w_pop * popularity + w_boost * boost)
            / (w_sim + w_collab + w_personal + w_rating + w_pop + w_boost)

``similarity`` is the index score min-max scaled over the retrieved pool, ``popularity`` is
``log(1 + MovieLens rating count)`` scaled by the catalogue's maximum, and ``boost`` is the
share of a vibe's genres and words the movie carries (for "like X", of X's genres; for a
genre ask, the share of the movie's genres that were asked for, "a comedy" preferring pure
comedies among well-known films). Two genres asked for take turns in the order, and at most
two films of one series lead unless the request names the series. Asking
for "the best" doubles the rating weight. Unknown ratings count as 5/10 so that unrated films
are neither favoured nor buried; a rating from few MovieLens raters is pulled towards the
catalogue mean (``rating_prior_count``). Broad asks ("good drama movies", "movies from the
80s", the best of a kind, small talk) also draw on the catalogue's most-rated films, not only
on text matches.

``collab`` (with a collaborative model, see :mod:`movie_rag.collab`) is the co-like score of
the candidate with the seed ("like X", weight ``weight_collab``) or with the best text
matches (free text, ``weight_collab_text``), scaled by the pool's best. The seed's neighbours
join the pool even when their text is not close, and "like X" then weighs similarity and
popularity with ``weight_like_similarity`` and ``weight_like_popularity``. A seed with fewer
than ``collab_min_likes`` likes gets proportionally less collaborative weight and drifts back
to the content-only weights (cold start: content carries it).
``personal`` (a user with a profile) is the mean of the ALS preference and the co-like score
with the user's liked movies, each scaled over the pool; seen and disliked movies never
come back.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from movie_rag.chain.text import STOP_WORDS
from movie_rag.chain.types import Candidate, ParsedQuery
from movie_rag.index.filters import SearchFilters, normalise_name
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from movie_rag.chain.catalogue import Catalogue
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.collab.profile import UserProfile
    from movie_rag.index.base import SearchHit
    from movie_rag.index.manager import VectorIndexManager

__all__ = ["Ranker"]

_WORD = re.compile(r"[a-z0-9]+")
# Free text borrows the co-like neighbours of this many best text matches.
_TEXT_SEEDS = 5
# Broad asks add this many of the most-rated movies to the pool (filters still apply).
_WELL_KNOWN = 1000
# Films of one series ("Paranormal Activity 2") that may lead an answer.
_PER_SERIES = 2
# Scaled popularity at which a film counts as well known (half the most-rated film's log
# count: about 18 MovieLens ratings on ml-latest-small).
_KNOWN_POPULARITY = 0.5


class Ranker:
    """Retrieve candidates for a parsed query and order them.

    Args:
        index: The vector index.
        catalogue: Title/people lookups (duplicates detection).
        settings: Weights, pool size, retrieval mode and MMR.
        collab: The collaborative model (None: content, rating and popularity only).
    """

    def __init__(
        self,
        index: VectorIndexManager,
        catalogue: Catalogue,
        settings: MovieRagSettings,
        collab: CollaborativeModel | None = None,
    ) -> None:
        self.index = index
        self.catalogue = catalogue
        self.settings = settings
        self.collab = collab
        counts: dict[int, int] = {}
        rated: list[float] = []
        for movie_id in catalogue.ids():
            movie = catalogue.movie(movie_id)
            counts[movie_id] = int(movie.get("ml_rating_count") or 0)
            if movie.get("rating") is not None:
                rated.append(_rating_prior(movie["rating"]))
        self._log_max_count = math.log1p(max(counts.values(), default=0)) or 1.0
        # Broad asks ("good drama movies") also consider the kind's best-known films, which
        # a text search over genre words would not reach.
        self._well_known = sorted(counts, key=lambda i: (-counts[i], i))[:_WELL_KNOWN]
        self._mean_rating = float(np.mean(rated)) if rated else 0.5

    def rank(
        self,
        parsed: ParsedQuery,
        k: int,
        *,
        exclude: Iterable[int] = (),
        profile: UserProfile | None = None,
    ) -> list[Candidate]:
        """The best ``k`` (or more) candidates for ``parsed``, de-duplicated, best first.

        Retrieval widens until ``k`` distinct movies pass the filters or the catalogue runs
        out, so exactly ``k`` come back whenever the catalogue has ``k`` matches.

        Args:
            parsed: The understood query.
            k: How many movies are wanted.
            exclude: Movie ids that must not come back (seen before, the seed...).
            profile: The asking user's taste: excludes what they saw or disliked and
                shapes the order.

        Returns:
            Candidates, best first (at most the pool size, at least ``k`` when possible).
        """
        excluded = set(exclude)
        if profile is not None:
            excluded |= profile.excluded
        for other in [*parsed.more_seeds, *parsed.negative_seeds]:
            excluded |= {other.movie_id, *self.catalogue.duplicates_of(other.movie_id)}
        if parsed.seed is not None:
            seed_id = parsed.seed.movie_id
            excluded |= {seed_id, *self.catalogue.duplicates_of(seed_id)}
            if not parsed.boost_genres and seed_id in self.catalogue:
                # "Like X" softly prefers X's genres; similarity alone drifts across genres.
                seed_genres = list(self.catalogue.movie(seed_id).get("genres") or [])
                parsed = parsed.model_copy(update={"boost_genres": seed_genres})
        filters = _with_exclusions(parsed.filters, excluded)
        pool = max(self.settings.candidate_pool, 3 * k)
        if parsed.wants_best or _generic(parsed):
            # "The best X" (or just "X movies") ranks the whole kind on rating and
            # popularity, not on wording.
            pool *= 20
        elif parsed.seed is None and parsed.filters.is_empty:
            pool *= 5  # vibes re-rank on rating and popularity too: more to choose from
        while True:
            hits = self._retrieve(parsed, pool, filters)
            signals = self._signals(parsed, hits, profile, pool, excluded)
            extra = self._retrieve_ids(parsed, signals.extra_ids, filters, hits)
            if parsed.seed is None:
                signals.text_hits = len(hits)
            blended = self._dedupe(self._blend(parsed, [*hits, *extra], signals))
            ranked = _few_per_series(parsed, _cover_genres(parsed, blended))
            if len(ranked) >= k or len(hits) < pool or pool >= len(self.catalogue):
                return ranked
            pool *= 2

    def _retrieve(
        self, parsed: ParsedQuery, pool: int, filters: SearchFilters | None
    ) -> list[SearchHit]:
        if parsed.seed is not None:
            return self.index.similar_to(parsed.seed.movie_id, pool, filters)
        # Filler ("I am feeling", "suggest me some movies") only adds noise to a keyword match.
        source = parsed.text if parsed.search_text is None else parsed.search_text
        words = [w for w in source.split() if w.lower().strip(".,!?;:'\"") not in STOP_WORDS]
        text = " ".join([*words, *parsed.boost_terms]).strip() or source or parsed.text
        return self.index.search(
            text,
            pool,
            filters,
            mode=self.settings.retrieval_mode,
            mmr=self.settings.mmr_lambda,
        )

    def _signals(
        self,
        parsed: ParsedQuery,
        hits: Sequence[SearchHit],
        profile: UserProfile | None,
        pool: int,
        excluded: set[int],
    ) -> _Signals:
        model = self.collab
        signals = _Signals()
        s = self.settings
        if parsed.seed is not None:
            if model is not None and s.weight_collab > 0:
                signals = self._seed_signals(parsed, model, pool, excluded)
        elif (
            model is not None
            and hits
            and s.weight_collab_text > 0
            and not (parsed.wants_best or _generic(parsed))
        ):
            # "The best X" (and a bare "X movies") asks for quality (rating and
            # popularity), not for the co-likes of whatever matched the wording.
            # The share of each match's fans who liked a movie, not the lift-scored order of
            # "like X": a kind's well-liked films are what free text asks for.
            best = sorted(hits, key=lambda h: (-h.score, h.movie_id))[:_TEXT_SEEDS]
            totals: dict[int, float] = {}
            for rank, hit in enumerate(best):
                for movie_id, score in model.share_of_fans(hit.movie_id):
                    totals[movie_id] = totals.get(movie_id, 0.0) + score / (1 + rank)
            signals.collab = totals
            signals.collab_weight = s.weight_collab_text
        if parsed.seed is None and (parsed.wants_best or _generic(parsed)) and len(hits) >= pool:
            # (Fewer hits than asked for: every movie that passes the filters is already in.)
            signals.extra_ids += self._well_known
        if profile is not None and profile.has_taste and s.weight_personal > 0:
            signals.profile = profile
            signals.personal_weight = s.weight_personal
            if model is not None and _topicless(parsed):
                # "Recommend me something": the user's taste, not the wording, finds the pool.
                signals.extra_ids += self._taste_picks(profile, pool, excluded)
        return signals

    def _seed_signals(
        self, parsed: ParsedQuery, model: CollaborativeModel, pool: int, excluded: set[int]
    ) -> _Signals:
        s = self.settings
        seeds = _seed_ids(parsed)
        likes = sum(model.neighbours.like_counts.get(seed, 0) for seed in seeds)
        # Cold start: seeds few people liked have noisy co-likes; content carries them, and
        # only a matching share of their neighbours joins the pool.
        confidence = min(1.0, likes / s.collab_min_likes)
        # Several seeds add their lift scores; a disliked one subtracts its own.
        neighbours = model.neighbours.similar_to(
            seeds,
            pool,
            exclude=excluded,
            avoid=[m.movie_id for m in parsed.negative_seeds],
        )
        return _Signals(
            collab=dict(neighbours),
            collab_weight=s.weight_collab * confidence,
            extra_ids=[m for m, _ in neighbours[: round(pool * confidence)]],
        )

    def _taste_picks(self, profile: UserProfile, n: int, excluded: set[int]) -> list[int]:
        model = self.collab
        assert model is not None
        picks = [m for m, _ in model.neighbours.similar_to(profile.liked, n, exclude=excluded)]
        if profile.factor is not None:
            scores = model.item_factors @ profile.factor
            order = np.argsort(-scores, kind="stable")
            ids = [int(model.item_ids[i]) for i in order[: n + len(excluded)]]
            picks += [m for m in ids if m not in excluded][:n]
        return list(dict.fromkeys(picks))

    def _retrieve_ids(
        self,
        parsed: ParsedQuery,
        ids: Sequence[int],
        filters: SearchFilters | None,
        hits: Sequence[SearchHit],
    ) -> list[SearchHit]:
        have = {h.movie_id for h in hits}
        wanted = frozenset(m for m in ids if m not in have and m in self.catalogue)
        if not wanted:
            return []
        base = filters or SearchFilters()
        allowed = wanted if base.include_ids is None else wanted & base.include_ids
        only = base.model_copy(update={"include_ids": allowed})
        # The same filters apply: a neighbour outside the asked years or genres stays out.
        if parsed.seed is not None:
            return self.index.similar_to(parsed.seed.movie_id, len(allowed), only)
        return self.index.search(parsed.text or "movie", len(allowed), only, mode="dense")

    def _blend(
        self, parsed: ParsedQuery, hits: Sequence[SearchHit], signals: _Signals | None = None
    ) -> list[Candidate]:
        if not hits:
            return []
        signals = signals or _Signals()
        s = self.settings
        vibe_only = (
            parsed.seed is None
            and parsed.filters.is_empty
            and bool(parsed.boost_genres or parsed.boost_terms)
        )
        # "The best horror movie" and "something to cheer me up" are asking for well-liked,
        # well-known films of a kind more than for the closest wording: the text match weighs
        # a quarter (best) or half (vibes, or a kind with a topic: "comedies with a dog"
        # is Marley & Me before Hot Dog... The Movie), rating and popularity double.
        generic = _generic(parsed)
        broad = parsed.wants_best or vibe_only or generic or bool(_kinds(parsed))
        taste_led = signals.personal_weight > 0 and _topicless(parsed)
        w_sim, w_rating, w_pop, w_boost = (
            0.0
            if taste_led
            else s.weight_similarity
            * (0.25 if parsed.wants_best or generic else 0.5 if broad else 1.0),
            s.weight_rating * (2.0 if broad else 1.0),
            s.weight_popularity * (2.0 if broad else 1.0),
            s.weight_boost
            if (parsed.boost_genres or parsed.boost_terms or parsed.avoid_genres or _kinds(parsed))
            else 0.0,
        )
        collab = _scaled({h.movie_id: signals.collab.get(h.movie_id, 0.0) for h in hits})
        w_collab = signals.collab_weight if any(collab.values()) else 0.0
        if parsed.seed is not None and w_collab > 0:
            # "Like X" with co-likes has its own content/popularity balance; a seed with few
            # likes (confidence < 1) drifts back to the content-only weights.
            confidence = signals.collab_weight / s.weight_collab
            w_sim = _mix(s.weight_like_similarity, w_sim, confidence)
            w_pop = _mix(s.weight_like_popularity, w_pop, confidence)
            w_rating = _mix(s.weight_like_rating, w_rating, confidence)
        personal = self._personal(signals.profile, [h.movie_id for h in hits])
        w_personal = signals.personal_weight if personal else 0.0
        total = (w_sim + w_collab + w_personal + w_rating + w_pop + w_boost) or 1.0
        # Taste-only extras of a free-text query came from a restricted search whose scores
        # do not compare with the pool's: they get no text similarity.
        text_ids = {h.movie_id for h in hits[: signals.text_hits or len(hits)]}
        raw = [h.score for h in hits if h.movie_id in text_ids]
        low, high = min(raw), max(raw)
        span = (high - low) or 1.0
        candidates = []
        for hit in hits:
            meta = hit.metadata
            popularity = math.log1p(int(meta.get("ml_rating_count") or 0)) / self._log_max_count
            if hit.movie_id not in text_ids:
                similarity = 0.0
            else:
                similarity = (hit.score - low) / span if high > low else 1.0
            parts = {
                "similarity": max(0.0, similarity),
                "collab": collab.get(hit.movie_id, 0.0),
                "personal": personal.get(hit.movie_id, 0.0),
                "rating": self._rating(meta),
                "popularity": popularity,
                "boost": _boost(parsed, meta, popularity),
            }
            score = (
                w_sim * parts["similarity"]
                + w_collab * parts["collab"]
                + w_personal * parts["personal"]
                + w_rating * parts["rating"]
                + w_pop * parts["popularity"]
                + w_boost * parts["boost"]
            ) / total
            candidates.append(
                Candidate(movie_id=hit.movie_id, score=round(score, 6), metadata=meta, scores=parts)
            )
        candidates.sort(key=lambda c: (-c.score, c.movie_id))
        return candidates

    def _rating(self, meta: dict[str, Any]) -> float:
        """The rating prior, pulled towards the catalogue mean when few people rated it.

        A 9/10 from seven viewers says less than an 8.5 from three hundred:
        ``(n * rating + m * mean) / (n + m)`` with ``n`` the MovieLens ratings and ``m``
        ``rating_prior_count``.
        """
        rating = meta.get("rating")
        if rating is None or (isinstance(rating, float) and math.isnan(rating)):
            return 0.5
        n = int(meta.get("ml_rating_count") or 0)
        m = self.settings.rating_prior_count
        return (n * _rating_prior(rating) + m * self._mean_rating) / ((n + m) or 1)

    def _personal(self, profile: UserProfile | None, ids: list[int]) -> dict[int, float]:
        model = self.collab
        if profile is None or model is None or not profile.has_taste:
            return {}
        parts: list[dict[int, float]] = []
        if profile.factor is not None:
            parts.append(_scaled(model.item_scores(profile.factor, ids), floor=True))
        if profile.liked:
            wanted = set(ids)
            near = model.neighbours.similar_to(profile.liked, len(model.neighbours) or 1)
            parts.append(_scaled({m: v for m, v in near if m in wanted}))
        if not parts:
            return {}
        return {m: sum(p.get(m, 0.0) for p in parts) / len(parts) for m in ids}

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


@dataclass
class _Signals:
    """Collaborative and personal evidence for one ranking, with its weights."""

    collab: dict[int, float] = field(default_factory=dict)
    collab_weight: float = 0.0
    profile: UserProfile | None = None
    personal_weight: float = 0.0
    extra_ids: list[int] = field(default_factory=list)
    text_hits: int = 0  # free text: only the first hits carry comparable text scores


def _seed_ids(parsed: ParsedQuery) -> list[int]:
    """The liked movies of a "like X" request: the seed first, then the others."""
    seeds = [parsed.seed] if parsed.seed is not None else []
    return list(dict.fromkeys(m.movie_id for m in [*seeds, *parsed.more_seeds]))


def _mix(collab_weight: float, content_weight: float, confidence: float) -> float:
    return confidence * collab_weight + (1.0 - confidence) * content_weight


def _generic(parsed: ParsedQuery) -> bool:
    """A broad ask ("war movies", "a good action movie", "movies from the 80s"): no topic.

    A kind or a period, and words that are only genre, mood, year and filler words, so the
    closest wording (a title with "War" in it, a 1980s stand-up film) says nothing:
    well-liked, well-known films of the kind or period should lead.
    """
    from movie_rag.chain.query import only_vocabulary

    f = parsed.filters
    has_kind = bool(f.genres_any or f.genres_all)
    has_period = f.year_min is not None or f.year_max is not None
    text = parsed.text if parsed.search_text is None else parsed.search_text
    return parsed.seed is None and (has_kind or has_period) and only_vocabulary(text)


def _topicless(parsed: ParsedQuery) -> bool:
    # "Recommend me something": no seed, no filters, no vibe to match.
    return (
        parsed.seed is None
        and parsed.filters.is_empty
        and not parsed.boost_genres
        and not parsed.boost_terms
        # An open ask sets wants_best for strangers; a known taste still leads it.
        and (parsed.open_ask or not parsed.wants_best)
    )


_SEQUEL = re.compile(
    r"(?:\s*:.*$)|(?:\s+[-–]\s.*$)|(?:\s+(?:part\s+)?(?:\d+|ii|iii|iv|v|vi|two|three)\b.*$)",
    re.IGNORECASE,
)


@lru_cache(maxsize=32768)
def _series(title: str) -> str:
    """The name a film shares with its sequels ("Paranormal Activity 2" → "paranormal activity")."""
    from movie_rag.catalog.titles import title_key

    return title_key(_SEQUEL.sub("", title)) or title_key(title)


def _few_per_series(parsed: ParsedQuery, ranked: list[Candidate]) -> list[Candidate]:
    """At most :data:`_PER_SERIES` films of one series lead; the others follow the rest.

    Four Paranormal Activity films crowd out everything else a horror fan might like; a
    request that names the series ("Harry Potter movies") gets all of it.
    """
    from movie_rag.catalog.titles import title_key

    asked = f" {title_key(parsed.text)} "
    seen: dict[str, int] = {}
    kept: list[Candidate] = []
    later: list[Candidate] = []
    for candidate in ranked:
        key = _series(str(candidate.metadata.get("title") or ""))
        seen[key] = seen.get(key, 0) + 1
        free = not key or f" {key} " in asked
        (kept if free or seen[key] <= _PER_SERIES else later).append(candidate)
    return [*kept, *later]


def _cover_genres(parsed: ParsedQuery, ranked: list[Candidate]) -> list[Candidate]:
    """Take turns between the kinds asked for ("comedy and horror movies"), best first.

    One blended order puts the kind with more well-rated films first (ten comedies for
    "I like comedies and horror"); each asked genre gets its turn instead, a film of two of
    them counting for the first one it serves.
    """
    asked = [normalise_name(g) for g in parsed.filters.genres_any or ()]
    if len(asked) < 2:
        return ranked
    queues: dict[str, deque[Candidate]] = {g: deque() for g in asked}
    for candidate in ranked:
        genres = {normalise_name(g) for g in candidate.metadata.get("genres") or []}
        for genre in asked:
            if genre in genres:
                queues[genre].append(candidate)
    out = take_turns([queues[g] for g in asked])
    taken = {c.movie_id for c in out}
    return [*out, *(c for c in ranked if c.movie_id not in taken)]


def take_turns(lists: Sequence[Iterable[Candidate]], limit: int | None = None) -> list[Candidate]:
    """One film from each list in turn, best first, each film once (at most ``limit``).

    Args:
        lists: Candidate lists, each best first.
        limit: How many to take (None: all).

    Returns:
        The interleaved candidates.
    """
    queues = [deque(films) for films in lists]
    taken: dict[int, Candidate] = {}
    while any(queues) and (limit is None or len(taken) < limit):
        for queue in queues:
            while queue and queue[0].movie_id in taken:
                queue.popleft()
            if queue and (limit is None or len(taken) < limit):
                film = queue.popleft()
                taken[film.movie_id] = film
    return list(taken.values())


def _scaled(values: dict[int, float], *, floor: bool = False) -> dict[int, float]:
    """Scores divided by the best (or min-max scaled when ``floor``, for signed scores)."""
    if not values:
        return {}
    high = max(values.values())
    if floor:
        low = min(values.values())
        span = high - low
        return {m: (v - low) / span if span > 0 else 0.0 for m, v in values.items()}
    return {m: v / high if high > 0 else 0.0 for m, v in values.items()}


def _with_exclusions(filters: SearchFilters, excluded: set[int]) -> SearchFilters | None:
    if excluded:
        already = set(filters.exclude_ids or ())
        filters = filters.model_copy(update={"exclude_ids": frozenset(already | excluded)})
    return None if filters.is_empty else filters


def _rating_prior(rating: Any) -> float:
    if rating is None or (isinstance(rating, float) and math.isnan(rating)):
        return 0.5
    return max(0.0, min(float(rating) / 10.0, 1.0))


def _kinds(parsed: ParsedQuery) -> set[str]:
    """The genres a request without a seed asks for (normalised)."""
    if parsed.seed is not None:
        return set()
    f = parsed.filters
    return {normalise_name(g) for g in (*(f.genres_any or ()), *(f.genres_all or ()))}


def _boost(parsed: ParsedQuery, meta: dict[str, Any], popularity: float = 0.0) -> float:
    signals = 0.0
    wanted = 0
    kinds = _kinds(parsed)
    if kinds:
        # "A comedy" is more Airplane! (Comedy) than Pulp Fiction (Comedy, Crime, Drama,
        # Thriller): the share of a film's genres that were asked for. Only well-known films
        # get it in full, or single-genre films nobody rated would lead broad asks.
        genres = {normalise_name(g) for g in meta.get("genres") or []}
        known = min(1.0, popularity / _KNOWN_POPULARITY)
        signals += len(kinds & genres) / (len(genres) or 1) * known
        wanted += 1
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
