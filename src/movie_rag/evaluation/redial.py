"""Conversational evaluation on ReDial dialogues: what a seeker said → what they accepted.

ReDial (Li et al., 2018, CC BY 4.0) pairs a *seeker* asking for movies with a crowd-worker
*recommender*; after the chat both fill in a form per mentioned movie (suggested, seen,
liked). The extraction here (:func:`extract_cases`):

- the **request** is the seeker's messages before the recommender's first message that
  names a movie, each ``@<id>`` placeholder written back as the movie's name (``"Whip It
  (2009)"``), in order — greetings, typos and all;
- the **truth** is every movie the recommender named from that message on that the form says
  was suggested and the seeker liked, mapped to a MovieLens id by title (and year when the
  mention has one); movies the seeker named in the request are left out of the truth;
- the **seeds** (for the item-kNN and BM25 baselines only) are the movies the seeker named in
  the request that the form says they liked.

A case whose truth maps to no catalogue movie is dropped; :class:`MatchStats` reports how many
mentions and accepted suggestions mapped (the *match rate*).

Systems answer ``recommend(case, k) -> list[int]`` (:class:`ConversationalSystem`). The
baselines are :class:`PopularityBaseline` (most-rated movies), :class:`BM25Baseline` (the
request text, or the seeds' documents when the seeker named liked movies) and
:class:`ItemKNNBaseline` (cosine item-kNN neighbours of the seeds, popularity when there are
none); :class:`ChainConversation` asks a :class:`~movie_rag.chain.recommender.RecommenderChain`
with the earlier seeker messages as the history and the last one as the query.
:func:`evaluate` scores them (nDCG@k, recall@k, HR@k, empty answers), and
:func:`ndcg_ratio_interval` says how far a ratio of two systems' nDCG can be trusted on so
few cases (a paired bootstrap over the cases).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from movie_rag.evaluation.metrics import hit_rate_at_k, ndcg_at_k, recall_at_k

if TYPE_CHECKING:
    import pyarrow as pa

    from movie_rag.chain.catalogue import Catalogue

__all__ = [
    "BM25Baseline",
    "ChainConversation",
    "ConversationalResult",
    "ConversationalSystem",
    "ItemKNNBaseline",
    "MatchStats",
    "PopularityBaseline",
    "RedialCase",
    "RedialDialogue",
    "evaluate",
    "extract_cases",
    "load_dialogues",
    "ndcg_ratio_interval",
]

_MENTION = re.compile(r"@(\d+)")
_YEAR = re.compile(r"\((\d{4})\)\s*$")
#: A mention maps to a catalogue movie when its title matches this well (0-100).
MIN_TITLE_SCORE = 90.0


@dataclass(frozen=True)
class RedialDialogue:
    """One ReDial dialogue as the file holds it (the parts the extraction reads).

    Attributes:
        conversation_id: ReDial's id.
        seeker: The seeker's worker id.
        messages: ``(sender worker id, text)`` in order, ``@<id>`` placeholders kept.
        mentions: ReDial movie id → its name (``"Title (Year)"``, spaces normalised).
        answers: ReDial movie id → the seeker's form (``suggested``, ``seen``, ``liked``).
    """

    conversation_id: str
    seeker: int
    messages: tuple[tuple[int, str], ...]
    mentions: Mapping[str, str]
    answers: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class RedialCase:
    """One conversational request and the movies that would have been accepted.

    Attributes:
        conversation_id: ReDial's id.
        messages: The seeker's messages before the first suggestion, movie names written in.
        truth: MovieLens ids of the suggestions the seeker liked.
        seeds: MovieLens ids of movies the seeker named and liked (baselines only).
        named: MovieLens ids of every movie the seeker named (never counted as truth).
    """

    conversation_id: str
    messages: tuple[str, ...]
    truth: frozenset[int]
    seeds: tuple[int, ...] = ()
    named: frozenset[int] = frozenset()

    @property
    def text(self) -> str:
        """The request as one text (messages joined by ``". "``)."""
        return ". ".join(m.strip().rstrip(".") for m in self.messages if m.strip())


@dataclass
class MatchStats:
    """How much of the dialogues mapped to the catalogue.

    Attributes:
        dialogues: Dialogues read.
        with_request: Dialogues with a seeker message before the first suggestion.
        accepted: Suggestions the seeker liked (in those dialogues).
        accepted_matched: Of those, mapped to a catalogue movie.
        cases: Cases kept (a request and at least one mapped accepted suggestion).
    """

    dialogues: int = 0
    with_request: int = 0
    accepted: int = 0
    accepted_matched: int = 0
    cases: int = 0

    @property
    def match_rate(self) -> float:
        """Share of accepted suggestions mapped to a catalogue movie."""
        return self.accepted_matched / self.accepted if self.accepted else 0.0


def load_dialogues(path: str | Path) -> list[RedialDialogue]:
    """ReDial dialogues from a ``.jsonl`` or ``.jsonl.gz`` file.

    Args:
        path: The file.

    Returns:
        The dialogues, in file order.
    """
    path = Path(path)
    opener: Any = gzip.open if path.suffix == ".gz" else open
    dialogues = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            answers = row.get("initiatorQuestions") or row.get("respondentQuestions") or {}
            named = row.get("movieMentions") or {}
            mentions = {str(k): " ".join(str(v).split()) for k, v in named.items()}
            dialogues.append(
                RedialDialogue(
                    conversation_id=str(row.get("conversationId")),
                    seeker=int(row["initiatorWorkerId"]),
                    messages=tuple(
                        (int(m["senderWorkerId"]), str(m.get("text") or ""))
                        for m in row.get("messages") or ()
                    ),
                    mentions=mentions,
                    answers={str(k): dict(v) for k, v in answers.items()},
                )
            )
    return dialogues


def _written(text: str, mentions: Mapping[str, str]) -> str:
    return _MENTION.sub(lambda m: mentions.get(m.group(1), m.group(0)), text)


def _movie_id(name: str, catalogue: Catalogue, cache: dict[str, int | None]) -> int | None:
    if name in cache:
        return cache[name]
    year_match = _YEAR.search(name)
    year = int(year_match.group(1)) if year_match else None
    bare = name[: year_match.start()].strip() if year_match else name
    ref = catalogue.resolve_title(bare, year) if bare else None
    found = None
    # A wrong year in the mention ("Click (2010)") still names the film; a title that
    # matched only another film's prefix must agree on the year.
    if (
        ref is not None
        and ref.score >= MIN_TITLE_SCORE
        and (ref.score == 100 or year is None or ref.year is None or abs(ref.year - year) <= 1)
    ):
        found = ref.movie_id
    cache[name] = found
    return found


def extract_cases(
    dialogues: Iterable[RedialDialogue], catalogue: Catalogue
) -> tuple[list[RedialCase], MatchStats]:
    """The conversational cases of the dialogues, and how well they mapped.

    Args:
        dialogues: ReDial dialogues.
        catalogue: Where mentions are looked up by title.

    Returns:
        The cases (request, truth, seeds) and the match statistics.
    """
    stats = MatchStats()
    cases: list[RedialCase] = []
    cache: dict[str, int | None] = {}
    for dialogue in dialogues:
        stats.dialogues += 1
        first = next(
            (
                i
                for i, (sender, text) in enumerate(dialogue.messages)
                if sender != dialogue.seeker and _MENTION.search(text)
            ),
            None,
        )
        if first is None:
            continue
        before = [t for s, t in dialogue.messages[:first] if s == dialogue.seeker and t.strip()]
        if not before:
            continue
        stats.with_request += 1
        named_redial = {m for t in before for m in _MENTION.findall(t)}
        suggested = {
            m
            for s, t in dialogue.messages[first:]
            if s != dialogue.seeker
            for m in _MENTION.findall(t)
        }
        named: set[int] = set()
        seeds: list[int] = []
        for redial_id in sorted(named_redial):
            movie_id = _movie_id(dialogue.mentions.get(redial_id, ""), catalogue, cache)
            if movie_id is None:
                continue
            named.add(movie_id)
            if dialogue.answers.get(redial_id, {}).get("liked") == 1 and movie_id not in seeds:
                seeds.append(movie_id)
        truth: set[int] = set()
        for redial_id in sorted(suggested - named_redial):
            answer = dialogue.answers.get(redial_id, {})
            if answer.get("suggested") != 1 or answer.get("liked") != 1:
                continue
            stats.accepted += 1
            movie_id = _movie_id(dialogue.mentions.get(redial_id, ""), catalogue, cache)
            if movie_id is not None:
                stats.accepted_matched += 1
                if movie_id not in named:
                    truth.add(movie_id)
        if not truth:
            continue
        cases.append(
            RedialCase(
                conversation_id=dialogue.conversation_id,
                messages=tuple(_written(t, dialogue.mentions) for t in before),
                truth=frozenset(truth),
                seeds=tuple(seeds),
                named=frozenset(named),
            )
        )
    stats.cases = len(cases)
    return cases, stats


class ConversationalSystem(Protocol):
    """What :func:`evaluate` scores."""

    name: str

    def recommend(self, case: RedialCase, k: int) -> list[int]:
        """Up to ``k`` movie ids for the case's request, best first."""
        ...


