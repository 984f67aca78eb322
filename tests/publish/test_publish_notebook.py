"""notebooks/04_publish_and_serve.py: its cells compile, and it runs locally through the shim."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from movie_rag.publish import ModelPublisher, RegisteredVersion

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK = NOTEBOOKS / "04_publish_and_serve.py"


def _load_shim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_shim", NOTEBOOKS / "_shim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


shim = _load_shim()


def test_every_cell_compiles_and_the_widgets_read_are_declared() -> None:
    cells = shim.read_cells(NOTEBOOK)
    assert cells[0].kind == "%md"
    python = [c for c in cells if c.kind == "python"]
    for cell in python:
        compile(cell.source, f"{NOTEBOOK}:{cell.line}", "exec")
    source = NOTEBOOK.read_text(encoding="utf-8")
    declared = re.findall(r'dbutils\.widgets\.(?:text|dropdown)\(\s*"(\w+)"', source)
    read = re.findall(r'dbutils\.widgets\.get\("(\w+)"\)', source)
    assert len(declared) == len(set(declared)) == 13
    assert set(read) == set(declared)
    # The Databricks branch is the original's flow, through the package.
    for call in ("deploy_databricks(", "InferenceTableConfig(", "grant_read(", "publish("):
        assert call in source


@pytest.mark.spark
@pytest.mark.slow
def test_notebook_publishes_serves_and_answers_locally(
    spark: object,
    sample_workdir: Path,
    publisher: ModelPublisher,
    champion: RegisteredVersion,
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace = shim.run_notebook(
        NOTEBOOK, {"workdir": str(sample_workdir), "port": "0"}, spark=spark
    )

    assert namespace["ON_DATABRICKS"] is False
    # Same data, same settings: publishing again is the champion, not a new version.
    assert namespace["version"].version == champion.version
    answers = namespace["answers"]
    assert len(answers) == 4 and all(isinstance(a, str) and a for a in answers)
    assert not namespace["server"].running
    shown = namespace["display"].shown
    assert list(shown[1]["question"]) == namespace["EXAMPLE_QUESTIONS"]
    log = shown[-1]
    assert (log["status_code"] == 200).all() and len(log) >= 1
    printed = capsys.readouterr().out
    assert "registry:  local" in printed
    assert "no grants: not on Databricks" in printed
    assert publisher.by_alias().version == champion.version
