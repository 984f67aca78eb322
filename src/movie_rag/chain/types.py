"""Values that flow through the recommender chain (query in, grounded recommendations out)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from movie_rag.index.filters import SearchFilters

__all__ = [
    "Candidate",
    "FollowUp",
    "GeneratedAnswer",
    "HistoryTurn",
    "ParsedQuery",
    "Pick",
    "Recommendation",
    "RecommendationResponse",
    "SeedMovie",
]


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
    in_catalog: bool = True


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
        seed_text: The title as written when it could not be resolved.
        follow_up: A reference to an earlier answer, if any.
        off_topic: The request is not about movies.
        wants_best: The user asked for the best/top/highest rated (rating weighs more).
        avoid_genres: Genres the user ruled out ("no horror", "nothing too scary"): a soft
            penalty, since filters have no genre exclusion.
    """

    text: str
    filters: SearchFilters = Field(default_factory=SearchFilters)
    boost_terms: list[str] = Field(default_factory=list)
    boost_genres: list[str] = Field(default_factory=list)
    seed: SeedMovie | None = None
    seed_text: str | None = None
    follow_up: FollowUp | None = None
    off_topic: bool = False
    wants_best: bool = False
    avoid_genres: list[str] = Field(default_factory=list)


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
