"""Notebook 05 runs top to bottom on the bundled sample through the shim."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_collaborative.py"


def _shim():
    spec = importlib.util.spec_from_file_location("notebook_shim", NOTEBOOK.parent / "_shim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.spark
@pytest.mark.slow
def test_collaborative_notebook_trains_stores_and_personalises(
    spark, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = _shim().run_notebook(NOTEBOOK, {"workdir": str(tmp_path / "wd")}, spark=spark)
    assert (tmp_path / "wd" / "collab" / "CURRENT").is_file()
    # The build already trained on these ratings: the notebook's call found nothing to do.
    assert namespace["summary"]["trained"] is False
    assert len(namespace["similar"]) == 10
    personal = namespace["personal"]
    assert len(personal) == 5
    assert not personal["seen before"].any()
