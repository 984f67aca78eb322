"""Systems under evaluation: our chain and the baselines, behind one small interface.

A system is anything with a ``name`` and ``recommend(query, k) -> list[int]`` (movie ids, best
first). It is built by a factory from an :class:`EvalContext`, which carries the evaluation
build (settings and workdir, ``movies_info``), the training ratings, the user split and the
fixed protocol parameters. Systems must learn only from ``train_ratings`` and the catalogue;
``ratings`` (all users) is there for protocols to draw ground truth from.

The registry :data:`SYSTEMS` maps a name to a factory; issue 07 adds its systems in one line::

    SYSTEMS["hybrid"] = build_hybrid  # def build_hybrid(context: EvalContext) -> RecommenderSystem

A system may set ``protocols`` (a set of protocol names) when it only makes sense for some
(item-kNN needs a seed movie); the harness reports it as not applicable elsewhere.

Baselines:

``random``
    k catalogue movies drawn uniformly, seeded per query.
``popularity``
    The most-rated movies among training users.
``bm25``
    Okapi BM25 over the same ``document`` texts the index embeds; the query text for free
    text, the seed movies' documents for "I liked X".
``item-knn``
    Item neighbours from co-likes of training users (:mod:`movie_rag.collab.item_knn`, the one
    implementation shared with the collaborative signal).
``chain-llm``
    The same chain with the LLM the settings configure (``llm_provider``), run only on the
    ``grounding`` protocol; unavailable when no LLM is configured.
``chain``
    :class:`~movie_rag.chain.recommender.RecommenderChain` over the evaluation build, with the
    grounded generator (or the LLM the settings configure), assembled by
    :func:`~movie_rag.chain.assembly.assemble_chain` like every other chain.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from movie_rag.catalog.visibility import restrict
from movie_rag.errors import MovieRagError
from movie_rag.evaluation.protocols import EvalQuery, ProtocolParams
from movie_rag.evaluation.splits import UserSplit
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from movie_rag.chain.generators.base import Generator
    from movie_rag.index.embeddings import TextEncoder

__all__ = [
    "SYSTEMS",
    "EvalContext",
    "RecommenderSystem",
    "SystemFactory",
    "SystemUnavailable",
    "build_bm25",
    "build_chain",
    "build_item_knn",
    "build_popularity",
    "build_random",
]


class SystemUnavailable(MovieRagError):
    """A system cannot be built here (no LLM configured, say); the run reports why."""


class RecommenderSystem(Protocol):
    """What the harness evaluates."""

    name: str

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """Up to ``k`` movie ids for ``query``, best first."""
        ...


@dataclass
class EvalContext:
    """Everything a system factory or a protocol may use.

    Attributes:
        settings: Settings of the evaluation build (its workdir holds the held-out
            ``movies_info`` and index).
        catalogue: ``movies_info`` of the evaluation build (Arrow).
        train_ratings: Ratings of the training users only: what systems may learn from.
        split: The user split.
        params: The fixed protocol parameters.
        ratings: Ratings of all users (ground truth for protocols; never for systems).
        heldout_tags: Tags held out of the build → movies carrying them.
    """

    settings: MovieRagSettings
    catalogue: pa.Table
    train_ratings: pa.Table
    split: UserSplit
    params: ProtocolParams
    ratings: pa.Table
    heldout_tags: dict[str, frozenset[int]] = field(default_factory=dict)

    @cached_property
    def catalogue_ids(self) -> frozenset[int]:
        """The movie ids of the catalogue."""
        return frozenset(int(m) for m in self.catalogue.column("movie_id").to_pylist())

    @cached_property
    def rating_counts(self) -> dict[int, int]:
        """Training rating count per movie."""
        return dict(Counter(int(m) for m in self.train_ratings.column("movie_id").to_pylist()))

    @cached_property
    def genres(self) -> dict[int, frozenset[str]]:
        """Genres per catalogue movie."""
        ids = self.catalogue.column("movie_id").to_pylist()
        genres = self.catalogue.column("genres").to_pylist()
        return {int(m): frozenset(g or ()) for m, g in zip(ids, genres, strict=True)}

    @cached_property
    def _titles(self) -> dict[int, tuple[str, int | None]]:
        ids = self.catalogue.column("movie_id").to_pylist()
        titles = self.catalogue.column("title").to_pylist()
        years = self.catalogue.column("year").to_pylist()
        return {int(m): (t, y) for m, t, y in zip(ids, titles, years, strict=True)}

    def display_title(self, movie_id: int) -> str:
        """``Title (Year)`` as a user would write it."""
        title, year = self._titles[movie_id]
        return f"{title} ({year})" if year else title

    @cached_property
    def n_train_users(self) -> int:
        """Number of training users."""
        return len(self.split.train_users)


SystemFactory = Callable[[EvalContext], RecommenderSystem]


class RandomSystem:
    """Uniformly random catalogue movies, reproducible per query."""

    name = "random"

    def __init__(self, catalogue_ids: frozenset[int], seed: int) -> None:
        self._ids = sorted(catalogue_ids)
        self._seed = seed

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """``k`` random movies, never an excluded one."""
        rng = random.Random(f"{self._seed}:{query.query}")
        picks: list[int] = []
        for movie_id in rng.sample(self._ids, min(len(self._ids), k + len(query.exclude))):
            if movie_id not in query.exclude:
                picks.append(movie_id)
        return picks[:k]


class PopularitySystem:
    """The most-rated movies among training users, the same list for every query."""

    name = "popularity"

    def __init__(self, rating_counts: dict[int, int], catalogue_ids: frozenset[int]) -> None:
        ranked = sorted(
            (m for m in rating_counts if m in catalogue_ids), key=lambda m: (-rating_counts[m], m)
        )
        self._ranked = ranked

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The top ``k`` not excluded."""
        out = []
        for movie_id in self._ranked:
            if movie_id not in query.exclude and movie_id not in query.seed_movie_ids:
                out.append(movie_id)
                if len(out) == k:
                    break
        return out


