"""RecommenderChain: a question in, grounded movie recommendations out (a LangChain Runnable)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.runnables import Runnable, RunnableConfig

from movie_rag.chain.catalogue import Catalogue
from movie_rag.chain.generators.grounded import GroundedGenerator, intro_for
from movie_rag.chain.ranking import Ranker
from movie_rag.chain.types import (
    Candidate,
    GeneratedAnswer,
    HistoryTurn,
    ParsedQuery,
    Recommendation,
    RecommendationResponse,
    SeedMovie,
)
from movie_rag.errors import DataValidationError, MovieRagError
from movie_rag.index.filters import SearchFilters
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.collab.profile import UserProfile
    from movie_rag.feedback.local import LocalFeedbackStore
    from movie_rag.index.manager import VectorIndexManager

__all__ = ["ChainEvent", "Generator", "RecommenderChain"]

logger = logging.getLogger("movie_rag")

# Mood shifts for follow-ups ("something lighter"): soft boosts, never filters.
_LIGHTER = ["Comedy", "Animation", "Children", "Musical", "Romance"]
_DARKER = ["Thriller", "Horror", "Crime", "Film-Noir", "Mystery"]


class Generator(Protocol):
    """Anything that turns ranked candidates into an answer and picks."""

    def generate(
        self,
        parsed: ParsedQuery,
        candidates: list[Candidate],
        k: int,
        history: list[HistoryTurn] | None = None,
    ) -> GeneratedAnswer:
        """Choose up to ``k`` movies among ``candidates`` and say why."""
        ...


ChainEvent = dict[str, Any]


class RecommenderChain(Runnable[Any, RecommendationResponse]):
    """Grounded movie recommendations as a LangChain Runnable.

    ``invoke`` takes a question (a string) or a mapping with ``query`` and optionally
    ``history`` (earlier turns: ``{"role", "content", "recommendations": [movie ids]}``),
    ``user_id``, ``filters`` (SearchFilters fields, or the same as a JSON string) and ``k``;
    it returns a :class:`~movie_rag.chain.types.RecommendationResponse`. ``batch`` runs several
    questions; ``stream`` yields events (see :meth:`stream`).

    The steps: redact PII → understand the query (filters, "like X", vibes, follow-ups) →
    retrieve from the index and re-rank (content, co-likes, the user's taste, rating,
    popularity) → generate (grounded by default, or an LLM) → ground every title in the
    catalogue → scrub internal fields.

    With a ``user_id``, answers are personalised: a numeric id names a MovieLens user whose
    ratings are in the collaborative model; every user's thumbs from the UI count too. Movies
    the user rated or voted on, or thumbed down, are never recommended, and liked ones shape
    the order (see :mod:`movie_rag.collab.profile`).

    Args:
        index: The vector index manager.
        catalogue: Title and people lookups over movies_info.
        settings: Weights, k, pool size, LLM options.
        generator: ``GroundedGenerator()`` (default) or an ``LLMGenerator``; an LLM that fails
            falls back to the grounded generator.
        collab: The collaborative model (co-likes, ALS); None ranks on content alone.
        feedback: Where UI thumbs are read from for personalisation (None: none).

    Example:
        >>> settings = MovieRagSettings(workdir=".movie_rag")
        >>> chain = RecommenderChain.from_settings(settings)  # doctest: +SKIP
        >>> response = chain.invoke("I liked 'Jurassic Park'. Anything similar?")  # doctest: +SKIP
        >>> [r.title for r in response.recommendations]  # doctest: +SKIP
    """

    def __init__(
        self,
        index: VectorIndexManager,
        catalogue: Catalogue,
        *,
        settings: MovieRagSettings | None = None,
        generator: Generator | None = None,
        collab: CollaborativeModel | None = None,
        feedback: LocalFeedbackStore | None = None,
    ) -> None:
        from movie_rag.chain.grounding import GroundingGuard
        from movie_rag.chain.query import QueryParser

        self.settings = settings or index.settings
        self.index = index
        self.catalogue = catalogue
        self.collab = collab
        self.feedback = feedback
        self.parser = QueryParser(catalogue)
        self.ranker = Ranker(index, catalogue, self.settings, collab)
        self.fallback = GroundedGenerator()
        self.generator: Generator = generator or self.fallback
        self.guard = GroundingGuard(
            catalogue, allow_outside_catalog=self.settings.allow_outside_catalog
        )
        from movie_rag.chain.safety import register_settings_secrets

        # Keys and tokens in the settings are never shown, whatever an LLM echoes.
        register_settings_secrets(self.settings)

    def __repr__(self) -> str:
        return (
            f"RecommenderChain(generator={type(self.generator).__name__}, "
            f"movies={len(self.catalogue)}, k={self.settings.default_k})"
        )

    @classmethod
    def from_settings(
        cls,
        settings: MovieRagSettings | None = None,
        *,
        generator: Generator | None = None,
        movies_info: pa.Table | None = None,
    ) -> RecommenderChain:
        """Open the index and the catalogue a build left behind.

        Locally both come from the workdir (no Spark). On Databricks the index is the Vector
        Search index and the catalogue is read from the Unity Catalog table with the active
        Spark session, unless ``movies_info`` is given. The collaborative model (when the
        build trained one and ``collab_enabled``) is plain files, read without Spark, and UI
        feedback is read from the workdir's feedback log.

        Args:
            settings: Settings; the workdir (or workspace) must hold a built index.
            generator: Overrides the generator chosen from settings (``llm_provider``).
            movies_info: The catalogue table, when the caller already has it.

        Returns:
            A ready chain.
        """
        from movie_rag.index.manager import VectorIndexManager

        settings = settings or MovieRagSettings()
        index = VectorIndexManager(settings)
        if movies_info is None:
            movies_info = _read_catalogue(settings, index)
        if generator is None and settings.llm_provider != "none":
            from movie_rag.chain.generators.llm import LLMGenerator

            generator = LLMGenerator.from_settings(settings)
        from movie_rag.collab.model import CollaborativeModel
        from movie_rag.feedback.local import LocalFeedbackStore

        return cls(
            index,
            Catalogue(movies_info),
            settings=settings,
            generator=generator,
            collab=CollaborativeModel.open(settings),
            feedback=LocalFeedbackStore(settings.workdir),
        )

    # -- Runnable -----------------------------------------------------------------------

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RecommendationResponse:
        """Answer one question (see the class docstring for the input forms)."""
        response: RecommendationResponse | None = None
        for event in self._run(input):
            if event["event"] == "done":
                response = event["data"]
        assert response is not None
        return response

    def stream(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[ChainEvent]:
        """Answer one question as a stream of events.

        Events are dicts ``{"event": name, "data": ...}``, in this order:

        - ``parsed``: what was understood (``filters``, ``seed``, ``boost_genres``, ...);
        - ``recommendation``: one :class:`Recommendation` at a time, best first;
        - ``answer``: the answer text;
        - ``done``: the complete :class:`RecommendationResponse`.
        """
        yield from self._run(input)

    # -- the steps -----------------------------------------------------------------------

    def _run(self, raw: Any) -> Iterator[ChainEvent]:
        from movie_rag.chain.safety import POLITE_REFUSAL, scrub_internal

        started = time.perf_counter()
        query, history, filters, k, user_id = _read_input(raw, self.settings.default_k)
        parsed = self.parser.parse(query, history)
        parsed, exclude = self._apply_history(parsed, history)
        profile = self.profile(user_id) if user_id else None
        if filters is not None:
            parsed = parsed.model_copy(update={"filters": _combine(parsed.filters, filters)})
        yield {"event": "parsed", "data": _public_parse(parsed)}
        if parsed.off_topic:
            response = RecommendationResponse(query=parsed.text, answer=POLITE_REFUSAL)
            yield {"event": "answer", "data": response.answer}
            yield {"event": "done", "data": response}
            return
        candidates = self.ranker.rank(parsed, k, exclude=exclude, profile=profile)
        relaxed_note = ""
        if not candidates and filters is None:
            # Words read from the text are the user's wishes, not a contract: when nothing
            # meets all of them, the softest ones give way before the answer goes empty.
            for relaxed, dropped in _relaxations(parsed):
                candidates = self.ranker.rank(relaxed, k, exclude=exclude, profile=profile)
                if candidates:
                    parsed = relaxed
                    relaxed_note = f"Nothing matched every wish, so I left out {dropped}. "
                    break
        answer = self._generate(parsed, candidates, k, history)
        mentioned = [parsed.seed.movie_id] if parsed.seed is not None else []
        recommendations, text = self.guard.ground(answer, candidates, k, mentioned=mentioned)
        if profile is not None:
            # An LLM may name a movie the user has seen from memory: it never gets through.
            recommendations = [r for r in recommendations if r.movie_id not in profile.excluded]
        if self.generator is self.fallback and recommendations:
            # Our own template names only the seed (a catalogue movie the user named) and
            # the count: keep it rather than the guard's neutral sentence.
            body = text.split("\n", 1)[1] if "\n" in text else ""
            text = intro_for(parsed, len(recommendations)) + ("\n" + body if body else "")
        if parsed.seed is None and parsed.seed_text:
            text = f"I couldn't find \u201c{parsed.seed_text}\u201d on the platform. " + text
        if relaxed_note and recommendations:
            text = relaxed_note + text
        recommendations = [
            r.model_copy(update={"reason": scrub_internal(r.reason)}) for r in recommendations
        ]
        for recommendation in recommendations:
            yield {"event": "recommendation", "data": recommendation}
        text = scrub_internal(text)
        yield {"event": "answer", "data": text}
        response = RecommendationResponse(
            query=parsed.text,
            answer=text,
            filters=_filters_dict(parsed.filters),
            recommendations=recommendations,
        )
        logger.debug("recommend %.1f ms", (time.perf_counter() - started) * 1000)
        yield {"event": "done", "data": response}

    def profile(self, user_id: str) -> UserProfile:
        """The taste of ``user_id``: MovieLens ratings (numeric ids) and UI thumbs, read now.

        Args:
            user_id: Who is asking.

        Returns:
            The profile personalised answers use.
        """
        from movie_rag.collab.profile import build_profile

        return build_profile(
            user_id,
            self.collab,
            self.feedback,
            like_threshold=self.settings.collab_like_threshold,
        )

    def _generate(
        self,
        parsed: ParsedQuery,
        candidates: list[Candidate],
        k: int,
        history: list[HistoryTurn],
    ) -> GeneratedAnswer:
        seed_record = (
            dict(self.catalogue.movie(parsed.seed.movie_id)) if parsed.seed is not None else None
        )
        if self.generator is self.fallback:
            return self.fallback.generate(parsed, candidates, k, history, seed_record)
        try:
            return self.generator.generate(parsed, candidates[: 2 * k], k, history)
        except MovieRagError as exc:
            logger.warning("LLM generation failed (%s); answering with the grounded generator", exc)
            return self.fallback.generate(parsed, candidates, k, history, seed_record)

    def _apply_history(
        self, parsed: ParsedQuery, history: list[HistoryTurn]
    ) -> tuple[ParsedQuery, set[int]]:
        follow_up = parsed.follow_up
        shown = [movie_id for turn in history for movie_id in turn.recommendations]
        if follow_up is None or not history:
            return parsed, set()
        last_shown = next((t.recommendations for t in reversed(history) if t.recommendations), [])
        previous_query = next((t.content for t in reversed(history) if t.role == "user"), "")
        base = self.parser.parse(previous_query) if previous_query else parsed
        if base.seed is not None:
            # The movie the conversation started from is not a new suggestion either.
            shown.append(base.seed.movie_id)
        base = base.model_copy(update={"text": parsed.text, "follow_up": follow_up})
        if follow_up.kind == "more_like" and follow_up.position is not None:
            # "More like the second one" is about that movie, not the earlier constraints.
            base = parsed.model_copy(update={"follow_up": follow_up})
            position = follow_up.position
            if position < 0:  # "that last one"
                position += len(last_shown)
            if 0 <= position < len(last_shown):
                movie_id = last_shown[position]
                if movie_id in self.catalogue:
                    movie = self.catalogue.movie(movie_id)
                    seed = SeedMovie(
                        movie_id=movie_id, title=movie["title"], year=movie.get("year")
                    )
                    return base.model_copy(update={"seed": seed}), set(shown)
            return parsed, set(shown)
        if follow_up.kind == "lighter":
            return base.model_copy(update={"boost_genres": _LIGHTER, "seed": None}), set(shown)
        if follow_up.kind == "darker":
            return base.model_copy(update={"boost_genres": _DARKER, "seed": None}), set(shown)
        return base, set(shown)


def _read_catalogue(settings: MovieRagSettings, index: VectorIndexManager) -> pa.Table:
    if settings.backend == "local":
        from movie_rag.tables import read_local_table

        return read_local_table(index.table_location)
    from movie_rag.spark import get_spark, spark_to_arrow

    table = get_spark(settings).table(settings.table_name(settings.movies_info_table))
    return spark_to_arrow(table.drop("user_tags", "document"))


def _read_input(
    raw: Any, default_k: int
) -> tuple[str, list[HistoryTurn], SearchFilters | None, int, str | None]:
    if isinstance(raw, str):
        raw = {"query": raw}
    if not isinstance(raw, Mapping):
        raise DataValidationError(
            f"expected a question or a mapping with 'query', got {type(raw).__name__}",
            field="query",
        )
    query = raw.get("query")
    if not isinstance(query, str) or not query.strip():
        raise DataValidationError("the question is empty", field="query")
    history = [
        turn if isinstance(turn, HistoryTurn) else HistoryTurn.model_validate(turn)
        for turn in raw.get("history") or []
    ]
    filters = raw.get("filters")
    if isinstance(filters, str):
        try:
            filters = json.loads(filters) if filters.strip() else None
        except json.JSONDecodeError as exc:
            raise DataValidationError(f"not JSON: {exc.msg}", field="filters") from None
    if filters is not None and not isinstance(filters, SearchFilters):
        try:
            filters = SearchFilters.model_validate(filters)
        except ValueError as exc:
            raise DataValidationError(str(exc), field="filters") from None
    k = raw.get("k")
    k = default_k if k in (None, "") else int(k)
    if not 1 <= k <= 50:
        raise DataValidationError(f"k must be between 1 and 50, got {k}", field="k")
    user_id = raw.get("user_id")
    if (user_id is not None and not isinstance(user_id, str | int)) or isinstance(user_id, bool):
        raise DataValidationError(
            f"user_id must be a string or an integer, got {type(user_id).__name__}",
            field="user_id",
        )
    user_id = str(user_id).strip() if user_id is not None else None
    return query, history, filters, k, user_id or None


def _combine(parsed: SearchFilters, given: SearchFilters) -> SearchFilters:
    # Explicit filters (UI sidebar, API) tighten what the question said; they never loosen it.
    merged = parsed.model_dump()
    for name, value in given.model_dump().items():
        if value is None:
            continue
        current = merged.get(name)
        if current is None:
            merged[name] = value
        elif name in ("year_min", "min_rating", "min_votes"):
            merged[name] = max(current, value)
        elif name == "year_max":
            merged[name] = min(current, value)
        elif name == "include_ids":
            merged[name] = frozenset(current) & frozenset(value)
        elif name == "exclude_ids":
            merged[name] = frozenset(current) | frozenset(value)
        elif name == "genres_any":
            merged[name] = value
        else:
            merged[name] = tuple(dict.fromkeys([*current, *value]))
    low, high = merged.get("year_min"), merged.get("year_max")
    if low is not None and high is not None and low > high:
        merged["year_max"] = low
    return SearchFilters.model_validate(merged)


# Which understood constraints give way first when together they match nothing.
_RELAXED = (
    (("people",), "the people named"),
    (("min_rating", "min_votes"), "the rating asked for"),
    (("year_min", "year_max"), "the years"),
    (("genres_any", "genres_all"), "the genres"),
)


def _relaxations(parsed: ParsedQuery) -> Iterator[tuple[ParsedQuery, str]]:
    """``parsed`` with its text constraints dropped one kind at a time, cumulatively."""
    filters = parsed.filters
    dropped: list[str] = []
    for names, label in _RELAXED:
        if all(getattr(filters, name) is None for name in names):
            continue
        filters = filters.model_copy(update=dict.fromkeys(names))
        dropped.append(label)
        yield parsed.model_copy(update={"filters": filters}), " and ".join(dropped)


def _filters_dict(filters: SearchFilters) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in filters.model_dump(exclude_none=True).items():
        if isinstance(value, frozenset | set):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def _public_parse(parsed: ParsedQuery) -> dict[str, Any]:
    return {
        "filters": _filters_dict(parsed.filters),
        "seed": parsed.seed.model_dump() if parsed.seed else None,
        "boost_genres": list(parsed.boost_genres),
        "boost_terms": list(parsed.boost_terms),
        "follow_up": parsed.follow_up.model_dump() if parsed.follow_up else None,
        "off_topic": parsed.off_topic,
    }


def recommendation_from(candidate: Candidate, reason: str) -> Recommendation:
    """A Recommendation for a catalogue candidate."""
    meta = candidate.metadata
    return Recommendation(
        movie_id=candidate.movie_id,
        title=str(meta.get("title", "")),
        year=meta.get("year"),
        genres=list(meta.get("genres") or []),
        reason=reason,
        url=meta.get("url"),
        score=candidate.score,
        in_catalog=True,
    )
