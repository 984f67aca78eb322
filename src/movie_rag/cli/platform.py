"""The ``movie-rag`` commands of the deployment job: ingest, collab, index, gate, deploy.

Each is one task of the bundle's ``movie_rag`` job (``python_wheel_task`` on the
``movie-rag`` entry point) and the same command a user runs by hand. ``publish --registry
databricks-uc`` lives in :mod:`movie_rag.cli`; ``build`` there does ingest, collab and index
in one go, where the job runs them as separate tasks (the collaborative model on its own
compute).
"""

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from movie_rag.cli._app import JsonOption, VerboseOption, WorkdirOption, _settings, _start, app, out
from movie_rag.cli._errors import _reported_errors
from movie_rag.errors import ConfigurationError

__all__ = ["TASK_VALUES_ENV", "set_task_value"]

logger = logging.getLogger("movie_rag")

#: Off Databricks, task values are appended to this JSON-lines file when it is set.
TASK_VALUES_ENV = "MOVIE_RAG_TASK_VALUES_FILE"


def set_task_value(key: str, value: Any) -> None:
    """Publish a job task value (``{{tasks.<task>.values.<key>}}`` for later tasks).

    On Databricks this is ``dbutils.jobs.taskValues.set``; elsewhere the value is appended
    to the file ``MOVIE_RAG_TASK_VALUES_FILE`` names (one JSON object per line), or logged.
    """
    if "DATABRICKS_RUNTIME_VERSION" in os.environ:
        from databricks.sdk.runtime import dbutils

        dbutils.jobs.taskValues.set(key=key, value=value)
        return
    target = os.environ.get(TASK_VALUES_ENV)
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "value": value}) + "\n")
    logger.info("task value %s = %r", key, value)


