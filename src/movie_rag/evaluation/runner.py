"""One evaluation run: the held-out build, every protocol, every system, one report object.

:func:`run_evaluation` is what ``movie-rag evaluate`` calls; the report object it returns is
written as markdown/HTML with plots and logged to MLflow by
:mod:`movie_rag.evaluation.report`.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from movie_rag.errors import ConfigurationError
from movie_rag.evaluation.build import EvaluationBuild, EvaluationInputs
from movie_rag.evaluation.harness import ProtocolResult, run_protocol
from movie_rag.evaluation.protocols import PROTOCOLS, ProtocolParams
from movie_rag.evaluation.systems import (
    SYSTEMS,
    EvalContext,
    RecommenderSystem,
    SystemUnavailable,
)
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["EvaluationReport", "run_evaluation"]

logger = logging.getLogger("movie_rag")

Progress = Callable[[str], None]


class EvaluationReport(BaseModel):
    """Everything one evaluation run measured, with the parameters that fix it.

    Attributes:
        created: UTC time of the run.
        params: The protocol parameters.
        split: Sizes and parameters of the user split.
        catalogue_size: Movies in the evaluation build.
        heldout_tags: Number of tags held out of the build.
        protocols: One result per protocol.
        skipped: Protocol or system → why it did not run.
        timings: Seconds per stage (``build``, ``systems``, one per protocol, ``total``).
        machine: CPU count, Python and platform.
        judge: LLM-judge scores per protocol, when a judge ran.
    """

    created: str
    params: dict[str, Any]
    split: dict[str, Any]
    catalogue_size: int
    heldout_tags: int
    protocols: list[ProtocolResult] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    machine: dict[str, Any] = Field(default_factory=dict)
    judge: dict[str, dict[str, float]] = Field(default_factory=dict)

    def protocol(self, name: str) -> ProtocolResult:
        """The result of the protocol called ``name``."""
        for result in self.protocols:
            if result.protocol == name:
                return result
        raise KeyError(f"protocol {name!r} was not run")


def run_evaluation(
    settings: MovieRagSettings,
    inputs: EvaluationInputs | None = None,
    params: ProtocolParams | None = None,
    *,
    protocols: Sequence[str] | None = None,
    systems: Sequence[str] | None = None,
    spark: SparkSession | None = None,
    extra_systems: dict[str, RecommenderSystem] | None = None,
    judge: bool | None = None,
    progress: Progress | None = None,
) -> tuple[EvaluationReport, EvalContext]:
    """Build what the protocols allow, then run every protocol over every system.

    Args:
        settings: Settings of a built workdir (its embedding cache is reused).
        inputs: The raw inputs (default: those in the workdir's build report).
        params: Protocol parameters (default: the full protocol).
        protocols: Names from :data:`PROTOCOLS` (default: :func:`default_protocols`).
        systems: Names from :data:`SYSTEMS` (default: all).
        spark: A Spark session for the held-out build.
        extra_systems: Already-built systems to evaluate too (tests, the grounding protocol).
        judge: Run the LLM judges on the chain's answers (default: when an LLM is
            configured; without one they are reported as skipped).
        progress: Called with a short message per stage.

    Returns:
        The report and the evaluation context it was measured on.

    Raises:
        ConfigurationError: An unknown protocol or system name.
    """
    say = progress or (lambda message: None)
    params = params or ProtocolParams()
    register_extensions()
    protocol_names = list(protocols) if protocols else default_protocols(settings)
    system_names = list(systems) if systems else list(SYSTEMS)
    _check_names(protocol_names, PROTOCOLS, "protocol")
    _check_names(system_names, SYSTEMS, "system")
    inputs = inputs or EvaluationInputs.from_build_report(settings.workdir)

    started = time.perf_counter()
    timings: dict[str, float] = {}
    context = EvaluationBuild(settings, inputs, params, spark=spark, progress=say).prepare()
    timings["build"] = round(time.perf_counter() - started, 3)

    clock = time.perf_counter()
    built: dict[str, RecommenderSystem] = {}
    skipped: dict[str, str] = {}
    for name in system_names:
        say(f"preparing {name}")
        try:
            built[name] = SYSTEMS[name](context)
        except (ImportError, SystemUnavailable) as exc:
            skipped[name] = f"not available: {exc}"
            logger.warning("system %s skipped: %s", name, exc)
    built.update(extra_systems or {})
    timings["systems"] = round(time.perf_counter() - clock, 3)

    results = []
    for name in protocol_names:
        clock = time.perf_counter()
        results.append(run_protocol(PROTOCOLS[name], context, built, progress=say))
        timings[name] = round(time.perf_counter() - clock, 3)
    judged: dict[str, dict[str, float]] = {}
    if judge is not False:
        clock = time.perf_counter()
        judged = _judge(settings, context, built, protocol_names, skipped, say)
        timings["judge"] = round(time.perf_counter() - clock, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    report = EvaluationReport(
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        params=params.model_dump(),
        split=context.split.describe(),
        catalogue_size=len(context.catalogue_ids),
        heldout_tags=len(context.heldout_tags),
        protocols=results,
        skipped=skipped,
        timings=timings,
        machine=machine_description(),
        judge=judged,
    )
    return report, context


def _judge(
    settings: MovieRagSettings,
    context: EvalContext,
    built: dict[str, RecommenderSystem],
    protocols: Sequence[str],
    skipped: dict[str, str],
    say: Progress,
) -> dict[str, dict[str, float]]:
    from movie_rag.evaluation.judge import judge_answers, judge_model
    from movie_rag.evaluation.systems import ChainSystem, build_chain

    if judge_model(settings) is None:
        skipped["judge"] = "no LLM configured for the MLflow judges"
        return {}
    system = built.get("chain")
    chain_system = system if isinstance(system, ChainSystem) else build_chain(context)
    assert isinstance(chain_system, ChainSystem)
    scores = {}
    for name in protocols:
        if name == "grounding":
            continue
        queries = PROTOCOLS[name].queries(context)[: context.params.judge_queries]
        say(f"judging {len(queries)} {name} answers")
        scores[name] = judge_answers(chain_system.chain, queries, settings, context.params.k)
    return scores


def default_protocols(settings: MovieRagSettings) -> list[str]:
    """Every registered protocol; ``grounding`` only when an LLM is configured."""
    return [p for p in PROTOCOLS if p != "grounding" or settings.llm_enabled]


def register_extensions() -> None:
    """Add the systems and protocols of optional modules (the collaborative signal's).

    A module ``movie_rag.evaluation.hybrid_systems`` with a ``register()`` function adds its
    entries to :data:`SYSTEMS` and :data:`PROTOCOLS`; without it nothing changes.
    """
    import importlib

    try:
        module = importlib.import_module("movie_rag.evaluation.hybrid_systems")
    except ImportError:
        return
    register = getattr(module, "register", None)
    if callable(register):
        register()


def machine_description() -> dict[str, Any]:
    """CPU count, load average, Python and platform: what the timings were taken on."""
    import os

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _check_names(names: Sequence[str], registry: dict[str, Any], kind: str) -> None:
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ConfigurationError(f"unknown {kind}(s) {unknown}; choose from {sorted(registry)}")