def _top(ranked: Iterable[int], skip: Iterable[int], k: int) -> list[int]:
    skipped = set(skip)
    out: list[int] = []
    for movie_id in ranked:
        if movie_id not in skipped:
            out.append(movie_id)
            if len(out) == k:
                break
    return out


class PopularityBaseline:
    """The most-rated movies, the same list for every request (named movies left out).

    Args:
        ratings: MovieLens ratings (``movie_id`` column).
        catalogue_ids: The movies that may be recommended.
    """

    name = "popularity"

    def __init__(self, ratings: pa.Table, catalogue_ids: Iterable[int]) -> None:
        allowed = set(catalogue_ids)
        counts = Counter(int(m) for m in ratings.column("movie_id").to_pylist())
        self.counts = counts
        self.ranked = sorted((m for m in counts if m in allowed), key=lambda m: (-counts[m], m))

    def recommend(self, case: RedialCase, k: int) -> list[int]:
        """The ``k`` most-rated movies the seeker did not name."""
        return _top(self.ranked, case.named, k)


class BM25Baseline:
    """Okapi BM25 over the catalogue documents.

    The query is the request text; when the seeker named movies they liked, those movies'
    documents are the query instead (the "I liked X" reading).

    Args:
        catalogue: ``movies_info`` (``movie_id`` and ``document``, or the fields it is made
            of: title, genres, overview, keywords, directors, cast).
    """

    name = "bm25"

    def __init__(self, catalogue: pa.Table) -> None:
        from movie_rag.index._bm25 import BM25

        self._ids = [int(m) for m in catalogue.column("movie_id").to_pylist()]
        documents = _documents(catalogue)
        self._documents = dict(zip(self._ids, documents, strict=True))
        self._bm25 = BM25(documents)

    def recommend(self, case: RedialCase, k: int) -> list[int]:
        """The best BM25 matches."""
        import numpy as np

        seeded = " ".join(self._documents.get(m, "") for m in case.seeds)
        text = seeded or case.text
        scores = self._bm25.scores(text)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
        return _top((self._ids[i] for i in order), case.named, k)


