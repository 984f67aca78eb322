"""Evaluation protocols: the queries, their ground truth and every parameter that fixes them.

Offline protocols on MovieLens, all deterministic given :class:`ProtocolParams`:

``tags``
    Natural-language queries built from MovieLens user tags ("Recommend some heist movies").
    A tag qualifies when, case-insensitively, it is on at least ``tag_min_movies`` and at most
    ``tag_max_movies`` movies and is not a bookkeeping tag (``in netflix queue``...); up to
    ``tag_queries`` of them are drawn with ``seed``. Every row of a drawn tag is held out of
    the evaluation build; the relevant movies are the movies carrying the tag.

``similar``
    "I liked 'X'. Anything similar?" for held-out (test) users. Users are split with
    :func:`~movie_rag.evaluation.splits.split_users`; the build sees only the training users'
    ratings. For each test user with at least ``similar_min_truth + 1`` liked movies (rating
    >= ``like_threshold``), one liked movie that at least ``seed_min_train_ratings`` training
    users rated is drawn (``seed``) as X; the relevant movies are the user's other liked
    movies.

``similar-specific``
    "I liked X" again, judged on what the held-out users who liked X liked beyond its
    popularity (:mod:`movie_rag.evaluation.lift`).

``grounding``
    A fixed mix of the two query kinds above, answered by the chain through an LLM (the
    ``chain-llm`` system, only when an LLM is configured): the share of returned titles that
    are real catalogue movies, and of the titles the LLM named.

New protocols (issue 07's per-user protocol, say) implement :class:`EvalProtocol` and are
added to :data:`PROTOCOLS` in one line.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from movie_rag.ingest.movielens import normalize_user_tag

if TYPE_CHECKING:
    from movie_rag.evaluation.systems import EvalContext

__all__ = [
    "PROTOCOLS",
    "EvalProtocol",
    "EvalQuery",
    "GroundingProtocol",
    "ProtocolParams",
    "SimilarMovieProtocol",
    "TagQueryProtocol",
    "heldout_tags",
]

#: Tags that say what a user did with a movie, not what the movie is.
BOOKKEEPING_TAGS: frozenset[str] = frozenset(
    {
        "in netflix queue",
        "imdb top 250",
        "seen more than once",
        "seen at the cinema",
        "dvd",
        "bd-r",
        "bd-video",
        "netflix",
        "watched",
        "to see",
        "own",
        "favorites",
        "must see",
    }
)


class ProtocolParams(BaseModel):
    """Every parameter that fixes the evaluation, so numbers compare run to run.

    The defaults are the full protocol whose numbers are in the docs; :meth:`reduced` is the
    CI protocol (fewer queries, same rules).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(42, description="Seed of the user split and of every draw.")
    validation_fraction: float = Field(0.1, description="Share of users held out for tuning.")
    test_fraction: float = Field(0.2, description="Share of users held out for evaluation.")
    k: int = Field(10, ge=1, le=50, description="Recommendations per query (metrics @k).")
    like_threshold: float = Field(4.0, description="A rating at or above this is a like.")
    tag_min_movies: int = Field(5, ge=1, description="A query tag is on at least this many movies.")
    tag_max_movies: int = Field(50, ge=1, description="... and at most this many.")
    tag_queries: int = Field(150, ge=1, description="Most tag queries drawn.")
    tag_template: str = Field("Recommend some {tag} movies", description="Tag query text.")
    similar_min_truth: int = Field(
        5, ge=1, description="A test user needs this many liked movies besides the seed."
    )
    seed_min_train_ratings: int = Field(
        5, ge=0, description="The seed movie has at least this many training ratings."
    )
    similar_queries: int | None = Field(
        None, ge=1, description="Most similar-movie queries (None: one per eligible test user)."
    )
    similar_template: str = Field(
        "I liked '{title}'. Anything similar?", description="Similar-movie query text."
    )
    specific_min_likers: int = Field(
        5, ge=1, description="similar-specific: held-out users who liked the seed, at least."
    )
    specific_min_co_likes: int = Field(
        2, ge=1, description="similar-specific: a relevant movie's co-likes with the seed."
    )
    specific_min_lift: float = Field(
        2.0, gt=0.0, description="similar-specific: a relevant movie's lift over popularity."
    )
    specific_queries: int | None = Field(
        None, ge=1, description="Most similar-specific queries (None: one per eligible seed)."
    )
    grounding_queries: int = Field(
        60, ge=1, description="Queries of the adversarial-LLM grounding protocol."
    )

    judge_queries: int = Field(
        20, ge=1, description="Answers per protocol scored by the LLM judges (when configured)."
    )

    @classmethod
    def reduced(cls, **overrides: object) -> ProtocolParams:
        """The CI protocol: the same rules on 30 tag, 40 similar, 150 similar-specific queries."""
        values: dict[str, object] = {
            "tag_queries": 30,
            "similar_queries": 40,
            "specific_queries": 150,
            "grounding_queries": 20,
            "judge_queries": 5,
        }
        values.update(overrides)
        return cls.model_validate(values)


@dataclass(frozen=True)
class EvalQuery:
    """One evaluation query with its ground truth.

    Attributes:
        query: What a user would type.
        seed_movie_ids: Movies the query names ("I liked X"); empty for free text.
        user_id: The (held-out) MovieLens user behind the query, as a string, if any.
        relevant: Movies that count as hits.
        exclude: Movies a system must not be credited for (the seed itself).
        label: A short key for reports (the tag, or ``user:seed``).
    """

    query: str
    seed_movie_ids: list[int] = field(default_factory=list)
    user_id: str | None = None
    relevant: frozenset[int] = frozenset()
    exclude: frozenset[int] = frozenset()
    label: str = ""


