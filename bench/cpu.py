"""CPU seconds spent by a process tree, from /proc: what a server (with its helper and worker processes)
and the generator burnt during a phase's measured window. Per operation, it tells whether the server or
the generator was the ceiling on a machine they share, and how much work a server does for one request."""

from __future__ import annotations

import contextlib
import os

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.extend(int(k) for k in f.read().split())
    return kids


def _own_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads); 0 when it is gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            # the command name may hold spaces: the fields that follow start after its closing ")"
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    return 0.0


def tree_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its live descendants (children that have exited do not count)."""
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        total += _own_seconds(current)
        todo.extend(children(current))
    return total
