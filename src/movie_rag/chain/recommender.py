"""RecommenderChain: a question in, grounded movie recommendations out (a LangChain Runnable).

Orchestration only. The chain runs five steps, each a child run that callbacks and tracers
passed in ``config`` see, with the caller's tags: ``parse`` (redact PII, understand the query
and the conversation), ``rank`` (the user's taste, then retrieval and re-ranking; every
index search inside it is a ``retrieve`` run), ``generate`` (grounded or an LLM) and
``ground`` (every title checked against the catalogue, internal fields scrubbed). Chains are
built in :mod:`movie_rag.chain.assembly`.
"""

from __future__ import annotations

import collections.abc
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import ensure_config, patch_config
from pydantic import BaseModel

from movie_rag.chain.catalogue import Catalogue
from movie_rag.chain.conversation import (
    REPHRASE,
    apply_history,
    filters_dict,
    relaxations,
    tighten,
)
from movie_rag.chain.generators.base import Generator as Generator
from movie_rag.chain.generators.grounded import GroundedGenerator, intro_for
from movie_rag.chain.ranking import Ranker, take_turns
from movie_rag.chain.retrieval import RetrievalRuns
from movie_rag.chain.types import (
    Candidate,
    GeneratedAnswer,
    ParsedQuery,
    Recommendation,
    RecommendationInput,
    RecommendationRequest,
    RecommendationResponse,
    RecommendationResponseChunk,
)
from movie_rag.errors import MovieRagError
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    import pyarrow as pa
    from langchain_core.callbacks import (
        AsyncCallbackManagerForChainRun,
        CallbackManagerForChainRun,
    )

    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.collab.profile import UserProfile
    from movie_rag.feedback.local import LocalFeedbackStore
    from movie_rag.index.manager import VectorIndexManager

__all__ = ["STEPS", "ChainEvent", "Generator", "ProfileSource", "RecommenderChain"]

logger = logging.getLogger("movie_rag")

ChainEvent = dict[str, Any]

#: A hook that knows some users' taste better than the logs (an evaluation's held-out
#: histories): the profile of ``user_id``, or None to build it from the logs as usual.
ProfileSource = Callable[[str], "UserProfile | None"]

#: The child runs of one answer, in order (``retrieve`` runs inside ``rank``).
STEPS = ("parse", "rank", "retrieve", "generate", "ground")


@dataclass(frozen=True)
class _Understood:
    """The parse step's output: the query to rank, and what not to repeat."""

    request: RecommendationRequest
    parsed: ParsedQuery
    exclude: frozenset[int]
    k: int


@dataclass(frozen=True)
class _Ranked:
    """The rank step's output: candidates, best first, and the query they answer."""

    understood: _Understood
    parsed: ParsedQuery
    candidates: list[Candidate]
    profile: UserProfile | None = None
    relaxed_note: str = ""


@dataclass(frozen=True)
class _Generated:
    """The generate step's output, beside what it answered."""

    ranked: _Ranked
    answer: GeneratedAnswer


@dataclass(frozen=True)
class _Call:
    """The plan asks its driver to run ``step`` on ``value`` as a child run."""

    step: Runnable[Any, Any]
    value: Any


@dataclass(frozen=True)
class _Event:
    """A progress event; ``chunk`` is the part of the response it carries, if any."""

    name: str
    data: Any
    chunk: RecommendationResponseChunk | None = field(default=None)


_Plan = collections.abc.Generator["_Call | _Event", Any, None]


