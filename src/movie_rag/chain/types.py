"""Values that flow through the recommender chain (query in, grounded recommendations out)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from movie_rag.errors import DataValidationError
from movie_rag.index.filters import SearchFilters

__all__ = [
    "Candidate",
    "FollowUp",
    "GeneratedAnswer",
    "HistoryTurn",
    "ParsedQuery",
    "Pick",
    "Recommendation",
    "RecommendationInput",
    "RecommendationRequest",
    "RecommendationResponse",
    "RecommendationResponseChunk",
    "SeedMovie",
]

#: The most recommendations one request may ask for.
MAX_K = 50


#: Liked movies besides the seed that a "like X" request combines.
MAX_MORE_SEEDS = 3


class Recommendation(BaseModel):
    """One recommended movie, as users and the UI see it.

    Attributes:
        movie_id: The movies_info key (0 for a title that is not on the platform).
        title: Display title.
        year: Release year, or None.
        genres: MovieLens genres.
        reason: Why it fits the request, from the movie's own record.
        url: IMDb page, or None.
        score: Ranking score, higher is better.
        rating: The catalogue's rating on the 0-10 scale (IMDb's where known, else the
            MovieLens average scaled), or None.
        poster_path: TMDB poster image path (``/abc.jpg``), or None; the UI joins it to
            its poster base URL.
        in_catalog: False only for titles an LLM named that the platform does not have
            (kept and labelled when ``allow_outside_catalog`` is on).
    """

    movie_id: int
    title: str
    year: int | None = None
    genres: list[str] = Field(default_factory=list)
    reason: str = ""
    url: str | None = None
    score: float = 0.0
    rating: float | None = None
    poster_path: str | None = None
    in_catalog: bool = True

    @field_validator("rating", mode="before")
    @classmethod
    def _finite_rating(cls, value: Any) -> float | None:
        # The catalogue holds a missing rating as null or NaN; neither is a rating.
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return round(number, 2) if math.isfinite(number) else None


class RecommendationResponse(BaseModel):
    """What ``RecommenderChain.invoke`` returns and ``movie-rag recommend --json`` prints.

    Attributes:
        query: The user's question (PII redacted).
        answer: The answer text; it names only the movies in ``recommendations``.
        filters: The hard constraints understood from the query (SearchFilters fields that
            are set).
        recommendations: Best first, de-duplicated.
    """

    query: str
    answer: str
    filters: dict[str, Any] = Field(default_factory=dict)
    recommendations: list[Recommendation] = Field(default_factory=list)


class RecommendationResponseChunk(RecommendationResponse):
    """A piece of a streamed :class:`RecommendationResponse`; pieces add up to the response.

    ``RecommenderChain.stream`` yields one chunk per recommendation (best first), then one
    with the answer text. ``+`` concatenates ``recommendations`` and ``answer`` and keeps
    the first ``query`` and the latest ``filters``, so summing the chunks gives what
    ``invoke`` returns (as LangChain's message chunks do).

    Example:
        >>> a = RecommendationResponseChunk(query="q", answer="Here ")
        >>> (a + RecommendationResponseChunk(query="q", answer="you go.")).answer
        'Here you go.'
    """

    answer: str = ""

    def __add__(self, other: object) -> RecommendationResponseChunk:
        if not isinstance(other, RecommendationResponse):
            return NotImplemented
        return RecommendationResponseChunk(
            query=self.query or other.query,
            answer=self.answer + other.answer,
            filters=other.filters or self.filters,
            recommendations=[*self.recommendations, *other.recommendations],
        )

    def to_response(self) -> RecommendationResponse:
        """The plain response these chunks add up to."""
        return RecommendationResponse.model_validate(self.model_dump())


class SeedMovie(BaseModel):
    """The catalogue movie a "like X" request points at."""

    model_config = ConfigDict(frozen=True)

    movie_id: int
    title: str
    year: int | None = None
    written_as: str = Field("", description="The title as the user wrote it.")


class FollowUp(BaseModel):
    """A follow-up that refers to an earlier answer.

    Attributes:
        kind: ``more_like`` ("more like the second one"), ``lighter`` / ``darker`` (mood
            shift), ``more`` ("show me more", excludes what was shown), ``other``.
        position: 0-based index into the previous recommendations, for ``more_like``.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["more_like", "lighter", "darker", "more", "other"]
    position: int | None = None


class ParsedQuery(BaseModel):
    """What the deterministic query parser understood.

    Attributes:
        text: The query with PII redacted (what may reach an LLM or a log).
        filters: Explicit constraints (genres, years, rating, people) as index filters.
        boost_terms: Vibes ("feel-good", "to chill with friends") expanded into words that
            softly boost matching movies; they never filter.
        boost_genres: Genres a vibe suggests (soft, like boost_terms).
        seed: The movie of a "like X" request, resolved in the catalogue.
        more_seeds: Further liked movies of the request ("I liked A and B"): their co-likes
            add to the seed's.
        negative_seeds: Movies the request rules out ("... but not C"): never recommended,
            and what their fans co-like is pushed down.
        seed_text: The title as written when it could not be resolved.
        follow_up: A reference to an earlier answer, if any.
        off_topic: The request is not about movies.
        wants_best: The user asked for the best/top/highest rated (rating weighs more).
        open_ask: The request names nothing in particular (small talk, "recommend me
            some"): well-known, well-liked films, or the user's own taste when it is known.
        avoid_genres: Genres the user ruled out ("no horror", "nothing too scary"): a soft
            penalty, since filters have no genre exclusion.
        liked: Every movie the user said they liked ("I loved X", "Easy A (2010)"), the
            seed first when it is one of them.
        disliked: Movies the user did not like or ruled out ("X was boring", "not X").
        seen: Movies the user has seen ("I've seen Y"). Liked, disliked and seen movies are
            never recommended (they are in ``filters.exclude_ids``).
        unclear: Nothing in the request could be read (gibberish): ask to rephrase.
        search_text: The words left to match against the catalogue: ``text`` without the
            titles named (a disliked "Pulp Fiction" must not match its own overview) and
            without greetings; None means ``text``.
    """

    text: str
    filters: SearchFilters = Field(default_factory=SearchFilters)
    boost_terms: list[str] = Field(default_factory=list)
    boost_genres: list[str] = Field(default_factory=list)
    seed: SeedMovie | None = None
    more_seeds: list[SeedMovie] = Field(default_factory=list)
    negative_seeds: list[SeedMovie] = Field(default_factory=list)
    seed_text: str | None = None
    follow_up: FollowUp | None = None
    off_topic: bool = False
    wants_best: bool = False
    open_ask: bool = False
    avoid_genres: list[str] = Field(default_factory=list)
    liked: list[SeedMovie] = Field(default_factory=list)
    disliked: list[SeedMovie] = Field(default_factory=list)
    seen: list[SeedMovie] = Field(default_factory=list)
    unclear: bool = False
    search_text: str | None = None

    def with_seed_set(self, limit: int = MAX_MORE_SEEDS) -> ParsedQuery:
        """This query with ``more_seeds`` and ``negative_seeds`` read off its movies.

        A "like X" request also leans on the other movies the user liked (up to ``limit``,
        the latest named first) and away from the ones they disliked.

        Args:
            limit: How many liked movies besides the seed join it.

        Returns:
            A copy; without a seed, only the disliked movies are set.
        """
        more: list[SeedMovie] = []
        if self.seed is not None:
            seed_id = self.seed.movie_id
            more = [m for m in self.liked if m.movie_id != seed_id][:limit]
        return self.model_copy(update={"more_seeds": more, "negative_seeds": list(self.disliked)})


class HistoryTurn(BaseModel):
    """One earlier turn of a conversation, as a client sends it back.

    Attributes:
        role: ``user`` or ``assistant``.
        content: The text.
        recommendations: Movie ids the assistant recommended in that turn, in order.
    """

    role: Literal["user", "assistant"]
    content: str = ""
    recommendations: list[int] = Field(default_factory=list)


class Candidate(BaseModel):
    """A retrieved movie with its ranking score and its catalogue record.

    Attributes:
        movie_id: The movies_info key.
        score: Blended ranking score, higher is better.
        metadata: The movie's public movies_info columns (no user_tags).
        scores: The blend's components (``similarity``, ``rating``, ``popularity``, ...).
    """

    movie_id: int
    score: float
    metadata: dict[str, Any] = Field(default_factory=dict)
    scores: dict[str, float] = Field(default_factory=dict)


class Pick(BaseModel):
    """One movie a generator chose, before grounding.

    Attributes:
        title: The title as the generator wrote it.
        year: The year it gave, if any.
        movie_id: The catalogue id when the generator knows it (grounded generator).
        reason: Why it fits.
    """

    title: str
    year: int | None = None
    movie_id: int | None = None
    reason: str = ""


class GeneratedAnswer(BaseModel):
    """A generator's raw output: an introduction and its picks (titles not yet verified)."""

    intro: str = ""
    picks: list[Pick] = Field(default_factory=list)
    refusal: str | None = None


class RecommendationRequest(BaseModel):
    """One question to the recommender: the request model every caller builds.

    The chain (``RecommenderChain.invoke``), the served model, the UI backends, the endpoint
    client and ``movie-rag recommend`` all build this; :meth:`from_input` also reads the
    plain forms (a question string, or a mapping with these keys, ``filters`` possibly a
    JSON string) and reports a bad value as one :class:`~movie_rag.errors.DataValidationError`
    naming the field.

    Attributes:
        query: The question (not blank).
        history: Earlier turns of the conversation, oldest first.
        user_id: Who is asking (a MovieLens user id or any UI user name); personalises.
        filters: Hard constraints that tighten what the question says (UI sidebar, API).
        k: How many recommendations (1-50); None takes ``settings.default_k``.

    Example:
        >>> request = RecommendationRequest.from_input({"query": "space opera", "k": "3"})
        >>> request.k, request.filters
        (3, None)
        >>> RecommendationRequest(query="heist movies", user_id=42).user_id
        '42'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    query: str
    history: list[HistoryTurn] = Field(default_factory=list)
    user_id: str | None = None
    filters: SearchFilters | None = None
    k: int | None = None

    @field_validator("query", mode="before")
    @classmethod
    def _query(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("the question is empty")
        return value

    @field_validator("history", mode="before")
    @classmethod
    def _history(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("user_id", mode="before")
    @classmethod
    def _user_id(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"user_id must be a string or an integer, got {type(value).__name__}")
        return str(value).strip() or None

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else None
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc.msg}") from None
        if value is not None and not isinstance(value, SearchFilters | Mapping):
            raise ValueError(f"expected SearchFilters fields, got {type(value).__name__}")
        return value

    @field_validator("k", mode="before")
    @classmethod
    def _k(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValueError(f"k must be a whole number, got {value!r}")
        try:
            k = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"k must be a whole number, got {value!r}") from None
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        return k

    @classmethod
    def from_input(cls, raw: RecommendationInput) -> RecommendationRequest:
        """The request ``raw`` describes: a request, a question, or a mapping of its fields.

        Args:
            raw: A :class:`RecommendationRequest`, a question string, or a mapping with
                ``query`` and optionally ``history``, ``user_id``, ``filters``, ``k``
                (other keys are ignored, as the served model's extra columns are).

        Returns:
            The validated request.

        Raises:
            DataValidationError: A field has a bad value (the message names it).
        """
        if isinstance(raw, RecommendationRequest):
            return raw
        if isinstance(raw, str):
            raw = {"query": raw}
        if not isinstance(raw, Mapping):
            raise DataValidationError(
                f"expected a question or a mapping with 'query', got {type(raw).__name__}",
                field="query",
            )
        fields = {name: raw[name] for name in cls.model_fields if name in raw}
        fields.setdefault("query", None)
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise _data_error(exc) from None

    def resolved_k(self, default: int) -> int:
        """``k``, or ``default`` when the request leaves it open."""
        return self.k if self.k is not None else default

    def to_payload(self) -> dict[str, Any]:
        """The request as JSON-ready fields, unset ones left out (what an endpoint expects)."""
        payload: dict[str, Any] = {"query": self.query}
        if self.history:
            payload["history"] = [turn.model_dump(mode="json") for turn in self.history]
        if self.filters is not None:
            payload["filters"] = self.filters.model_dump(mode="json", exclude_none=True)
        if self.user_id is not None:
            payload["user_id"] = self.user_id
        if self.k is not None:
            payload["k"] = self.k
        return payload


#: What ``RecommenderChain`` accepts as input.
RecommendationInput = RecommendationRequest | str | Mapping[str, Any]


def _data_error(exc: ValidationError) -> DataValidationError:
    error = exc.errors()[0]
    location = [str(part) for part in error.get("loc", ())]
    field = location[0] if location else "query"
    cause = (error.get("ctx") or {}).get("error")
    message = str(cause) if isinstance(cause, ValueError) else str(error.get("msg", exc))
    if field == "filters" and len(location) > 1:
        message = f"{'.'.join(location[1:])}: {message}"
    return DataValidationError(message, field=field)