class BM25System:
    """Okapi BM25 over the catalogue's ``document`` texts (the same texts the index embeds)."""

    name = "bm25"

    def __init__(self, catalogue: pa.Table) -> None:
        from movie_rag.index._bm25 import BM25

        self._ids = np.asarray(catalogue.column("movie_id").to_pylist(), dtype=np.int64)
        documents = [d or "" for d in catalogue.column("document").to_pylist()]
        self._documents = dict(zip(self._ids.tolist(), documents, strict=True))
        self._bm25 = BM25(documents)

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """Best BM25 matches of the query text, or of the seeds' documents for "I liked X"."""
        if query.seed_movie_ids:
            text = " ".join(self._documents.get(m, "") for m in query.seed_movie_ids)
        else:
            text = query.query
        scores = self._bm25.scores(text)
        skip = set(query.exclude) | set(query.seed_movie_ids)
        order = np.argsort(-scores, kind="stable")
        out = []
        for row in order:
            if scores[row] <= 0.0:
                break
            movie_id = int(self._ids[row])
            if movie_id not in skip:
                out.append(movie_id)
                if len(out) == k:
                    break
        return out


class ItemKNNSystem:
    """Neighbours of the seed movies by co-likes among training users."""

    name = "item-knn"
    protocols = frozenset({"similar", "similar-specific"})

    def __init__(self, neighbours: Any) -> None:
        self._neighbours = neighbours

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The seeds' nearest neighbours (nothing for a query without seeds)."""
        if not query.seed_movie_ids:
            return []
        exclude = set(query.exclude) | set(query.seed_movie_ids)
        pairs = self._neighbours.similar_to(query.seed_movie_ids, k, exclude=exclude)
        return [int(movie_id) for movie_id, _ in pairs]


class ChainSystem:
    """The RecommenderChain over the evaluation build."""

    def __init__(self, chain: Any, name: str = "chain") -> None:
        self.chain = chain
        self.name = name

    def recommend(self, query: EvalQuery, k: int) -> list[int]:
        """The chain's recommendations; titles outside the catalogue come back as id 0."""
        request: dict[str, Any] = {"query": query.query, "k": k}
        if query.user_id is not None:
            request["user_id"] = query.user_id
        response = self.chain.invoke(request)
        return [r.movie_id if r.in_catalog else 0 for r in response.recommendations]


