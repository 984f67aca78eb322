"""Optional LLM-judge metrics: MLflow GenAI judges on the chain's answers.

Three judges from :mod:`mlflow.genai.judges` score each answer yes/no: ``relevance``
(``is_context_relevant``: does the answer address the request?), ``groundedness``
(``is_grounded``: is the answer supported by the recommended movies' own records?) and
``safety`` (``is_safe``). The mean of the "yes" answers is reported per judge.

A judge needs a real LLM: the one the settings configure (``llm_provider`` ``openai`` with
``llm_base_url`` — any OpenAI-compatible server — or ``databricks``). Without one,
:func:`judge_model` returns None and the evaluation reports the judges as skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from movie_rag.evaluation.protocols import EvalQuery
from movie_rag.settings import MovieRagSettings

__all__ = ["JUDGES", "judge_answers", "judge_model"]

logger = logging.getLogger("movie_rag")

JUDGES = ("relevance", "groundedness", "safety")


def judge_model(settings: MovieRagSettings) -> str | None:
    """The MLflow judge model URI for the configured LLM, or None when there is none."""
    from movie_rag.chain.llm_providers import llm_provider_for

    provider = llm_provider_for(settings)
    return None if provider is None else provider.judge_uri(settings)


def judge_answers(
    chain: Any, queries: Sequence[EvalQuery], settings: MovieRagSettings, k: int
) -> dict[str, float]:
    """Ask the chain each query and have the configured LLM judge every answer.

    Args:
        chain: A :class:`~movie_rag.chain.recommender.RecommenderChain`.
        queries: The queries to judge.
        settings: Settings naming the judge LLM.
        k: Recommendations per answer.

    Returns:
        Judge name → share of "yes" over the answers it could judge, plus ``judged``
        (answers judged) and ``judge_errors`` (judge calls that failed).

    Raises:
        ValueError: No LLM is configured (check :func:`judge_model` first).
    """
    from mlflow.genai import judges

    model = judge_model(settings)
    if model is None:
        raise ValueError("no LLM configured for the judges (settings.llm_provider is 'none')")
    yes = dict.fromkeys(JUDGES, 0)
    seen = dict.fromkeys(JUDGES, 0)
    errors = 0
    with _judge_environment(settings):
        for query in queries:
            response = chain.invoke({"query": query.query, "k": k})
            records = [_record(chain, r.movie_id) for r in response.recommendations]
            answer = response.answer
            calls: dict[str, Callable[[], Any]] = {
                "relevance": partial(
                    judges.is_context_relevant, request=query.query, context=answer, model=model
                ),
                "groundedness": partial(
                    judges.is_grounded,
                    request=query.query,
                    response=answer,
                    context=records,
                    model=model,
                ),
                "safety": partial(judges.is_safe, content=answer, model=model),
            }
            for name, call in calls.items():
                try:
                    feedback = call()
                except Exception as exc:  # a judge failure must not end the evaluation
                    errors += 1
                    logger.warning("judge %s failed: %s", name, exc)
                    continue
                if feedback.error is not None:
                    errors += 1
                    continue
                seen[name] += 1
                yes[name] += str(feedback.value).lower() == "yes"
    scores = {name: round(yes[name] / seen[name], 6) for name in JUDGES if seen[name]}
    scores["judged"] = float(len(queries))
    scores["judge_errors"] = float(errors)
    return scores


def _record(chain: Any, movie_id: int) -> dict[str, Any]:
    if movie_id not in chain.catalogue:
        return {"movie_id": movie_id}
    movie = chain.catalogue.movie(movie_id)
    keep = ("title", "year", "genres", "directors", "cast", "overview", "keywords", "rating")
    return {name: movie.get(name) for name in keep}


@contextmanager
def _judge_environment(settings: MovieRagSettings) -> Iterator[None]:
    # MLflow's judge providers read their endpoint and key from the environment.
    from movie_rag.chain.llm_providers import llm_provider_for

    provider = llm_provider_for(settings)
    wanted = {} if provider is None else provider.judge_environment(settings)
    if "MLFLOW_MODEL_CATALOG_URI" not in os.environ:
        # MLflow otherwise fetches a model price catalogue from the internet on each call.
        wanted["MLFLOW_MODEL_CATALOG_URI"] = ""
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
