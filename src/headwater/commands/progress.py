"""Progress bars of the `headwater` commands that wait on long work: rich bars on stderr when it is a
terminal, nothing otherwise (a script or a test reads only the commands' result lines, which stay the
same either way)."""

from __future__ import annotations

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


@contextmanager
def progress_bar(description: str, unit: Unit = "items", console: Console | None = None) -> Iterator[Bar]:
    """A bar for the duration of the block (`console`: stderr's by default)."""
    if console is None:
        import sys

        if not sys.stderr.isatty():
            yield _Silent()
            return
        from rich.console import Console

        console = Console(stderr=True)
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
    with Progress(*columns, console=console) as progress:
        yield _Rich(progress, progress.add_task(description, total=None))
