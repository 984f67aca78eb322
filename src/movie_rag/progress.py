"""Progress of long stages: what runs now, how far it is, and how long each stage took.

The pipeline stages talk to a small callback interface and never to a terminal:

- ``progress(stage)`` — a new stage starts (the previous one is finished). Any plain
  ``Callable[[str], None]`` works, so a script can pass ``print``.
- ``report_count(progress, done, total)`` — the current stage is ``done`` of ``total`` items
  through (documents embedded, files read). Plain callables get a ``"stage done/total"``
  message instead.

The command line hands the stages a [`ProgressDisplay`][movie_rag.progress.ProgressDisplay]:
a Rich live display on stderr (spinner, bar, ``done/total``, rate and ETA) when stderr is a
terminal, one line per finished stage otherwise, nothing with ``--quiet``; and a per-stage
timing table at the end.

Example:
    >>> from movie_rag.progress import ProgressDisplay, report_count
    >>> display = ProgressDisplay(mode="off")
    >>> with display:
    ...     display("embedding")
    ...     report_count(display, 512, 1024, unit="documents")
    >>> [name for name, _ in display.timings]
    ['embedding']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["DisplayMode", "ProgressCallback", "ProgressDisplay", "report_count"]

#: A stage callback: called with the name of each stage as it starts.
ProgressCallback = Callable[[str], None]

#: ``live``: Rich display (a terminal); ``lines``: one line per finished stage (a pipe or a
#: log file); ``off``: nothing (``--quiet``), timings are still recorded.
DisplayMode = Literal["live", "lines", "off"]


def report_count(
    progress: ProgressCallback | None, done: int, total: int, *, unit: str = "items"
) -> None:
    """Tell ``progress`` how far the current stage is.

    Args:
        progress: The stage callback given to the pipeline (None: nothing happens).
        done: Items finished so far.
        total: Items the stage has to do.
        unit: What is counted ("documents", "files").
    """
    if progress is None:
        return
    count = getattr(progress, "count", None)
    if callable(count):
        count(done, total, unit)
    else:
        progress(f"{done:,}/{total:,} {unit}")


class ProgressDisplay:
    """Stage progress and timings for the command line, on a stderr console.

    Call it with each stage's name as the stage starts; ``count(done, total, unit)`` moves
    the current stage's bar. Use it as a context manager: leaving it finishes the last
    stage and stops the live display.

    Args:
        console: Where it draws (a stderr console; default a new one).
        mode: ``live``, ``lines`` or ``off`` (see ``DisplayMode``); default ``live`` when
            the console is a terminal, else ``lines``.
    """

    def __init__(self, console: Console | None = None, *, mode: DisplayMode | None = None):
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.mode: DisplayMode = mode or ("live" if self.console.is_terminal else "lines")
        self.timings: list[tuple[str, float]] = []
        self._current: str | None = None
        self._started = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.mode == "live":
            self._progress = _rich_progress(self.console)
            self._progress.start()
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self._finish_stage(failed=kind is not None)
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, stage: str) -> None:
        """Start a stage (finishing the previous one)."""
        self._finish_stage()
        self._current = stage
        self._started = time.perf_counter()
        if self._progress is not None:
            self._task = self._progress.add_task(stage, total=None, unit="")

    def count(self, done: int, total: int, unit: str = "items") -> None:
        """Move the current stage's bar to ``done`` of ``total`` ``unit``."""
        if self._current is None:
            self(unit)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, total=max(total, 1), unit=unit)

    def _finish_stage(self, *, failed: bool = False) -> None:
        if self._current is None:
            return
        seconds = time.perf_counter() - self._started
        self.timings.append((self._current, seconds))
        if failed:
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, description=f"{self._current} (failed)")
                self._progress.stop_task(self._task)
        elif self._progress is not None and self._task is not None:
            task = next(t for t in self._progress.tasks if t.id == self._task)
            total = task.total if task.total is not None else 1
            self._progress.update(self._task, total=total, completed=total)
            self._progress.stop_task(self._task)
        elif self.mode == "lines":
            self.console.print(f"✓ {self._current} ({seconds:.1f} s)", highlight=False)
        self._current = None
        self._task = None

    def summary(self) -> None:
        """Print the per-stage timing table (nothing in ``off`` mode or without stages)."""
        if self.mode == "off" or not self.timings:
            return
        from rich.table import Table

        table = Table(title="timings", title_justify="left", box=None, pad_edge=False)
        table.add_column("stage")
        table.add_column("seconds", justify="right")
        for name, seconds in self.timings:
            table.add_row(name, f"{seconds:.1f}")
        table.add_row("[bold]total[/]", f"[bold]{sum(s for _, s in self.timings):.1f}[/]")
        self.console.print(table)


def _rich_progress(console: Console) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second of a counted stage."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            unit: Any = task.fields.get("unit") or ""
            if task.total is None or not speed or not unit:
                return Text("")
            short = {"documents": "docs"}.get(unit, unit)
            return Text(f"{speed:,.0f} {short}/s", style="progress.data.speed")

    class CountColumn(MofNCompleteColumn):
        """``done/total`` for counted stages only."""

        def render(self, task: Task) -> Text:
            if task.total is None or not task.fields.get("unit"):
                return Text("")
            return super().render(task)

    class EtaColumn(TimeRemainingColumn):
        """Time left for counted stages only."""

        def render(self, task: Task) -> Text:
            if task.total is None or not task.fields.get("unit") or task.finished:
                return Text("")
            return super().render(task)

    return Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        CountColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        EtaColumn(),
        console=console,
        transient=False,
        refresh_per_second=4,
    )