class EvalProtocol(Protocol):
    """A named way of producing evaluation queries from an :class:`EvalContext`."""

    name: str
    description: str

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        """The protocol's queries (deterministic for given context and parameters)."""
        ...


def heldout_tags(tags: pa.Table, params: ProtocolParams) -> dict[str, frozenset[int]]:
    """The query tags of the ``tags`` protocol and the movies carrying each.

    Args:
        tags: MovieLens tags (``movie_id``, ``tag``), all users.
        params: The protocol parameters.

    Returns:
        Normalised tag → movie ids, in draw order; these tags are held out of the build.
    """
    movies_by_tag: dict[str, set[int]] = defaultdict(set)
    for movie_id, tag in zip(
        tags.column("movie_id").to_pylist(), tags.column("tag").to_pylist(), strict=True
    ):
        key = normalize_user_tag(str(tag))
        if key:
            movies_by_tag[key].add(int(movie_id))
    eligible = sorted(
        tag
        for tag, movies in movies_by_tag.items()
        if params.tag_min_movies <= len(movies) <= params.tag_max_movies
        and tag not in BOOKKEEPING_TAGS
    )
    drawn = random.Random(params.seed).sample(eligible, min(params.tag_queries, len(eligible)))
    return {tag: frozenset(movies_by_tag[tag]) for tag in drawn}


def without_tags(tags: pa.Table, held_out: Mapping[str, object]) -> pa.Table:
    """``tags`` minus every row of a held-out tag (compared after normalisation)."""
    keys = [normalize_user_tag(str(t)) for t in tags.column("tag").to_pylist()]
    keep = pa.array([key not in held_out for key in keys], type=pa.bool_())
    return tags.filter(keep)


class TagQueryProtocol:
    """Free-text queries from held-out user tags; relevant = movies carrying the tag."""

    name = "tags"
    description = "queries built from held-out MovieLens user tags"

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        """One query per held-out tag whose movies are in the catalogue."""
        catalogue = context.catalogue_ids
        out = []
        for tag, movies in context.heldout_tags.items():
            relevant = frozenset(m for m in movies if m in catalogue)
            if len(relevant) < context.params.tag_min_movies:
                continue
            out.append(
                EvalQuery(
                    query=context.params.tag_template.format(tag=tag),
                    relevant=relevant,
                    label=tag,
                )
            )
        return out


class SimilarMovieProtocol:
    """Queries "I liked X" for held-out users; relevant = the user's other liked movies."""

    name = "similar"
    description = "'I liked X' queries, truth = co-liked movies of held-out users"

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        """At most one query per eligible test user, in user-id order."""
        params = context.params
        train_counts = context.rating_counts
        test = context.split.test_ratings(context.ratings)
        liked = test.filter(pc.greater_equal(test.column("rating"), params.like_threshold))
        likes: dict[int, set[int]] = defaultdict(set)
        for user, movie in zip(
            liked.column("user_id").to_pylist(), liked.column("movie_id").to_pylist(), strict=True
        ):
            if movie in context.catalogue_ids:
                likes[int(user)].add(int(movie))
        rng = random.Random(params.seed)
        out = []
        for user in sorted(likes):
            movies = sorted(likes[user])
            seeds = [m for m in movies if train_counts.get(m, 0) >= params.seed_min_train_ratings]
            if len(movies) < params.similar_min_truth + 1 or not seeds:
                continue
            seed = rng.choice(seeds)
            relevant = frozenset(movies) - {seed}
            if len(relevant) < params.similar_min_truth:
                continue
            out.append(
                EvalQuery(
                    query=params.similar_template.format(title=context.display_title(seed)),
                    seed_movie_ids=[seed],
                    user_id=str(user),
                    relevant=relevant,
                    exclude=frozenset({seed}),
                    label=f"{user}:{seed}",
                )
            )
        if params.similar_queries is not None:
            out = out[: params.similar_queries]
        return out


class GroundingProtocol:
    """A mix of tag and similar-movie queries for a chain whose answers an LLM writes.

    Run with an adversarial LLM (one that invents titles, mangles real ones, injects) the
    ``grounding`` column says what share of returned titles are real catalogue movies, and
    the LLM system adds the share of titles the LLM itself named that were real.
    """

    name = "grounding"
    description = "tag and similar-movie queries answered through an LLM"

    def queries(self, context: EvalContext) -> list[EvalQuery]:
        """Tag and similar-movie queries alternately, ``grounding_queries`` in all."""
        tags = TagQueryProtocol().queries(context)
        similar = SimilarMovieProtocol().queries(context)
        mixed = [q for pair in zip(tags, similar, strict=False) for q in pair]
        longer = tags if len(tags) > len(similar) else similar
        mixed += longer[min(len(tags), len(similar)) :]
        return mixed[: context.params.grounding_queries]


#: Protocol registry: name → protocol. Add one with ``PROTOCOLS["per-user"] = MyProtocol()``.
PROTOCOLS: dict[str, EvalProtocol] = {
    "tags": TagQueryProtocol(),
    "similar": SimilarMovieProtocol(),
    "grounding": GroundingProtocol(),
}
