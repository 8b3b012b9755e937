"""`headwater serve` for the soak, optionally under tracemalloc: with HEADWATER_SOAK_SNAPSHOTS set to a
directory, each SIGUSR1 writes the Python heap's snapshot there (1.snap, 2.snap, ...)."""

from __future__ import annotations

import itertools
import os
import signal
import sys
import tracemalloc
from types import FrameType

from headwater.cli import main


def _snapshots(directory: str) -> None:
    tracemalloc.start(16)
    numbers = itertools.count(1)

    def dump(signum: int, frame: FrameType | None) -> None:
        tracemalloc.take_snapshot().dump(os.path.join(directory, f"{next(numbers)}.snap"))

    signal.signal(signal.SIGUSR1, dump)


if __name__ == "__main__":
    if os.environ.get("HEADWATER_SOAK_SNAPSHOTS"):
        _snapshots(os.environ["HEADWATER_SOAK_SNAPSHOTS"])
    sys.argv[0] = "headwater"
    main()
