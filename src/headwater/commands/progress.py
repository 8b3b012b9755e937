"""Progress bars of the `headwater` commands that wait on long work: rich bars on stderr when it is a
terminal; otherwise no bar (a script or a test reads the same result lines either way).

`progress_bar`: one bar that a polling command moves (`headwater wait`). `stage_bars`: a bar of bytes per
stage of a backup or a restore (storage/sqlite/online_backup.py's Progress), whose stages are plain lines
on stderr where it is not a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:  # rich loads in ~50 ms: only a bar that is shown pays for it
    from rich.console import Console
    from rich.progress import Progress, TaskID

Unit = Literal["items", "bytes"]


class Bar(Protocol):
    def show(self, description: str, done: int, total: int | None) -> None:
        """`done` of `total` (None: unknown, the bar pulses) under `description`."""


class _Silent:
    def show(self, description: str, done: int, total: int | None) -> None:
        return


class _Rich:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def show(self, description: str, done: int, total: int | None) -> None:
        if total is not None:
            total = max(total, done)  # an estimate the work outgrew (items written meanwhile)
        self.progress.update(self.task, description=description, completed=done, total=total)


def _terminal(console: Console | None) -> Console | None:
    """`console`, or stderr's when it is a terminal, else None (no bar)."""
    if console is not None:
        return console
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    return Console(stderr=True)


def _progress(console: Console, unit: Unit) -> Progress:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    amount = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    columns = (TextColumn("{task.description}"), BarColumn(), amount, TimeElapsedColumn())
    return Progress(*columns, console=console)


@contextmanager
def progress_bar(description: str, unit: Unit = "items", console: Console | None = None) -> Iterator[Bar]:
    """A bar for the duration of the block (`console`: stderr's when it is a terminal)."""
    shown = _terminal(console)
    if shown is None:
        yield _Silent()
        return
    with _progress(shown, unit) as progress:
        yield _Rich(progress, progress.add_task(description, total=None))


class Stages:
    """Told a backup's or a restore's stages: a bar of bytes each on a terminal, else a line each."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, message: str, total: int | None = None) -> None:
        progress = self._progress
        if progress is None:
            print(message, file=sys.stderr)
            return
        self.finish()
        self._task = progress.add_task(message, total=total)

    def advance(self, done: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done)

    def finish(self) -> None:
        """The stage before is done: its bar full (a stage of unknown size is shown as one of 1)."""
        if self._progress is None or self._task is None:
            return
        task = next(t for t in self._progress.tasks if t.id == self._task)
        whole = task.total if task.total is not None else max(task.completed, 1)
        self._progress.update(self._task, total=whole, completed=whole)


@contextmanager
def stage_bars(console: Console | None = None) -> Iterator[Stages]:
    """Stages for the duration of the block (`console`: stderr's when it is a terminal)."""
    shown = _terminal(console)
    if shown is None:
        yield Stages(None)
        return
    with _progress(shown, "bytes") as progress:
        stages = Stages(progress)
        yield stages
        stages.finish()
