"""Run a Databricks source-format notebook outside Databricks.

A notebook exported in source format is a Python file whose cells are separated by
``# COMMAND ----------`` lines; markdown and other magic cells are comment lines starting with
``# MAGIC``. :func:`run_notebook` executes the Python cells top to bottom in one namespace
that provides what the Databricks runtime would: ``spark`` (``movie_rag.get_spark``),
``dbutils.widgets`` (defaults declared by the notebook, overridable like job parameters),
``dbutils.library.restartPython`` (a no-op: nothing was installed) and ``display``, which
prints Spark DataFrames, pandas DataFrames and anything else, and remembers what it showed.

Usage::

    python notebooks/_shim.py notebooks/01_ingest_and_build.py --widget workdir=/tmp/wd
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
_MAGIC = re.compile(r"^# MAGIC ?(?P<text>.*)$")
# Documentation, and installs (here the package is installed already).
_SKIPPED_MAGICS = ("%md", "%md-sandbox", "%pip")


class InputWidgetNotDefined(KeyError):
    """A notebook read a widget it never declared (the Databricks error of the same name)."""


class Widgets:
    """``dbutils.widgets``: declared widgets with defaults, overridden like job parameters."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._values: dict[str, str] = {}
        self._choices: dict[str, tuple[str, ...]] = {}

    def text(self, name: str, defaultValue: str, label: str | None = None) -> None:
        self._declare(name, defaultValue)

    def dropdown(
        self,
        name: str,
        defaultValue: str,
        choices: Sequence[str],
        label: str | None = None,
    ) -> None:
        if defaultValue not in choices:
            raise ValueError(f"widget {name!r}: default {defaultValue!r} is not in {choices}")
        self._choices[name] = tuple(choices)
        self._declare(name, defaultValue)

    def combobox(
        self,
        name: str,
        defaultValue: str,
        choices: Sequence[str],
        label: str | None = None,
    ) -> None:
        self._declare(name, defaultValue)

    def _declare(self, name: str, default: str) -> None:
        value = self._overrides.get(name, default)
        allowed = self._choices.get(name)
        if allowed is not None and value not in allowed:
            raise ValueError(f"widget {name!r}: {value!r} is not one of {allowed}")
        self._values[name] = value

    def get(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        raise InputWidgetNotDefined(f"No input widget named {name} is defined")

    def getAll(self) -> dict[str, str]:
        return dict(self._values)

    def remove(self, name: str) -> None:
        self._values.pop(name, None)

    def removeAll(self) -> None:
        self._values.clear()

    def unused_overrides(self) -> set[str]:
        """Overrides no cell declared: almost always a typo in the caller."""
        return set(self._overrides) - set(self._values)


class Library:
    """``dbutils.library``: the package is already installed, so restarting changes nothing."""

    def restartPython(self) -> None:
        return None


@dataclass
class DBUtils:
    """The part of ``dbutils`` the notebooks use."""

    widgets: Widgets
    library: Library = field(default_factory=Library)


@dataclass
class Display:
    """``display``: prints what it is given and keeps it for inspection."""

    rows: int = 20
    shown: list[Any] = field(default_factory=list)

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> None:
        self.shown.append(obj)
        print(_render(obj, self.rows))


def _render(obj: Any, rows: int) -> str:
    if hasattr(obj, "toPandas") and hasattr(obj, "limit"):  # a Spark DataFrame
        return str(obj.limit(rows).toPandas().to_string(max_colwidth=60))
    if hasattr(obj, "to_string") and hasattr(obj, "head"):  # a pandas DataFrame or Series
        return str(obj.head(rows).to_string(max_colwidth=60))
    return repr(obj)


@dataclass(frozen=True)
class Cell:
    """One notebook cell: its 1-based number, first line in the file, kind and source."""

    number: int
    line: int
    kind: str  # "python", or the magic: "%md", "%pip", "%sql", ...
    source: str


def read_cells(path: str | Path) -> list[Cell]:
    """Split a Databricks source-format notebook into cells.

    Raises:
        ValueError: The file is not a Databricks source-format notebook.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise ValueError(f"{path}: first line is not {HEADER!r}")
    cells: list[Cell] = []
    start, chunk = 2, []
    for number, line in enumerate([*lines[1:], SEPARATOR], start=2):
        if line.strip() != SEPARATOR:
            chunk.append(line)
            continue
        cell = _make_cell(len(cells) + 1, start, chunk, path)
        if cell is not None:
            cells.append(cell)
        start, chunk = number + 1, []
    return cells


def _make_cell(number: int, start: int, lines: list[str], path: str | Path) -> Cell | None:
    while lines and not lines[0].strip():
        lines, start = lines[1:], start + 1
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return None
    magic = [_MAGIC.match(line) for line in lines]
    if all(magic):
        text = [m.group("text") for m in magic if m]
        kind = text[0].split()[0] if text[0].startswith("%") else "%md"
        return Cell(number, start, kind, "\n".join(text))
    if any(magic):
        raise ValueError(f"{path}:{start}: cell mixes '# MAGIC' lines with Python")
    return Cell(number, start, "python", "\n".join(lines) + "\n")


def run_notebook(
    path: str | Path,
    widgets: Mapping[str, str] | None = None,
    *,
    spark: Any = None,
    display_rows: int = 20,
) -> dict[str, Any]:
    """Execute a notebook's cells in order, in one namespace, as Databricks would.

    Args:
        path: The notebook (Databricks source format).
        widgets: Widget values, like a job's parameters; each must be declared by the notebook.
        spark: The session to expose as ``spark`` (default: ``movie_rag.get_spark()``).
        display_rows: Rows printed per ``display`` call.

    Returns:
        The namespace after the last cell (with ``dbutils`` and ``display`` in it).

    Raises:
        ValueError: A ``%sql``/``%run``/other magic cell that cannot run here, or a widget
            override the notebook never declared.
    """
    path = Path(path)
    if spark is None:
        from movie_rag import get_spark

        spark = get_spark()
    dbutils = DBUtils(widgets=Widgets(widgets))
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__file__": str(path),
        "spark": spark,
        "dbutils": dbutils,
        "display": Display(rows=display_rows),
    }
    for cell in read_cells(path):
        if cell.kind in _SKIPPED_MAGICS:
            continue
        if cell.kind == "%sql":
            namespace["display"](spark.sql(cell.source.removeprefix("%sql").strip()))
            continue
        if cell.kind != "python":
            raise ValueError(
                f"{path}:{cell.line}: cannot run a {cell.kind} cell outside Databricks"
            )
        # Padding keeps tracebacks on the notebook file's own line numbers.
        source = "\n" * (cell.line - 1) + cell.source
        exec(compile(source, str(path), "exec"), namespace)
    unused = dbutils.widgets.unused_overrides()
    if unused:
        raise ValueError(f"{path}: no widget named {sorted(unused)} (check the spelling)")
    return namespace


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run a notebook locally, with ``--widget name=value`` overrides."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--widget", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.widget:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--widget {item!r}: expected NAME=VALUE")
        overrides[name] = value
    run_notebook(args.notebook, overrides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