class MemoisedQueries:
    """A query encoder that embeds each distinct query text once per evaluation run.

    Every per-user query asks the same "Recommend me some movies" (the user's history, not
    the text, differs), so without this the chain re-encodes one sentence hundreds of times:
    most of the per-user protocol's time. The vectors are the same either way, so are the
    rankings; only the measured latency of a repeated text leaves out its encoding. Given to
    :func:`~movie_rag.chain.assembly.assemble_chain` as its ``query_encoder``.

    Args:
        inner: The index's encoder.
        size: Distinct texts kept (the memo starts over when full).
    """

    def __init__(self, inner: TextEncoder, size: int = 1024) -> None:
        self.inner = inner
        self.size = size
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def model_name(self) -> str:
        """The inner encoder's name (manifests and caches match it)."""
        return self.inner.model_name

    @property
    def dimension(self) -> int:
        """The inner encoder's dimension."""
        return self.inner.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Documents are encoded as the inner encoder does (never memoised)."""
        return self.inner.encode(texts)

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of ``text``, encoded once."""
        if text not in self._vectors:
            if len(self._vectors) >= self.size:
                self._vectors.clear()
            self._vectors[text] = self.inner.encode_query(text)
        return self._vectors[text].copy()


def build_random(context: EvalContext) -> RecommenderSystem:
    """The random baseline."""
    return RandomSystem(context.catalogue_ids, context.params.seed)


def build_popularity(context: EvalContext) -> RecommenderSystem:
    """The popularity baseline (training rating counts)."""
    return PopularitySystem(context.rating_counts, context.catalogue_ids)


def build_bm25(context: EvalContext) -> RecommenderSystem:
    """The BM25 baseline over the catalogue documents."""
    return BM25System(context.catalogue)


def build_item_knn(context: EvalContext) -> RecommenderSystem:
    """The item-kNN baseline, fitted on the training users' ratings."""
    from movie_rag.collab.item_knn import fit_item_knn

    neighbours = fit_item_knn(context.train_ratings, like_threshold=context.params.like_threshold)
    return ItemKNNSystem(neighbours)


def build_chain(context: EvalContext, generator: Generator | None = None) -> RecommenderSystem:
    """Our chain over the evaluation build (no Spark; reads the workdir)."""
    from movie_rag.chain.assembly import assemble_chain

    chain = assemble_chain(
        context.settings,
        generator=generator,
        movies_info=_public(context.catalogue),
        query_encoder=MemoisedQueries,
    )
    return ChainSystem(chain)


class _RecordingGenerator:
    """Passes generation through and counts how many LLM-named titles are real movies."""

    def __init__(self, inner: Generator, catalogue: Any) -> None:
        self.inner = inner
        self.catalogue = catalogue
        self.named = 0
        self.real = 0

    def generate(self, parsed: Any, candidates: Any, k: int, history: Any = None) -> Any:
        answer = self.inner.generate(parsed, candidates, k, history)
        for pick in answer.picks:
            self.named += 1
            if self.catalogue.resolve_title(pick.title, pick.year) is not None:
                self.real += 1
        return answer


class LLMChainSystem(ChainSystem):
    """The chain answering through an LLM, with the LLM's own grounding counted."""

    protocols = frozenset({"grounding"})

    def __init__(self, chain: Any, recorder: _RecordingGenerator) -> None:
        super().__init__(chain, name="chain-llm")
        self.recorder = recorder

    def extra_metrics(self) -> dict[str, float]:
        """Titles the LLM named and the share of them that are catalogue movies."""
        named = self.recorder.named
        return {
            "llm_titles": float(named),
            "llm_grounding": round(self.recorder.real / named, 6) if named else 1.0,
        }


def build_llm_chain(context: EvalContext) -> RecommenderSystem:
    """Our chain with the configured LLM writing the answers (``llm_provider``)."""
    from movie_rag.chain.assembly import assemble_chain, generator_from_settings
    from movie_rag.chain.catalogue import Catalogue

    llm = generator_from_settings(context.settings)
    if llm is None:
        raise SystemUnavailable(
            "no LLM configured (set MOVIE_RAG_LLM_PROVIDER=openai with MOVIE_RAG_LLM_BASE_URL, "
            "or databricks)"
        )
    catalogue = Catalogue(_public(context.catalogue))
    recorder = _RecordingGenerator(llm, catalogue)
    # The same parts as the grounded chain (collaborative model, feedback), another writer.
    chain = assemble_chain(
        context.settings, catalogue=catalogue, generator=recorder, query_encoder=MemoisedQueries
    )
    return LLMChainSystem(chain, recorder)


def _public(catalogue: pa.Table) -> pa.Table:
    return restrict(catalogue, "prompt")


#: System registry: name → factory. Baselines first, our chain last.
SYSTEMS: dict[str, SystemFactory] = {
    "random": build_random,
    "popularity": build_popularity,
    "bm25": build_bm25,
    "item-knn": build_item_knn,
    "chain": build_chain,
    "chain-llm": build_llm_chain,
}