def _documents(catalogue: pa.Table) -> list[str]:
    """The indexed ``document`` texts, or the same fields joined when the table lacks them."""
    if "document" in catalogue.column_names:
        return [d or "" for d in catalogue.column("document").to_pylist()]
    fields = [
        name
        for name in ("title", "genres", "overview", "keywords", "directors", "cast")
        if name in catalogue.column_names
    ]
    columns = [catalogue.column(name).to_pylist() for name in fields]
    out = []
    for values in zip(*columns, strict=True):
        parts = [" ".join(v) if isinstance(v, list) else str(v or "") for v in values]
        out.append(". ".join(p for p in parts if p))
    return out


class ItemKNNBaseline:
    """Cosine item-kNN neighbours of the liked movies the seeker named.

    A request naming no liked movie gets the popularity list (a kNN has nothing else).

    Args:
        ratings: MovieLens ratings (``user_id``, ``movie_id``, ``rating``).
        popularity: The fallback for requests without seeds.
        like_threshold: A rating at or above this is a like.
    """

    name = "item-knn"

    def __init__(
        self, ratings: pa.Table, popularity: PopularityBaseline, *, like_threshold: float = 4.0
    ) -> None:
        from movie_rag.collab.item_knn import fit_item_knn

        self.neighbours = fit_item_knn(ratings, like_threshold=like_threshold, alpha=0.5)
        self.popularity = popularity

    def recommend(self, case: RedialCase, k: int) -> list[int]:
        """The seeds' neighbours, then popular movies to fill ``k``."""
        seeds = [m for m in case.seeds if m in self.neighbours]
        picks: list[int] = []
        if seeds:
            exclude = set(case.named)
            picks = [int(m) for m, _ in self.neighbours.similar_to(seeds, k, exclude=exclude)]
        return [*picks, *self.popularity.recommend(case, k + len(picks))][:k]


class ChainConversation:
    """The chain answering the conversation: earlier seeker messages are the history.

    Args:
        chain: A :class:`~movie_rag.chain.recommender.RecommenderChain`.
        name: The name reported.
    """

    def __init__(self, chain: Any, name: str = "chain") -> None:
        self.chain = chain
        self.name = name
        self.refused: list[str] = []

    def recommend(self, case: RedialCase, k: int) -> list[int]:
        """The chain's recommendations for the whole request."""
        from movie_rag.chain.types import HistoryTurn

        *earlier, last = case.messages
        history = [HistoryTurn(role="user", content=m) for m in earlier]
        response = self.chain.invoke({"query": last, "history": history, "k": k})
        picks = [r.movie_id for r in response.recommendations if r.in_catalog]
        if not picks:
            self.refused.append(case.conversation_id)
        return picks


