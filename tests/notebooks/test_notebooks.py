"""The Databricks notebooks run top to bottom here, on the bundled sample, through the shim."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
INGEST = NOTEBOOKS / "01_ingest_and_build.py"


def _load_shim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_shim", NOTEBOOKS / "_shim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


shim = _load_shim()


def _sample_movie_ids() -> list[int]:
    """Movie ids of the sample's movies.csv, read independently of the package's loader."""
    from movie_rag import sample_catalogue

    path = sample_catalogue().movielens_dir / "movies.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [int(row["movieId"]) for row in csv.DictReader(handle)]


# -- the notebook files -------------------------------------------------------------------


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("[0-9]*.py")), ids=lambda p: p.name)
def test_notebook_is_databricks_source_format(notebook: Path) -> None:
    cells = shim.read_cells(notebook)
    assert cells[0].kind == "%md", "a notebook opens with a markdown cell saying what it does"
    for cell in cells:
        assert cell.kind in ("python", "%md", "%pip"), f"{notebook}:{cell.line}: {cell.kind}"
        if cell.kind == "python":
            compile(cell.source, f"{notebook}:{cell.line}", "exec")


def test_ingest_notebook_declares_the_widgets_it_reads() -> None:
    source = INGEST.read_text(encoding="utf-8")
    for name in (
        "movielens_path",
        "imdb_paths",
        "genome_path",
        "catalog",
        "bronze_schema",
        "silver_schema",
        "workdir",
    ):
        assert f'dbutils.widgets.text("{name}"' in source
        assert f'dbutils.widgets.get("{name}")' in source


# -- the shim -----------------------------------------------------------------------------


def test_read_cells_splits_magic_and_python(tmp_path: Path) -> None:
    notebook = tmp_path / "nb.py"
    notebook.write_text(
        "\n".join(
            [
                shim.HEADER,
                "# MAGIC %md",
                "# MAGIC # Title",
                "",
                shim.SEPARATOR,
                "",
                "x = 1",
                "",
                shim.SEPARATOR,
                "# MAGIC %sql SELECT 1",
                "",
            ]
        ),
        encoding="utf-8",
    )
    cells = shim.read_cells(notebook)
    assert [(c.kind, c.line) for c in cells] == [("%md", 2), ("python", 7), ("%sql", 10)]
    assert cells[1].source == "x = 1\n"


def test_read_cells_refuses_a_plain_python_file(tmp_path: Path) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Databricks notebook source"):
        shim.read_cells(plain)


def test_widgets_defaults_overrides_and_undeclared_names() -> None:
    widgets = shim.Widgets({"path": "/data"})
    widgets.text("path", "", "Path")
    widgets.text("catalog", "main")
    widgets.dropdown("mode", "merge", ["merge", "overwrite"])
    assert widgets.get("path") == "/data"
    assert widgets.get("catalog") == "main"
    assert widgets.getAll() == {"path": "/data", "catalog": "main", "mode": "merge"}
    with pytest.raises(shim.InputWidgetNotDefined):
        widgets.get("nope")
    with pytest.raises(ValueError, match="not one of"):
        shim.Widgets({"mode": "append"}).dropdown("mode", "merge", ["merge", "overwrite"])


def test_run_notebook_rejects_overrides_for_widgets_it_never_declares(tmp_path: Path) -> None:
    notebook = tmp_path / "nb.py"
    notebook.write_text(
        f'{shim.HEADER}\ndbutils.widgets.text("a", "1")\nvalue = dbutils.widgets.get("a")\n',
        encoding="utf-8",
    )
    namespace = shim.run_notebook(notebook, {"a": "2"}, spark=object())
    assert namespace["value"] == "2"
    with pytest.raises(ValueError, match=r"no widget named \['b'\]"):
        shim.run_notebook(notebook, {"b": "2"}, spark=object())


def test_display_prints_pandas_and_anything_else(capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    display = shim.Display(rows=2)
    display(pd.DataFrame({"title": ["Heat", "Alien", "Fargo"]}))
    display({"rows": 3})
    printed = capsys.readouterr().out
    assert "Heat" in printed and "Alien" in printed and "Fargo" not in printed
    assert "{'rows': 3}" in printed
    assert len(display.shown) == 2


# -- running the ingest notebook ------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.slow
def test_ingest_notebook_builds_the_sample_catalogue(
    spark: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from movie_rag import Workdir
    from movie_rag.tables import read_local_table

    monkeypatch.chdir(tmp_path)
    workdir = tmp_path / "notebook_workdir"
    namespace = shim.run_notebook(INGEST, {"workdir": str(workdir)}, spark=spark)

    expected_ids = _sample_movie_ids()
    table = read_local_table(Workdir(workdir).table("movies_info"))
    assert table.num_rows == len(expected_ids)
    assert sorted(table.column("movie_id").to_pylist()) == sorted(expected_ids)
    tables = Workdir(workdir).tables
    assert (tables / "movielens_movies").is_dir() and (tables / "movielens_ratings").is_dir()
    assert (tables / "imdb_bright_data").is_dir()

    report = namespace["report"]
    assert report.rows == len(expected_ids)
    assert report.matches["bright_data"].by_imdb_id > 0
    assert (Workdir(workdir).reports / "build.json").is_file()

    shown = namespace["display"].shown
    assert len(shown) == 4  # inputs, matches, coverage, and the movies_info sample
    assert list(shown[0]["source"]) == [item.source for item in report.inputs]
    sample = shown[-1].collect()
    assert len(sample) == 20
    assert [row["movie_id"] for row in sample] == sorted(expected_ids)[:20]
    assert "building the bundled sample catalogue" in capsys.readouterr().out


@pytest.mark.spark
@pytest.mark.slow
def test_ingest_notebook_takes_explicit_paths(
    spark: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the widgets filled in, the notebook reads what they name (here: MovieLens only)."""
    from movie_rag import Workdir, sample_catalogue
    from movie_rag.tables import read_local_table

    monkeypatch.chdir(tmp_path)
    workdir = tmp_path / "explicit"
    widgets = {
        "movielens_path": str(sample_catalogue().movielens_dir),
        "workdir": str(workdir),
        "catalog": "movies",
        "silver_schema": "gold",
    }
    namespace = shim.run_notebook(INGEST, widgets, spark=spark)

    assert namespace["settings"].catalog == "movies"
    assert namespace["settings"].silver_schema == "gold"
    assert namespace["imdb_paths"] == []
    table = read_local_table(Workdir(workdir).table("movies_info"))
    assert table.num_rows == len(_sample_movie_ids())
    assert set(table.column("sources").to_pylist()[0]) == {"movielens"}
    assert not any(p.name.startswith("imdb_") for p in Workdir(workdir).tables.iterdir())