@app.command()
def ingest(
    movielens: Annotated[
        Path,
        typer.Option("--movielens", metavar="DIR", help="MovieLens release directory."),
    ],
    imdb: Annotated[
        list[Path] | None,
        typer.Option("--imdb", metavar="FILE", help="IMDB-like file (repeatable)."),
    ] = None,
    genome: Annotated[
        Path | None,
        typer.Option("--genome", metavar="DIR", help="Directory with the genome files."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace movies_info instead of merging.")
    ] = False,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Write the bronze tables and movies_info only (the job's collab and index tasks follow).

    ``build`` without the collaborative model and the index.
    """
    _start(workdir, verbose=verbose)
    with _reported_errors(as_json):
        from movie_rag.pipeline import build_catalogue

        settings = _settings(workdir).model_copy(update={"collab_enabled": False})
        report = build_catalogue(
            settings,
            movielens,
            list(imdb or []),
            genome_dir=genome,
            mode="overwrite" if overwrite else "merge",
            index=False,
        )
    summary = {
        "table": report.table,
        "rows": report.rows,
        "changes": report.changes,
        "quarantined": sum(report.quarantined.values()),
    }
    _emit(as_json, summary, f"movies_info: {report.rows} rows -> {report.table}")


@app.command()
def collab(
    force: Annotated[bool, typer.Option("--force", help="Retrain even if unchanged.")] = False,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Train the collaborative model (co-likes, ALS) from the bronze ratings table."""
    _start(workdir, verbose=verbose)
    with _reported_errors(as_json):
        from movie_rag.collab.model import train_collaborative
        from movie_rag.spark import get_spark, spark_to_arrow
        from movie_rag.tables import TableStore

        settings = _settings(workdir)
        store = TableStore(get_spark(settings), settings)
        frame = store.read("movielens_ratings", "bronze")
        summary = train_collaborative(
            settings, spark_to_arrow(frame), ratings_frame=frame, force=force
        )
    _emit(as_json, summary, f"collaborative model: {summary}")


@app.command()
def index(
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Create or sync the vector index over movies_info and wait until it is ready.

    On Databricks: the Vector Search endpoint and the Delta Sync index over the Unity
    Catalog table (triggered sync), created when missing.
    """
    _start(workdir, verbose=verbose)
    with _reported_errors(as_json):
        from movie_rag.index.manager import VectorIndexManager

        report = VectorIndexManager(_settings(workdir)).build()
    summary = {
        "added": report.added,
        "updated": report.updated,
        "deleted": report.deleted,
        "unchanged": report.unchanged,
    }
    _emit(as_json, summary, f"index ready: {summary}")


@app.command()
def gate(
    metric: Annotated[
        str, typer.Option("--metric", help="protocol/system/metric, e.g. tags/chain/ndcg.")
    ] = "tags/chain/ndcg",
    minimum: Annotated[
        float, typer.Option("--min", help="The gate passes at or above this value.")
    ] = 0.0,
    reduced: Annotated[
        bool, typer.Option("--reduced/--full", help="The CI protocol (fewer queries).")
    ] = True,
    experiment: Annotated[
        str | None,
        typer.Option("--experiment", help="MLflow experiment for the metrics (workspace)."),
    ] = None,
    movielens: Annotated[
        Path | None,
        typer.Option(
            "--movielens", metavar="DIR", help="MovieLens release (default: the last build's)."
        ),
    ] = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Evaluate, log the metrics to MLflow, and publish the quality gate as a task value.

    Sets the task value ``gate`` to ``passed`` or ``failed``; the job's deploy task runs
    only when it is ``passed``. The protocols hold users and tags out of a build of their
    own, so the evaluation always builds embedded (local tables and index under
    ``<workdir>/evaluation``), on any backend: it gates the ranking, not Vector Search.
    """
    _start(workdir, verbose=verbose)
    with _reported_errors(as_json):
        from movie_rag.evaluation.build import EvaluationInputs
        from movie_rag.evaluation.protocols import ProtocolParams
        from movie_rag.evaluation.report import default_directory, write_report
        from movie_rag.evaluation.runner import run_evaluation

        parts = metric.split("/")
        if len(parts) != 3:
            raise ConfigurationError(
                f"--metric {metric!r}: write protocol/system/metric (tags/chain/ndcg)"
            )
        protocol, system, name = parts
        settings = _settings(workdir)
        inputs = (
            EvaluationInputs(movielens_dir=movielens)
            if movielens is not None
            else EvaluationInputs.from_build_report(settings.workdir)
        )
        report, _ = run_evaluation(
            _embedded(settings),
            inputs,
            ProtocolParams.reduced() if reduced else ProtocolParams(),
            protocols=[protocol],
            systems=[system],
        )
        files = write_report(report, default_directory(settings.workdir))
        values = [
            result.metrics.get(name)
            for p in report.protocols
            if p.protocol == protocol
            for result in p.systems
            if result.system == system
        ]
        if not values or values[0] is None:
            raise ConfigurationError(f"--metric {metric!r}: the evaluation reported no such metric")
        value = float(values[0])
        passed = value >= minimum
        run_id = _log_gate(report, files, settings, experiment, metric, value, passed)
        set_task_value("gate", "passed" if passed else "failed")
        set_task_value(name.replace("@", "_at_"), value)
    _emit(
        as_json,
        {"metric": metric, "value": value, "min": minimum, "passed": passed, "run": run_id},
        f"{metric} = {value:.4f} (min {minimum}): gate {'passed' if passed else 'failed'}",
    )


@app.command()
def deploy(
    endpoint: Annotated[str, typer.Option("--endpoint", help="Serving endpoint name.")] = (
        "movie-rag"
    ),
    name: Annotated[
        str, typer.Option("--name", help="Registered model (catalog.schema.model).")
    ] = "movie_rag",
    alias: Annotated[str, typer.Option("--alias", help="Alias to serve.")] = "champion",
    workload_size: Annotated[str, typer.Option("--workload-size")] = "Small",
    scale_to_zero: Annotated[
        bool, typer.Option("--scale-to-zero/--always-on", help="Scale to zero when idle.")
    ] = True,
    inference_schema: Annotated[
        str | None,
        typer.Option("--inference-tables", help="catalog.schema for the inference tables."),
    ] = None,
    experiment_id: Annotated[
        str | None,
        typer.Option("--experiment-id", help="Experiment that receives serving traces."),
    ] = None,
    workdir: WorkdirOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = 0,
) -> None:
    """Create or update the serving endpoint for the aliased version (idempotent)."""
    _start(workdir, verbose=verbose)
    with _reported_errors(as_json):
        from movie_rag.publish import InferenceTableConfig, ModelPublisher

        settings = _settings(workdir)
        publisher = ModelPublisher(settings, registry="databricks-uc")
        table = None
        if inference_schema:
            catalog, _, schema = inference_schema.partition(".")
            if not schema:
                raise ConfigurationError(
                    f"--inference-tables {inference_schema!r}: write catalog.schema"
                )
            table = InferenceTableConfig(catalog_name=catalog, schema_name=schema)
        environment = {"ENABLE_MLFLOW_TRACING": "true"}
        if experiment_id:
            environment["MLFLOW_EXPERIMENT_ID"] = experiment_id
        status = publisher.deploy_databricks(
            endpoint,
            name=name,
            alias=alias,
            workload_size=workload_size,
            scale_to_zero=scale_to_zero,
            environment_vars=environment,
            inference_table=table,
        )
    _emit(
        as_json,
        {"endpoint": endpoint, "ready": status.ready, "served": status.served_entities},
        f"endpoint {endpoint}: {'ready' if status.ready else 'not ready'}",
    )


def _embedded(settings: Any) -> Any:
    """The settings of the gate's held-out build: the embedded stack, same names otherwise."""
    from movie_rag.settings import MovieRagSettings

    default = MovieRagSettings.model_fields["embedding_model"].default
    return settings.model_copy(update={"backend": "local", "embedding_model": default})


def _log_gate(
    report: Any,
    files: dict[str, Path],
    settings: Any,
    experiment: str | None,
    metric: str,
    value: float,
    passed: bool,
) -> str:
    from movie_rag.evaluation.report import log_to_mlflow

    if experiment is None:
        return log_to_mlflow(report, files, settings.workdir)
    import mlflow

    if settings.mlflow_tracking_uri:
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="quality-gate") as run:
        for protocol in report.protocols:
            for result in protocol.systems:
                for key, number in result.metrics.items():
                    safe = key.replace("@", "_at_")
                    mlflow.log_metric(f"{protocol.protocol}.{result.system}.{safe}", number)
        mlflow.log_param("gate_metric", metric)
        mlflow.log_metric("gate_value", value)
        mlflow.set_tag("gate", "passed" if passed else "failed")
        for path in files.values():
            mlflow.log_artifact(str(path))
    return str(run.info.run_id)


def _emit(as_json: bool, document: dict[str, Any], text: str) -> None:
    if as_json:
        print(json.dumps(document, default=str), flush=True)
    else:
        out.print(text, highlight=False)
    sys.stdout.flush()