class ConversationalResult(BaseModel):
    """One system's scores on the cases.

    Attributes:
        system: Its name.
        cases: How many cases were asked.
        ndcg: Mean nDCG@k.
        recall: Mean recall@k.
        hit_rate: Share of cases with an accepted movie in the top k.
        empty: Cases answered with no movie.
        seconds: Wall time of all the answers.
        empty_ids: The conversations answered with no movie.
        case_ndcg: nDCG@k of each case, in the order asked (for :func:`ndcg_ratio_interval`).
    """

    system: str
    cases: int
    ndcg: float
    recall: float
    hit_rate: float
    empty: int
    seconds: float
    empty_ids: list[str] = []
    case_ndcg: list[float] = []


@dataclass
class _Totals:
    ndcg: list[float] = field(default_factory=list)
    recall: float = 0.0
    hits: float = 0.0
    empty: list[str] = field(default_factory=list)


def evaluate(
    cases: Sequence[RedialCase], systems: Iterable[ConversationalSystem], *, k: int = 10
) -> list[ConversationalResult]:
    """Score every system on every case.

    Args:
        cases: The requests and their truth.
        systems: What answers them.
        k: The list length scored.

    Returns:
        One result per system, in the order given.
    """
    results = []
    for system in systems:
        totals = _Totals()
        started = time.perf_counter()
        for case in cases:
            picks = system.recommend(case, k)
            if not picks:
                totals.empty.append(case.conversation_id)
            totals.ndcg.append(ndcg_at_k(picks, case.truth, k))
            totals.recall += recall_at_k(picks, case.truth, k)
            totals.hits += hit_rate_at_k(picks, case.truth, k)
        n = max(1, len(cases))
        results.append(
            ConversationalResult(
                system=system.name,
                cases=len(cases),
                ndcg=round(sum(totals.ndcg) / n, 4),
                recall=round(totals.recall / n, 4),
                hit_rate=round(totals.hits / n, 4),
                empty=len(totals.empty),
                seconds=round(time.perf_counter() - started, 2),
                empty_ids=totals.empty,
                case_ndcg=totals.ndcg,
            )
        )
    return results


def ndcg_ratio_interval(
    system: ConversationalResult,
    baseline: ConversationalResult,
    *,
    confidence: float = 0.95,
    resamples: int = 5000,
    seed: int = 0,
) -> tuple[float, float]:
    """A confidence interval of ``system``'s mean nDCG over ``baseline``'s on the same cases.

    A paired percentile bootstrap: the cases are drawn again with replacement, both systems
    scored on the same draw. On a hundred conversations a few hits move the ratio a lot,
    and the interval says how much.

    Args:
        system: One system's result from :func:`evaluate`.
        baseline: Another's, on the same cases in the same order.
        confidence: The interval's coverage.
        resamples: Bootstrap draws.
        seed: The random seed (the same seed gives the same interval).

    Returns:
        ``(low, high)``; ``high`` is ``inf`` when a draw leaves the baseline no hit.

    Raises:
        ValueError: The results were not scored on the same cases.

    Example:
        >>> a = ConversationalResult(system="a", cases=4, ndcg=0.5, recall=0, hit_rate=0,
        ...     empty=0, seconds=0, case_ndcg=[1.0, 0.0, 1.0, 0.0])
        >>> low, high = ndcg_ratio_interval(a, a)
        >>> (low, high)
        (1.0, 1.0)
    """
    import numpy as np
    from scipy.stats import bootstrap

    ours, theirs = np.asarray(system.case_ndcg), np.asarray(baseline.case_ndcg)
    if len(ours) != len(theirs) or len(ours) != system.cases or not len(ours):
        raise ValueError(
            f"{system.system} ({len(ours)} cases) and {baseline.system} ({len(theirs)} cases) "
            "were not scored on the same cases"
        )

    def ratio(a: Any, b: Any, axis: int) -> Any:
        # A draw where neither system hits is level (1), where only the baseline misses inf.
        return np.nan_to_num(a.mean(axis=axis) / b.mean(axis=axis), nan=1.0, posinf=np.inf)

    # Draws without a baseline hit are infinite; the spread scipy reports alongside is then
    # undefined, which is not an error here.
    with np.errstate(divide="ignore", invalid="ignore"):
        result = bootstrap(
            (ours, theirs),
            ratio,
            paired=True,
            vectorized=True,
            n_resamples=resamples,
            confidence_level=confidence,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
    interval = result.confidence_interval
    return round(float(interval.low), 3), round(float(interval.high), 3)
