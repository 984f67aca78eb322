"""The Databricks Asset Bundle (databricks.yml + resources/) checked without a workspace."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"\$\{([^}]+)\}")
JOB_REFERENCE = re.compile(r"\{\{([^}]+)\}\}")


def _bundle() -> dict[str, Any]:
    root = yaml.safe_load((REPO / "databricks.yml").read_text(encoding="utf-8"))
    resources: dict[str, dict[str, Any]] = {}
    for pattern in root.get("include", []):
        for path in sorted(REPO.glob(pattern)):
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for kind, items in (document.get("resources") or {}).items():
                for key, value in items.items():
                    assert key not in resources.setdefault(kind, {}), f"{path}: {kind}.{key} twice"
                    resources[kind][key] = value | {"_file": path}
    root["resources"] = resources
    return root


BUNDLE = _bundle()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _resolve(reference: str) -> Any:
    head, _, rest = reference.partition(".")
    if head == "var":
        assert rest in BUNDLE["variables"], f"unknown variable ${{{reference}}}"
        return BUNDLE["variables"][rest].get("default", f"<{rest}>")
    if head == "resources":
        kind, key, field = rest.split(".", 2)
        resource = BUNDLE["resources"].get(kind, {}).get(key)
        assert resource is not None, f"unknown resource ${{{reference}}}"
        if field == "id":
            return f"<{kind}.{key}.id>"
        assert field in resource, f"${{{reference}}}: {kind}.{key} has no {field!r}"
        return _substitute(str(resource[field]))
    assert head in ("workspace", "bundle"), f"unknown reference ${{{reference}}}"
    return f"<{reference}>"


def _substitute(text: str) -> str:
    return REFERENCE.sub(lambda m: str(_resolve(m.group(1))), text)


def _tasks() -> list[dict[str, Any]]:
    return [task for job in BUNDLE["resources"]["jobs"].values() for task in job["tasks"]]


def test_every_reference_resolves() -> None:
    found = [ref for s in _strings(BUNDLE) for ref in REFERENCE.findall(s)]
    assert len(found) > 20
    for reference in found:
        _resolve(reference)


def test_an_unresolved_reference_fails_the_check() -> None:
    with pytest.raises(AssertionError, match="unknown variable"):
        _resolve("var.no_such_variable")
    with pytest.raises(AssertionError, match="unknown resource"):
        _resolve("resources.jobs.nothing.id")


def test_job_parameter_references_name_declared_parameters_and_tasks() -> None:
    job = BUNDLE["resources"]["jobs"]["movie_rag"]
    parameters = {p["name"] for p in job["parameters"]}
    keys = {task["task_key"] for task in job["tasks"]}
    for text in _strings(job):
        for reference in JOB_REFERENCE.findall(text):
            parts = reference.split(".")
            if parts[0] == "job":
                assert parts[1] == "parameters" and parts[2] in parameters, reference
            else:
                assert parts[0] == "tasks" and parts[1] in keys, reference


def test_tasks_run_in_the_issue_order_and_deploy_only_after_the_gate() -> None:
    tasks = {task["task_key"]: task for task in _tasks()}
    order: list[str] = []
    pending = dict(tasks)
    while pending:
        ready = [
            key
            for key, task in pending.items()
            if all(d["task_key"] in order for d in task.get("depends_on", []))
        ]
        assert ready, f"dependency cycle among {sorted(pending)}"
        order += sorted(ready)
        for key in ready:
            del pending[key]
    assert order.index("ingest") < order.index("index") < order.index("evaluate")
    assert order.index("collab") < order.index("evaluate") < order.index("publish")
    assert order[-1] == "deploy"
    gate = tasks["gate_passed"]["condition_task"]
    assert gate["left"] == "{{tasks.evaluate.values.gate}}" and gate["right"] == "passed"
    assert tasks["deploy"]["depends_on"] == [{"task_key": "gate_passed", "outcome": "true"}]


def test_every_wheel_task_names_an_entry_point_and_its_parameters_parse() -> None:
    import typer.main

    from movie_rag import cli

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    scripts = pyproject["project"]["scripts"]
    group = typer.main.get_command(cli.app)
    wheel_tasks = [task for task in _tasks() if "python_wheel_task" in task]
    assert len(wheel_tasks) == 6
    for task in wheel_tasks:
        wheel = task["python_wheel_task"]
        assert wheel["entry_point"] in scripts, task["task_key"]
        assert scripts[wheel["entry_point"]].split(".")[0] == wheel["package_name"]
        args = [
            JOB_REFERENCE.sub("/Volumes/x/y/raw/movielens", _substitute(str(a)))
            for a in wheel["parameters"]
        ]
        context = group.make_context("movie-rag", list(args))
        command = group.get_command(context, args[0])
        assert command is not None, f"{task['task_key']}: unknown command {args[0]!r}"
        # The real parser: raises UsageError on an unknown option or a value of the wrong type.
        command.make_context(args[0], args[1:], parent=context)


def test_a_bad_parameter_fails_the_parser() -> None:
    import typer
    import typer.main

    from movie_rag import cli

    group = typer.main.get_command(cli.app)
    context = group.make_context("movie-rag", ["gate", "--min", "high"])
    command = group.get_command(context, "gate")
    assert command is not None
    with pytest.raises(typer.BadParameter):
        command.make_context("gate", ["--min", "high"], parent=context)
    with pytest.raises(Exception, match="No such option"):
        command.make_context("gate", ["--minimum", "1"], parent=context)


def test_notebook_and_source_paths_exist() -> None:
    for kind in BUNDLE["resources"].values():
        for resource in kind.values():
            base = resource["_file"].parent
            for text in _strings(resource):
                if text.startswith("../") and "*" not in text:
                    assert (base / text).resolve().exists(), text
    for task in _tasks():
        if "notebook_task" in task:
            assert (REPO / "resources" / task["notebook_task"]["notebook_path"]).exists()
    app = BUNDLE["resources"]["apps"]["movie_rag_chat"]
    assert (REPO / "resources" / app["source_code_path"] / "app.yaml").is_file()


def test_resources_match_the_typed_definitions_of_databricks_bundles() -> None:
    from databricks.bundles.apps import App
    from databricks.bundles.experiments import MlflowExperiment
    from databricks.bundles.jobs import Job
    from databricks.bundles.registered_models import RegisteredModel
    from databricks.bundles.schemas import Schema
    from databricks.bundles.volumes import Volume

    types = {
        "jobs": Job,
        "apps": App,
        "schemas": Schema,
        "volumes": Volume,
        "registered_models": RegisteredModel,
        "experiments": MlflowExperiment,
    }
    assert set(BUNDLE["resources"]) == set(types)
    for kind, items in BUNDLE["resources"].items():
        for value in items.values():
            definition = {k: v for k, v in value.items() if k != "_file"}
            types[kind].from_dict(definition)  # raises on unknown fields and bad enums
    with pytest.raises(ValueError, match="Unexpected field"):
        Job.from_dict({"name": "x", "taks": []})


def test_targets_dev_is_development_prod_runs_as_the_service_principal() -> None:
    targets = BUNDLE["targets"]
    assert targets["dev"]["mode"] == "development" and targets["dev"]["default"] is True
    assert targets["prod"]["mode"] == "production"
    assert targets["prod"]["run_as"] == {"service_principal_name": "${var.service_principal}"}
    assert BUNDLE["artifacts"]["movie_rag_wheel"]["type"] == "whl"


def test_the_app_passes_its_resources_and_queries_with_can_query() -> None:
    app = BUNDLE["resources"]["apps"]["movie_rag_chat"]
    names = {r["name"]: r for r in app["resources"]}
    assert names["serving-endpoint"]["serving_endpoint"]["permission"] == "CAN_QUERY"
    config = yaml.safe_load((REPO / "apps" / "chat" / "app.yaml").read_text(encoding="utf-8"))
    for variable in config["env"]:
        if "valueFrom" in variable:
            assert variable["valueFrom"] in names, variable
    module = config["command"][-1]
    import importlib

    assert callable(importlib.import_module(module).main)
    assert "token" not in (REPO / "apps" / "chat" / "app.yaml").read_text().lower()


def test_task_values_off_databricks_go_to_the_named_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from movie_rag.cli.platform import TASK_VALUES_ENV, set_task_value

    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    target = tmp_path / "values.jsonl"
    monkeypatch.setenv(TASK_VALUES_ENV, str(target))
    set_task_value("gate", "passed")
    assert [json.loads(line) for line in target.read_text().splitlines()] == [
        {"key": "gate", "value": "passed"}
    ]
