"""The bundle's ``movie_rag`` job, run task by task on the sample against the emulators.

Every task of ``resources/job.yml`` runs in dependency order with the entry point, the
parameters and the cluster environment the bundle declares, parsed from the YAML (variables
resolved from their defaults plus the overrides a ``databricks bundle deploy --var`` would
pass). What stands in for the workspace, and why:

* **Unity Catalog tables**: local Spark's ``spark_catalog`` (the ``catalog`` variable is set
  to it, as ``--var catalog=...`` would); a session without Delta Lake writes the session's
  format, parquet (``TableStore`` writes Delta wherever the runtime has it).
* **Volumes**: ``/Volumes/...`` paths of the job become directories under a temporary root,
  the raw volume holding the sample MovieLens release; the collaborative model's location
  (``MOVIE_RAG_COLLAB_PATH``) is the emulated ``collab`` volume the bundle declares.
* **Vector Search, Model Serving**: one loopback workspace answering with the Vector Search
  emulator and the serving emulator (``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN``). The Delta
  Sync index reads the parquet files of ``movies_info``.
* **The Unity Catalog model registry**: MLflow's ``databricks-uc`` store needs cloud storage
  credentials from a workspace, which no emulator here can hand out, so the publish and
  deploy tasks run with ``MOVIE_RAG_MLFLOW_TRACKING_URI`` / ``MOVIE_RAG_MLFLOW_REGISTRY_URI``
  pointing at a sqlite store (the same names, versions and aliases); the serving emulator
  learns which versions exist from it, as Model Serving does from Unity Catalog.
* **Task values**: ``MOVIE_RAG_TASK_VALUES_FILE`` (``dbutils.jobs.taskValues`` off
  Databricks), read back for the ``condition_task``.

The endpoint the deploy task creates is then queried, through MLflow's scoring-server code
(``mlflow.pyfunc.scoring_server.invocations``) on the model version the endpoint serves,
with the seed UI's ``dataframe_split`` payload; publish and deploy then run again with
``MOVIE_RAG_SERVING_INTERFACE=responses`` and the updated endpoint answers a
``ResponsesAgent`` request.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulators._workspace import WorkspaceEmulator
from emulators.serving import ServingEmulator
from emulators.vector_search import VectorSearchEmulator
from third_party_warnings import MLFLOW_WARNINGS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    *(pytest.mark.filterwarnings(spec) for spec in MLFLOW_WARNINGS),
]

REPO = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"\$\{([^}]+)\}")
JOB_REFERENCE = re.compile(r"\{\{([^}]+)\}\}")
TOKEN = "dapi-bundle-run-0123456789"
USER = "deployer@example.com"
#: What `databricks bundle deploy --var ...` would pass: a catalog local Spark has, schemas
#: no other test uses, and a gate the 20-movie sample can pass (its held-out nDCG is far below
#: what the real catalogue's gate asks; the gate's refusal is tested in tests/test_bundle.py).
OVERRIDES = {
    "catalog": "spark_catalog",
    "bronze_schema": "bundle_bronze",
    "silver_schema": "bundle_silver",
    "service_principal": "movie-rag-sp",
    "warehouse_id": "0123456789abcdef",
    "gate_min": "0.0",
}
SEED_QUESTION = "I liked 'Jurassic Park'. Can you suggest some movies similar?"


# -- the bundle, resolved ---------------------------------------------------------------------


class Bundle:
    """``databricks.yml`` + ``resources/*.yml`` with ``${...}`` references resolved."""

    def __init__(self, overrides: dict[str, str], experiment_id: str) -> None:
        root = yaml.safe_load((REPO / "databricks.yml").read_text(encoding="utf-8"))
        self.variables = {
            name: str(spec.get("default", "")) for name, spec in root["variables"].items()
        } | overrides
        self.resources: dict[str, dict[str, Any]] = {}
        for pattern in root["include"]:
            for path in sorted(REPO.glob(pattern)):
                document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                for kind, items in (document.get("resources") or {}).items():
                    self.resources.setdefault(kind, {}).update(items)
        self.experiment_id = experiment_id

    def resolve(self, text: str) -> str:
        return REFERENCE.sub(lambda m: self._value(m.group(1)), text)

    def _value(self, reference: str) -> str:
        head, _, rest = reference.partition(".")
        if head == "var":
            return self.variables[rest]
        if reference == "workspace.current_user.userName":
            return USER
        if head == "resources":
            kind, key, field = rest.split(".", 2)
            if (kind, field) == ("experiments", "id"):
                return self.experiment_id
            return self.resolve(str(self.resources[kind][key][field]))
        raise AssertionError(f"unresolved reference ${{{reference}}}")

    @property
    def job(self) -> dict[str, Any]:
        return self.resources["jobs"]["movie_rag"]

    def ordered_tasks(self) -> list[dict[str, Any]]:
        """The job's tasks in dependency order (declaration order among the ready ones)."""
        done: list[str] = []
        tasks = list(self.job["tasks"])
        ordered = []
        while tasks:
            ready = [
                t for t in tasks if all(d["task_key"] in done for d in t.get("depends_on", []))
            ]
            assert ready, "dependency cycle"
            for task in ready:
                ordered.append(task)
                done.append(task["task_key"])
                tasks.remove(task)
        return ordered


# -- one loopback workspace ---------------------------------------------------------------------


class Workspace(WorkspaceEmulator):
    """Vector Search and Model Serving behind one host, as in a real workspace."""

    def __init__(self, vector_search: VectorSearchEmulator, serving: ServingEmulator) -> None:
        super().__init__(token=TOKEN)
        self.vector_search = vector_search
        self.serving = serving

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = path.strip("/").split("/")
        to_vector_search = path.startswith("/api/2.0/vector-search/") or (
            parts[:3] == ["api", "2.0", "serving-endpoints"]
            and len(parts) == 4
            and parts[3] in self.vector_search.embedding_endpoints
        )
        target = self.vector_search if to_vector_search else self.serving
        return target.handle(method, path, query, body)


# -- running tasks ------------------------------------------------------------------------------


class JobRun:
    def __init__(self, bundle: Bundle, volumes: Path, values_file: Path) -> None:
        self.bundle = bundle
        self.volumes = volumes
        self.values_file = values_file
        self.outputs: dict[str, dict[str, Any]] = {}
        self.skipped: list[str] = []
        self.outcomes: dict[str, str] = {}
        self.seconds: dict[str, float] = {}

    def local(self, text: str) -> str:
        """A ``/Volumes/...`` path as the emulated volumes hold it."""
        return (
            str(self.volumes / text.removeprefix("/Volumes/"))
            if text.startswith("/Volumes/")
            else text
        )

    def parameter(self, text: str) -> str:
        defaults = {p["name"]: p["default"] for p in self.bundle.job["parameters"]}

        def value(match: re.Match[str]) -> str:
            parts = match.group(1).strip().split(".")
            if parts[:2] == ["job", "parameters"]:
                return self.local(self.bundle.resolve(str(defaults[parts[2]])))
            assert parts[0] == "tasks" and parts[2] == "values", match.group(0)
            return str(self.task_values()[parts[3]])

        return JOB_REFERENCE.sub(value, self.bundle.resolve(text))

    def task_values(self) -> dict[str, Any]:
        lines = self.values_file.read_text().splitlines() if self.values_file.exists() else []
        return {d["key"]: d["value"] for d in map(json.loads, lines)}

    def cluster_environment(self, task: dict[str, Any]) -> dict[str, str]:
        clusters = {c["job_cluster_key"]: c for c in self.bundle.job["job_clusters"]}
        variables = clusters[task["job_cluster_key"]]["new_cluster"]["spark_env_vars"]
        return {k: self.local(self.bundle.resolve(str(v))) for k, v in variables.items()}

    def run(self, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
        key = task["task_key"]
        upstream = task.get("depends_on", [])
        if any(d["task_key"] in self.skipped for d in upstream) or any(
            "outcome" in d and self.outcomes.get(d["task_key"]) != d["outcome"] for d in upstream
        ):
            self.skipped.append(key)
            return
        if "condition_task" in task:
            condition = task["condition_task"]
            left, right = self.parameter(condition["left"]), self.parameter(condition["right"])
            assert condition["op"] == "EQUAL_TO", condition
            self.outcomes[key] = "true" if left == right else "false"
            return
        wheel = task["python_wheel_task"]
        assert (wheel["package_name"], wheel["entry_point"]) == ("movie_rag", "movie-rag")
        for name, value in self.cluster_environment(task).items():
            monkeypatch.setenv(name, value)
        args = [self.parameter(str(a)) for a in wheel["parameters"]]
        started = time.perf_counter()
        self.outputs[key] = invoke(args)
        self.seconds[key] = round(time.perf_counter() - started, 1)
        print(f"task {key}: {self.seconds[key]} s", flush=True)


def invoke(args: list[str]) -> dict[str, Any]:
    """``movie-rag ARGS`` in this process (the console script's app), its JSON answer."""
    from typer.testing import CliRunner

    from movie_rag import cli

    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, f"movie-rag {' '.join(args)}:\n{result.output}"
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1]))


# -- the test -----------------------------------------------------------------------------------


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    vector_search = VectorSearchEmulator(token=TOKEN, sync_polls=2)
    serving = ServingEmulator(token=TOKEN, ready_after_polls=0, update_after_polls=0)
    # Each also listens on its own: the index's ``index_url`` names the Vector Search host.
    with vector_search, serving, Workspace(vector_search, serving) as ws:
        yield ws


def test_the_job_runs_every_task_and_the_endpoint_answers(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workspace: Workspace
) -> None:
    import mlflow

    from movie_rag import sample_catalogue

    store = f"sqlite:///{tmp_path / 'registry.db'}"
    mlflow.set_tracking_uri(store)
    bundle_probe = Bundle(OVERRIDES, experiment_id="")
    experiment_name = bundle_probe.resolve(
        bundle_probe.resources["experiments"]["movie_rag"]["name"]
    )
    # `bundle deploy` creates the experiment before the job runs.
    bundle = Bundle(OVERRIDES, experiment_id=mlflow.create_experiment(experiment_name))

    volumes = tmp_path / "Volumes"
    run = JobRun(bundle, volumes, tmp_path / "task-values.jsonl")
    raw = Path(run.parameter("{{job.parameters.movielens}}"))
    shutil.copytree(sample_catalogue().movielens_dir, raw)
    # `bundle deploy` created the volumes (resources/schemas.yml); the collaborative model
    # goes where Databricks would put it, /Volumes/<catalog>/<silver>/collab, emulated.
    collab = Path(run.local(f"/Volumes/{OVERRIDES['catalog']}/{OVERRIDES['silver_schema']}/collab"))
    collab.mkdir(parents=True)

    for name, value in {
        "DATABRICKS_HOST": workspace.url,
        "DATABRICKS_TOKEN": TOKEN,
        "MOVIE_RAG_MLFLOW_TRACKING_URI": store,
        "MOVIE_RAG_MLFLOW_REGISTRY_URI": store,
        "MOVIE_RAG_TASK_VALUES_FILE": str(run.values_file),
        "MOVIE_RAG_VS_POLL_INTERVAL": "0.05",
        "MOVIE_RAG_COLLAB_PATH": str(collab),
    }.items():
        monkeypatch.setenv(name, value)
    for variable in ("DATABRICKS_RUNTIME_VERSION", "MOVIE_RAG_SERVING_INTERFACE"):
        monkeypatch.delenv(variable, raising=False)

    catalog, silver = OVERRIDES["catalog"], OVERRIDES["silver_schema"]
    tasks = bundle.ordered_tasks()
    try:
        for task in tasks:
            run.run(task, monkeypatch)
            if task["task_key"] == "ingest":
                # The Delta Sync index reads the files Unity Catalog keeps the table in.
                table = f"{catalog}.{silver}.movies_info"
                location = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").where(
                    "col_name = 'Location'"
                )
                workspace.vector_search.register_table(
                    table, location.first()["data_type"].removeprefix("file:")
                )
            if task["task_key"] in {"ingest", "index"}:
                # What the tasks created is a Unity Catalog securable deploy can grant on.
                for row in spark.sql(f"SHOW TABLES IN {catalog}.{silver}").collect():
                    workspace.serving.register_table(f"{catalog}.{silver}.{row['tableName']}")
                for index_name in workspace.vector_search.indexes:
                    workspace.serving.register_table(index_name)
                workspace.serving.register_table(f"{catalog}.{silver}.collab", "VOLUME")
            if task["task_key"] == "publish":
                published = run.outputs["publish"]
                workspace.serving.register_model(published["name"], str(published["version"]))

        assert [t["task_key"] for t in tasks] == [
            "ingest",
            "collab",
            "index",
            "evaluate",
            "publish",
            "gate_passed",
            "deploy",
        ]
        assert run.skipped == [] and run.outcomes == {"gate_passed": "true"}
        assert run.outputs["ingest"]["rows"] == run.outputs["index"]["added"] > 0
        assert run.outputs["collab"]["trained"] is True
        assert run.task_values()["gate"] == "passed"
        assert run.outputs["deploy"]["ready"] is True

        endpoint = bundle.variables["serving_endpoint"]
        answer = _invoke_endpoint(
            workspace,
            endpoint,
            {"dataframe_split": {"columns": ["query"], "data": [[SEED_QUESTION]]}},
        )
        predictions = answer["predictions"]
        assert len(predictions) == 1
        assert isinstance(predictions[0], str) and predictions[0].strip()

        # The same tasks with the agent interface: a new version, the endpoint follows it.
        monkeypatch.setenv("MOVIE_RAG_SERVING_INTERFACE", "responses")
        by_key = {t["task_key"]: t for t in tasks}
        run.run(by_key["publish"], monkeypatch)
        published = run.outputs["publish"]
        workspace.serving.register_model(published["name"], str(published["version"]))
        run.run(by_key["deploy"], monkeypatch)
        agent = _invoke_endpoint(
            workspace,
            endpoint,
            {"input": [{"role": "user", "content": SEED_QUESTION}], "custom_inputs": {"k": 3}},
        )
        assert agent["output"][0]["type"] == "message"
        recommendations = agent["custom_outputs"]["recommendations"]
        assert 0 < len(recommendations) <= 3
        assert all(r["title"] for r in recommendations)
    finally:
        for schema in (OVERRIDES["bronze_schema"], silver):
            spark.sql(f"DROP SCHEMA IF EXISTS {catalog}.{schema} CASCADE")


def _invoke_endpoint(workspace: Workspace, endpoint: str, payload: dict[str, Any]) -> Any:
    """Score ``payload`` as the endpoint would: its served version, MLflow's scoring code."""
    import mlflow.pyfunc
    from mlflow.pyfunc import scoring_server

    config = workspace.serving.active(endpoint)
    entity = config.served_entities[0]
    model = mlflow.pyfunc.load_model(f"models:/{entity['entity_name']}/{entity['entity_version']}")
    response = scoring_server.invocations(
        json.dumps(payload), "application/json", model, model.metadata.get_input_schema()
    )
    assert response.status == 200, response.response
    return json.loads(response.response)
