"""The ``movie-rag`` commands of the deployment job: collab, index, gate, deploy.

Each is one task of the bundle's ``movie_rag`` job (``python_wheel_task`` on the
``movie-rag`` entry point) and the same command a user runs by hand. ``build`` (ingest) and
``publish --registry databricks-uc`` live in :mod:`movie_rag.cli`.
"""

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from movie_rag.errors import ConfigurationError

__all__ = ["register", "set_task_value"]

logger = logging.getLogger("movie_rag")

# The same options as every other command (typer reads these annotations at run time).
WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir", help="Working directory (default: ./.movie_rag or MOVIE_RAG_WORKDIR)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")]

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


def register(app: typer.Typer) -> None:
    """Add the job's commands to the ``movie-rag`` application."""
    from movie_rag import cli

    @app.command()
    def collab(
        force: Annotated[bool, typer.Option("--force", help="Retrain even if unchanged.")] = False,
        workdir: WorkdirOption = None,
        as_json: JsonOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Train the collaborative model (co-likes, ALS) from the bronze ratings table."""
        cli._start(workdir, verbose=int(verbose))
        with cli._reported_errors(as_json):
            from movie_rag.collab.model import train_collaborative
            from movie_rag.spark import get_spark
            from movie_rag.tables import TableStore

            settings = cli._settings(workdir)
            store = TableStore(get_spark(settings), settings)
            frame = store.read("movielens_ratings", "bronze")
            summary = train_collaborative(
                settings, frame.toArrow(), ratings_frame=frame, force=force
            )
        _emit(as_json, summary, f"collaborative model: {summary}")

    @app.command()
    def index(
        workdir: WorkdirOption = None,
        as_json: JsonOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Create or sync the vector index over movies_info and wait until it is ready.

        On Databricks: the Vector Search endpoint and the Delta Sync index over the Unity
        Catalog table (triggered sync), created when missing.
        """
        cli._start(workdir, verbose=int(verbose))
        with cli._reported_errors(as_json):
            from movie_rag.index.manager import VectorIndexManager

            report = VectorIndexManager(cli._settings(workdir)).build()
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
            str, typer.Option("--metric", help="protocol/system/metric, e.g. tags/chain/ndcg@10.")
        ] = "tags/chain/ndcg@10",
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
        workdir: WorkdirOption = None,
        as_json: JsonOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Evaluate, log the metrics to MLflow, and publish the quality gate as a task value.

        Sets the task value ``gate`` to ``passed`` or ``failed``; the job's deploy task runs
        only when it is ``passed``.
        """
        cli._start(workdir, verbose=int(verbose))
        with cli._reported_errors(as_json):
            from movie_rag.evaluation.build import EvaluationInputs
            from movie_rag.evaluation.protocols import ProtocolParams
            from movie_rag.evaluation.report import default_directory, write_report
            from movie_rag.evaluation.runner import run_evaluation

            parts = metric.split("/")
            if len(parts) != 3:
                raise ConfigurationError(
                    f"--metric {metric!r}: write protocol/system/metric (tags/chain/ndcg@10)"
                )
            protocol, system, name = parts
            settings = cli._settings(workdir)
            report, _ = run_evaluation(
                settings,
                EvaluationInputs.from_build_report(settings.workdir),
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
                raise ConfigurationError(
                    f"--metric {metric!r}: the evaluation reported no such metric"
                )
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
        verbose: VerboseOption = False,
    ) -> None:
        """Create or update the serving endpoint for the aliased version (idempotent)."""
        cli._start(workdir, verbose=int(verbose))
        with cli._reported_errors(as_json):
            from movie_rag.publish import InferenceTableConfig, ModelPublisher

            settings = cli._settings(workdir)
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
    from movie_rag import cli

    if as_json:
        print(json.dumps(document, default=str), flush=True)
    else:
        cli.out.print(text, highlight=False)
    sys.stdout.flush()
