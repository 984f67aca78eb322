"""Notebook 03 runs top to bottom on the bundled sample through the shim."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_rag_chain.py"


def _shim():
    spec = importlib.util.spec_from_file_location("notebook_shim", NOTEBOOK.parent / "_shim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.spark
@pytest.mark.slow
def test_rag_notebook_answers_the_four_questions(spark, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = _shim().run_notebook(NOTEBOOK, {"workdir": str(tmp_path / "wd")}, spark=spark)
    responses = namespace["responses"]
    assert len(responses) == 4
    assert all(len(r.recommendations) == 5 for r in responses)
    assert all("Horror" in rec.genres for rec in responses[0].recommendations)
    second = namespace["first"].recommendations[1]
    assert second.title in namespace["follow_up"].answer
    table = namespace["display"].shown[-1]
    assert list(table["question"].unique()) == [r.query for r in responses]
