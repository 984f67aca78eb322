"""Each notebook installs the project's wheel, with the extras its code really imports.

The install cell must name the wheel the build produces (``databricks.yml`` builds
``dist/movie_rag-*.whl``; the notebook's **wheel** widget defaults to that file name, for the
current version, in a Unity Catalog volume), never a bare PyPI name, and pin MLflow 3 next
to the ``databricks`` extra. Then, in a fresh interpreter where only the distributions that
install brings (the wheel's base requirements, the named extras and the pins, with their own
requirements) plus what every Databricks Runtime ships (pyspark, pandas, numpy, pyarrow)
can be imported — everything else is hidden, as a missing extra would be — every
``movie_rag`` module the notebook imports is imported, together with the clients its
Databricks code path loads lazily.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata as metadata
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9]*.py"))
#: What every Databricks Runtime has without installing anything.
RUNTIME = {"pyspark", "pandas", "numpy", "pyarrow", "py4j"}
#: Third-party modules a notebook's Databricks path imports lazily (inside functions).
DATABRICKS_PATH = {
    "01_ingest_and_build.py": ["databricks.sdk", "databricks.ai_search"],
    "02_vector_index.py": ["databricks.sdk", "databricks.ai_search"],
    "03_rag_chain.py": ["databricks.sdk", "databricks.ai_search", "langchain_openai"],
    "04_publish_and_serve.py": ["databricks.sdk", "mlflow", "mlflow.pyfunc"],
    "05_collaborative.py": ["databricks.sdk", "databricks.ai_search"],
}

_shim_spec = __import__("importlib.util").util.spec_from_file_location(
    "notebook_shim_install", REPO / "notebooks" / "_shim.py"
)
assert _shim_spec is not None and _shim_spec.loader is not None
shim = __import__("importlib.util").util.module_from_spec(_shim_spec)
sys.modules[_shim_spec.name] = shim
_shim_spec.loader.exec_module(shim)


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _install(notebook: Path) -> tuple[str, list[str], list[str]]:
    """The wheel widget's default, the wheel's extras and the other requirements installed."""
    cells = shim.read_cells(notebook)
    pips = [c for c in cells if c.kind == "%pip"]
    assert len(pips) == 1, f"{notebook.name}: one %pip cell"
    before = cells[: cells.index(pips[0])]
    assert all(
        "import movie_rag" not in c.source and "from movie_rag" not in c.source for c in before
    )
    widget = re.search(r'dbutils\.widgets\.text\(\s*"wheel",\s*"([^"]+)"', notebook.read_text())
    assert widget, f"{notebook.name}: no wheel widget"
    tokens = shlex.split(pips[0].source.removeprefix("%pip install"))
    wheel, *others = tokens
    match = re.fullmatch(r"\{wheel\}(?:\[([a-z,]+)\])?", wheel)
    assert match, f"{notebook.name}: installs {wheel!r}, not the wheel widget's file"
    assert not any(Requirement(o).name.replace("_", "-") == "movie-rag" for o in others)
    return widget.group(1), (match.group(1) or "").split(",") if match.group(1) else [], others


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_the_install_line_names_the_built_wheel_and_pins_mlflow_3(notebook: Path) -> None:
    default, extras, others = _install(notebook)
    project = _pyproject()["project"]
    artifact = yaml.safe_load((REPO / "databricks.yml").read_text())["artifacts"]
    build = artifact["movie_rag_wheel"]["build"]
    pattern = re.search(r"dist/(movie_rag-\*\.whl)", build)
    assert pattern, build
    name = Path(default).name
    # The file name hatchling gives this version's pure-Python wheel.
    assert name == f"{project['name'].replace('-', '_')}-{project['version']}-py3-none-any.whl"
    assert fnmatch.fnmatch(name, pattern.group(1))
    assert default.startswith("/Volumes/") or "/.bundle/" in default
    assert set(extras) <= set(project["optional-dependencies"])
    pins = {Requirement(o).name: Requirement(o) for o in others}
    if "databricks" in extras:
        assert "mlflow" in pins, f"{notebook.name}: [databricks] without an MLflow 3 pin"
        assert "3.17.0" in pins["mlflow"].specifier and "4.0" not in pins["mlflow"].specifier


def _closure(requirements: list[Requirement]) -> set[str]:
    """Names of the installed distributions these requirements bring, recursively."""
    seen: set[str] = set()
    pending = list(requirements)
    while pending:
        requirement = pending.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen or name == "movie-rag":
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in dist.requires or []:
            child = Requirement(text)
            extras = set(requirement.extras)
            if child.marker is None or any(
                child.marker.evaluate({"extra": e}) for e in extras or {""}
            ):
                pending.append(child)
    return seen


def _hidden_modules(allowed: set[str]) -> list[str]:
    """Top-level modules that only distributions outside ``allowed`` provide."""
    hidden = []
    for module, dists in metadata.packages_distributions().items():
        names = {d.lower().replace("_", "-") for d in dists}
        if module.startswith("_") or module in sys.stdlib_module_names:
            continue
        if not names & allowed:
            hidden.append(module)
    return hidden


def _movie_rag_modules(notebook: Path) -> list[str]:
    found: set[str] = set()
    for cell in shim.read_cells(notebook):
        if cell.kind != "python":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("movie_rag"):
                found.add(str(node.module))
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("movie_rag"))
    return sorted(found)


_CHECK = """
import importlib, json, sys
hidden, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for name in hidden:
    sys.modules[name] = None
failed = {}
for module in modules:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        failed[module] = str(exc)
print(json.dumps(failed))
"""


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_the_notebooks_modules_import_with_only_the_installed_extras(notebook: Path) -> None:
    _, extras, others = _install(notebook)
    project = _pyproject()["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        requirements += [Requirement(r) for r in project["optional-dependencies"][extra]]
    requirements += [Requirement(o) for o in others] + [Requirement(r) for r in RUNTIME]
    allowed = _closure(requirements)
    hidden = _hidden_modules(allowed)
    assert "torch" in hidden and "gradio" in hidden  # the check hides what is not installed
    modules = _movie_rag_modules(notebook) + DATABRICKS_PATH[notebook.name]
    result = subprocess.run(
        [sys.executable, "-c", _CHECK, json.dumps(hidden), json.dumps(modules)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    failed = json.loads(result.stdout.strip().splitlines()[-1])
    assert failed == {}, f"{notebook.name} with [{','.join(extras)}]: {failed}"


def test_a_module_outside_the_extras_fails_the_check() -> None:
    project = _pyproject()["project"]
    allowed = _closure([Requirement(r) for r in project["dependencies"]])
    hidden = _hidden_modules(allowed)
    result = subprocess.run(
        [sys.executable, "-c", _CHECK, json.dumps(hidden), json.dumps(["databricks.ai_search"])],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert "databricks.ai_search" in json.loads(result.stdout.strip().splitlines()[-1])
