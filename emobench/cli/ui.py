"""Console, progress and tables shared by CLI commands (rich only: no torch here).

Progress has two faces with one API (``add_task``, ``advance``, ``update``, ``remove_task``, used as a
context manager): in a terminal, rich bars whose finished tasks collapse into one summary line each, so
the current step stays in view; elsewhere (CI, a cluster job, ``> run.log``) plain lines with stage,
count, elapsed time and ETA, at most one per task every ``interval_s`` seconds.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err_console = Console(stderr=True)

__all__ = ["console", "err_console", "escape", "fmt_seconds", "make_progress"]


def fmt_seconds(s: float) -> str:
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m}m{sec:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


class CollapsingProgress(Progress):
    """Rich bars; a task that completes is replaced by one printed line ("done: ... in 3.2s")."""

    def _check_done(self, task_id: TaskID) -> None:
        task = self._tasks.get(task_id)
        if task is not None and task.total is not None and task.completed >= task.total and not task.finished_time:
            elapsed = task.elapsed or 0.0
            self.console.print(f"[dim]done[/] {escape(str(task.description))} "
                               f"({task.completed:g}/{task.total:g}) in {fmt_seconds(elapsed)}", highlight=False)
            self.remove_task(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        if task_id in self._tasks:  # a collapsed task may still get a late report: ignore it
            super().advance(task_id, advance)
            self._check_done(task_id)

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        if task_id in self._tasks:
            super().update(task_id, **kwargs)
            self._check_done(task_id)


@dataclass
class _LineTask:
    description: str
    total: float | None
    completed: float = 0.0
    start: float = field(default_factory=time.monotonic)
    last_print: float = 0.0
    done: bool = False


class LineProgress:
    """Plain progress lines for logs: start, every ``interval_s`` seconds while running, and the end."""

    def __init__(self, stream=None, *, interval_s: float = 5.0):
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self._tasks: dict[int, _LineTask] = {}
        self._next = 0

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.stream.flush()

    def _line(self, task: _LineTask, state: str) -> None:
        elapsed = time.monotonic() - task.start
        count = f"{task.completed:g}" + (f"/{task.total:g}" if task.total else "")
        extra = ""
        if state == "running" and task.total and task.completed > 0:
            eta = elapsed * (task.total - task.completed) / task.completed
            extra = f" ({100 * task.completed / task.total:.0f}%), ETA {fmt_seconds(eta)}"
        print(f"[{state}] {task.description}: {count}{extra}, elapsed {fmt_seconds(elapsed)}",
              file=self.stream, flush=True)
        task.last_print = time.monotonic()

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        self._next += 1
        task = _LineTask(str(description), total)
        self._tasks[self._next] = task
        print(f"[start] {task.description}" + (f" (total {total:g})" if total else ""), file=self.stream, flush=True)
        task.last_print = time.monotonic()
        return self._next

    def _after_change(self, task: _LineTask) -> None:
        if task.done and task.total is not None and task.completed < task.total:
            task.done, task.start = False, time.monotonic()  # a bar reused for the next round
        if task.total is not None and task.completed >= task.total and not task.done:
            task.done = True
            self._line(task, "done")
        elif not task.done and time.monotonic() - task.last_print >= self.interval_s:
            self._line(task, "running")

    def advance(self, task_id: int, advance: float = 1) -> None:
        task = self._tasks[task_id]
        task.completed += advance
        self._after_change(task)

    def update(self, task_id: int, *, description: str | None = None, completed: float | None = None,
               total: float | None = None, advance: float | None = None, **_: Any) -> None:
        task = self._tasks[task_id]
        if description is not None:
            task.description = str(description)
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance:
            task.completed += advance
        self._after_change(task)

    def remove_task(self, task_id: int) -> None:
        self._tasks.pop(task_id, None)


def make_progress(*, interactive: bool | None = None):
    """Collapsing rich bars on a terminal, plain lines otherwise (``interactive`` forces either)."""
    if interactive is None:
        interactive = err_console.is_terminal
    if not interactive:
        return LineProgress(err_console.file)
    return CollapsingProgress(
        SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
        MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err_console, transient=True,
    )
