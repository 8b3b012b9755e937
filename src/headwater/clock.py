"""Time as a dependency, so TTL, retention and iterator expiry can be tested without waiting."""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to; safe to share between threads."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._now = epoch_seconds


def clock_from_env() -> FakeClock | None:
    """Hidden, for tests only: HEADWATER_TEST_CLOCK=<epoch seconds> runs a server on a FakeClock, moved
    only by `POST /_headwater/clock/advance` (so token buckets, TTL and windows can be tested without
    waiting). No flag on purpose."""
    raw = os.environ.get("HEADWATER_TEST_CLOCK")
    return FakeClock(float(raw)) if raw else None