class RecommenderChain(Runnable[RecommendationInput, RecommendationResponse]):
    """Grounded movie recommendations as a LangChain Runnable.

    Input: a :class:`~movie_rag.chain.types.RecommendationRequest` (``query``, ``history``,
    ``user_id``, ``filters``, ``k``), or the same as a mapping, or just the question.
    Output: a :class:`~movie_rag.chain.types.RecommendationResponse`. ``invoke``,
    ``ainvoke``, ``batch``, ``stream``, ``astream`` and ``astream_events`` honour ``config``:
    callbacks, tags and metadata reach every step (:data:`STEPS`). ``stream``/``astream``
    yield :class:`~movie_rag.chain.types.RecommendationResponseChunk` pieces (one per
    recommendation, then the answer text) that add up to the response;
    :meth:`stream_progress` yields the step events (``parsed``, ``recommendation``,
    ``answer``, ``done``) the UI shows. The chain composes with ``|``.

    The steps: redact PII → understand the query (filters, "like X", vibes, follow-ups) →
    retrieve from the index and re-rank (content, co-likes, the user's taste, rating,
    popularity) → generate (grounded by default, or an LLM) → ground every title in the
    catalogue → scrub internal fields.

    With a ``user_id``, answers are personalised: a numeric id names a MovieLens user whose
    ratings are in the collaborative model; every user's thumbs from the UI count too. Movies
    the user rated or voted on, or thumbed down, are never recommended, and liked ones shape
    the order (see :mod:`movie_rag.collab.profile`).

    Build one with :meth:`from_settings` (or :func:`movie_rag.chain.assembly.assemble_chain`,
    which takes every part as a parameter); the constructor takes the parts themselves.

    Args:
        index: The vector index manager.
        catalogue: Title and people lookups over movies_info.
        settings: Weights, k, pool size, LLM options.
        generator: ``GroundedGenerator()`` (default) or an ``LLMGenerator``; an LLM that fails
            falls back to the grounded generator.
        collab: The collaborative model (co-likes, ALS); None ranks on content alone.
        feedback: Where UI thumbs are read from for personalisation (None: none).
        profiles: Asked first for a user's taste (see :data:`ProfileSource`).

    Example:
        >>> settings = MovieRagSettings(workdir=".movie_rag")
        >>> chain = RecommenderChain.from_settings(settings)  # doctest: +SKIP
        >>> response = chain.invoke("I liked 'Jurassic Park'. Anything similar?")  # doctest: +SKIP
        >>> [r.title for r in response.recommendations]  # doctest: +SKIP
        >>> titles = chain | (lambda r: [x.title for x in r.recommendations])  # doctest: +SKIP
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
        profiles: ProfileSource | None = None,
    ) -> None:
        from movie_rag.chain.grounding import GroundingGuard
        from movie_rag.chain.query import QueryParser
        from movie_rag.chain.safety import register_settings_secrets

        self.settings = settings or index.settings
        self.index = index
        self.catalogue = catalogue
        self.feedback = feedback
        self.profiles = profiles
        self.parser = QueryParser(catalogue)
        # Every index search the ranker makes is a "retrieve" child run.
        retrieving = cast("VectorIndexManager", RetrievalRuns(index))
        self.ranker = Ranker(retrieving, catalogue, self.settings, collab)
        self._collab = collab
        self.fallback = GroundedGenerator()
        self.generator: Generator = generator or self.fallback
        self.guard = GroundingGuard(
            catalogue, allow_outside_catalog=self.settings.allow_outside_catalog
        )
        self._steps: dict[str, Runnable[Any, Any]] = {
            "parse": RunnableLambda(self._parse, name="parse"),
            "rank": RunnableLambda(self._rank, name="rank"),
            "generate": RunnableLambda(self._generate, name="generate"),
            "ground": RunnableLambda(self._ground, name="ground"),
        }
        # Keys and tokens in the settings are never shown, whatever an LLM echoes.
        register_settings_secrets(self.settings)

    def __repr__(self) -> str:
        return (
            f"RecommenderChain(generator={type(self.generator).__name__}, "
            f"movies={len(self.catalogue)}, k={self.settings.default_k})"
        )

    @property
    def collab(self) -> CollaborativeModel | None:
        """The collaborative model ranking and personalisation use (None: content only)."""
        return self._collab

    @collab.setter
    def collab(self, model: CollaborativeModel | None) -> None:
        # The ranker reads the same model: one assignment changes both, never just one.
        self._collab = model
        self.ranker.collab = model

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
        feedback is read from the workdir's feedback log. See
        :func:`movie_rag.chain.assembly.assemble_chain` for every other part.

        Args:
            settings: Settings; the workdir (or workspace) must hold a built index.
            generator: Overrides the generator chosen from settings (``llm_provider``).
            movies_info: The catalogue table, when the caller already has it.

        Returns:
            A ready chain.
        """
        from movie_rag.chain.assembly import assemble_chain

        return assemble_chain(
            settings, generator=generator, movies_info=movies_info, chain_class=cls
        )

    # -- the Runnable contract -------------------------------------------------------------

    @property
    def InputType(self) -> Any:
        """The request model."""
        return RecommendationRequest

    @property
    def OutputType(self) -> Any:
        """The response model."""
        return RecommendationResponse

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """:class:`~movie_rag.chain.types.RecommendationRequest`."""
        return RecommendationRequest

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """:class:`~movie_rag.chain.types.RecommendationResponse`."""
        return RecommendationResponse

    def invoke(
        self,
        input: RecommendationInput,
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> RecommendationResponse:
        """Answer one question (a request, a mapping of its fields, or the question)."""
        return self._call_with_config(self._invoke, input, ensure_config(config))

    async def ainvoke(
        self,
        input: RecommendationInput,
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> RecommendationResponse:
        """Answer one question without blocking the event loop (steps run in threads)."""
        return await self._acall_with_config(self._ainvoke, input, ensure_config(config))

    def stream(
        self,
        input: RecommendationInput,
        config: RunnableConfig | None = None,
        **kwargs: Any | None,
    ) -> Iterator[RecommendationResponseChunk]:
        """Answer one question as response chunks that add up to :meth:`invoke`'s answer."""
        chunks = self._transform_stream_with_config(iter([input]), self._chunks, config)
        yield from cast("Iterator[RecommendationResponseChunk]", chunks)

    async def astream(
        self,
        input: RecommendationInput,
        config: RunnableConfig | None = None,
        **kwargs: Any | None,
    ) -> AsyncIterator[RecommendationResponseChunk]:
        """:meth:`stream` for asyncio (also what ``astream_events`` runs)."""

        async def inputs() -> AsyncIterator[RecommendationInput]:
            yield input

        chunks = self._atransform_stream_with_config(inputs(), self._achunks, config)
        async for chunk in chunks:
            yield cast("RecommendationResponseChunk", chunk)

    def stream_progress(
        self, input: RecommendationInput, config: RunnableConfig | None = None
    ) -> Iterator[ChainEvent]:
        """Answer one question as a stream of step events (what the UI and the server use).

        Events are dicts ``{"event": name, "data": ...}``, in this order:

        - ``parsed``: what was understood (``filters``, ``seed``, ``boost_genres``, ...);
        - ``recommendation``: one :class:`Recommendation` at a time, best first;
        - ``answer``: the answer text;
        - ``done``: the complete :class:`RecommendationResponse`.

        A consumer may stop between events (a deadline): no further step runs.
        """
        from langchain_core.runnables.config import get_callback_manager_for_config

        config = ensure_config(config)
        run_manager = get_callback_manager_for_config(config).on_chain_start(
            None,
            _traced_input(input),
            name=config.get("run_name") or self.get_name(),
            run_id=config.pop("run_id", None),
        )
        child = patch_config(config, callbacks=run_manager.get_child())
        response = None
        try:
            for event in self._drive(input, child):
                if event.name == "done":
                    response = event.data
                yield {"event": event.name, "data": event.data}
        except BaseException as exc:
            run_manager.on_chain_error(exc)
            raise
        run_manager.on_chain_end(response)

    # -- drivers: one plan, run synchronously or with asyncio -------------------------------

    def _invoke(
        self,
        raw: RecommendationInput,
        run_manager: CallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> RecommendationResponse:
        child = patch_config(config, callbacks=run_manager.get_child())
        return _response_of(self._drive(raw, child))

    async def _ainvoke(
        self,
        raw: RecommendationInput,
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> RecommendationResponse:
        child = patch_config(config, callbacks=run_manager.get_child())
        response = None
        async for event in self._adrive(raw, child):
            if event.name == "done":
                response = event.data
        assert response is not None
        return cast("RecommendationResponse", response)

    def _chunks(
        self,
        inputs: Iterator[RecommendationInput],
        run_manager: CallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> Iterator[RecommendationResponse]:
        raw = _merged(list(inputs))
        for event in self._drive(raw, config):
            if event.chunk is not None:
                yield event.chunk

    async def _achunks(
        self,
        inputs: AsyncIterator[RecommendationInput],
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> AsyncIterator[RecommendationResponse]:
        raw = _merged([value async for value in inputs])
        async for event in self._adrive(raw, config):
            if event.chunk is not None:
                yield event.chunk

    def _drive(self, raw: RecommendationInput, config: RunnableConfig) -> Iterator[_Event]:
        plan = self._plan(raw)
        value: Any = None
        while True:
            try:
                item = plan.send(value)
            except StopIteration:
                return
            if isinstance(item, _Call):
                value = item.step.invoke(item.value, config)
            else:
                value = None
                yield item

    async def _adrive(
        self, raw: RecommendationInput, config: RunnableConfig
    ) -> AsyncIterator[_Event]:
        plan = self._plan(raw)
        value: Any = None
        while True:
            try:
                item = plan.send(value)
            except StopIteration:
                return
            if isinstance(item, _Call):
                value = await item.step.ainvoke(item.value, config)
            else:
                value = None
                yield item

    # -- the plan and its steps ------------------------------------------------------------

    def _plan(self, raw: RecommendationInput) -> _Plan:
        from movie_rag.chain.safety import POLITE_REFUSAL

        started = time.perf_counter()
        understood: _Understood = yield _Call(self._steps["parse"], raw)
        parsed = understood.parsed
        yield _Event("parsed", _public_parse(parsed))
        if parsed.off_topic or parsed.unclear:
            answer = REPHRASE if parsed.unclear else POLITE_REFUSAL
            response = RecommendationResponse(query=parsed.text, answer=answer)
            chunk = RecommendationResponseChunk(query=response.query, answer=response.answer)
            yield _Event("answer", response.answer, chunk)
            yield _Event("done", response)
            return
        ranked: _Ranked = yield _Call(self._steps["rank"], understood)
        generated: _Generated = yield _Call(self._steps["generate"], ranked)
        response = yield _Call(self._steps["ground"], generated)
        for recommendation in response.recommendations:
            chunk = RecommendationResponseChunk(
                query=response.query, filters=response.filters, recommendations=[recommendation]
            )
            yield _Event("recommendation", recommendation, chunk)
        chunk = RecommendationResponseChunk(
            query=response.query, filters=response.filters, answer=response.answer
        )
        yield _Event("answer", response.answer, chunk)
        logger.debug("recommend %.1f ms", (time.perf_counter() - started) * 1000)
        yield _Event("done", response)

    def _parse(self, raw: RecommendationInput) -> _Understood:
        request = RecommendationRequest.from_input(raw)
        parsed = self.parser.parse(request.query, request.history)
        parsed, exclude = apply_history(parsed, request.history, self.parser, self.catalogue)
        if request.filters is not None:
            parsed = parsed.model_copy(update={"filters": tighten(parsed.filters, request.filters)})
        return _Understood(
            request=request,
            parsed=parsed,
            exclude=frozenset(exclude),
            k=request.resolved_k(self.settings.default_k),
        )

    def _rank(self, understood: _Understood) -> _Ranked:
        request, parsed, k = understood.request, understood.parsed, understood.k
        profile = self.profile(request.user_id) if request.user_id else None
        exclude = understood.exclude
        candidates = self.ranker.rank(parsed, k, exclude=exclude, profile=profile)
        if request.filters is not None:
            return _Ranked(understood, parsed, candidates, profile)
        people = parsed.filters.people or ()
        note = ""
        if len(candidates) < k and len(people) > 1:
            # People named together rarely share a film ("I love Daniel Day-Lewis ... and
            # Julia Roberts"): films with any one of them come next, each in turn.
            shown = exclude | {c.movie_id for c in candidates}
            more = self._each_person(parsed, k - len(candidates), shown, profile)
            if more:
                names = " and ".join(people)
                note = (
                    f"Only {len(candidates)} of the films matching every wish have {names} "
                    "together; the next ones have one of them. "
                    if candidates
                    else f"No film matching every wish has {names} together; these have one "
                    "of them. "
                )
                candidates = candidates + more
        if not candidates:
            # Words read from the text are the user's wishes, not a contract: when nothing
            # meets all of them, the softest ones give way before the answer goes empty.
            for relaxed, dropped in relaxations(parsed):
                candidates = self.ranker.rank(relaxed, k, exclude=exclude, profile=profile)
                if candidates:
                    note = f"Nothing matched every wish, so I left out {dropped}. "
                    return _Ranked(understood, relaxed, candidates, profile, note)
        if 0 < len(candidates) < k and people:
            # A person named in the text is a preference, not a contract: their films lead
            # and the answer is filled with films that meet every other wish.
            others = parsed.model_copy(
                update={"filters": parsed.filters.model_copy(update={"people": None})}
            )
            shown = exclude | {c.movie_id for c in candidates}
            more = self.ranker.rank(others, k - len(candidates), exclude=shown, profile=profile)
            if more:
                names = " or ".join(people) if len(people) > 1 else people[0]
                note += (
                    f"Only {len(candidates)} of the films matching every wish have {names}; "
                    "the others are close matches without them. "
                )
                return _Ranked(understood, parsed, candidates + more, profile, note)
        return _Ranked(understood, parsed, candidates, profile, note)

    def _each_person(
        self,
        parsed: ParsedQuery,
        n: int,
        exclude: collections.abc.Set[int],
        profile: UserProfile | None,
    ) -> list[Candidate]:
        """Up to ``n`` films with one of the people named, taking turns between them."""
        return take_turns(
            [
                self.ranker.rank(
                    parsed.model_copy(
                        update={"filters": parsed.filters.model_copy(update={"people": (p,)})}
                    ),
                    n,
                    exclude=exclude,
                    profile=profile,
                )
                for p in parsed.filters.people or ()
            ],
            limit=n,
        )

    def _generate(self, ranked: _Ranked) -> _Generated:
        parsed, candidates = ranked.parsed, ranked.candidates
        k, history = ranked.understood.k, ranked.understood.request.history
        seed_record = (
            dict(self.catalogue.movie(parsed.seed.movie_id)) if parsed.seed is not None else None
        )
        if self.generator is self.fallback:
            answer = self.fallback.generate(parsed, candidates, k, history, seed_record)
            return _Generated(ranked, answer)
        try:
            answer = self.generator.generate(parsed, candidates[: 2 * k], k, history)
        except MovieRagError as exc:
            logger.warning("LLM generation failed (%s); answering with the grounded generator", exc)
            answer = self.fallback.generate(parsed, candidates, k, history, seed_record)
        return _Generated(ranked, answer)

    def _ground(self, generated: _Generated) -> RecommendationResponse:
        from movie_rag.chain.safety import scrub_internal

        ranked = generated.ranked
        parsed, profile, k = ranked.parsed, ranked.profile, ranked.understood.k
        mentioned = [parsed.seed.movie_id] if parsed.seed is not None else []
        recommendations, text = self.guard.ground(
            generated.answer, ranked.candidates, k, mentioned=mentioned
        )
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
        if ranked.relaxed_note and recommendations:
            text = ranked.relaxed_note + text
        recommendations = [
            r.model_copy(update={"reason": scrub_internal(r.reason)}) for r in recommendations
        ]
        return RecommendationResponse(
            query=parsed.text,
            answer=scrub_internal(text),
            filters=filters_dict(parsed.filters),
            recommendations=recommendations,
        )

    def profile(self, user_id: str) -> UserProfile:
        """The taste of ``user_id``: the ``profiles`` hook, else MovieLens ratings and thumbs.

        Args:
            user_id: Who is asking.

        Returns:
            The profile personalised answers use (read now).
        """
        from movie_rag.collab.profile import build_profile

        if self.profiles is not None:
            given = self.profiles(user_id)
            if given is not None:
                return given
        return build_profile(
            user_id,
            self.collab,
            self.feedback,
            like_threshold=self.settings.collab_like_threshold,
        )


def _response_of(events: Iterator[_Event]) -> RecommendationResponse:
    response = None
    for event in events:
        if event.name == "done":
            response = event.data
    assert response is not None
    return cast("RecommendationResponse", response)


def _merged(values: list[Any]) -> Any:
    # Input chunks from an upstream step add up (LangChain's transform contract); values
    # that do not add (dicts, strings of different requests) are replaced by the latest.
    merged: Any = None
    for number, value in enumerate(values):
        if number == 0:
            merged = value
            continue
        try:
            merged = merged + value
        except TypeError:
            merged = value
    return merged


def _traced_input(raw: Any) -> Any:
    if isinstance(raw, BaseModel):
        return raw.model_dump(mode="json")
    return dict(raw) if isinstance(raw, Mapping) else raw


def _public_parse(parsed: ParsedQuery) -> dict[str, Any]:
    return {
        "filters": filters_dict(parsed.filters),
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
        rating=meta.get("rating"),
        poster_path=meta.get("poster_path"),
        in_catalog=True,
    )
