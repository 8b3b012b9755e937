"""What a namespace's functions did: invocations, errors and their durations, counted as they finish
(plain numbers: the metrics collector reads them at scrape time)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Final

# seconds; a handler runs from milliseconds to its timeout (at most 900 s)
DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(slots=True)
class FunctionStats:
    invocations: int = 0  # handler runs (a throttled invocation never ran and is not one)
    errors: int = 0  # runs that ended with a FunctionError (raised, timed out, crashed)
    throttles: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    seconds: float = 0.0


class InvocationStats:
    def __init__(self) -> None:
        self.functions: dict[str, FunctionStats] = {}

    def record(self, function: str, duration_ms: float, *, error: bool, throttled: bool) -> None:
        stats = self.functions.get(function)
        if stats is None:
            stats = self.functions[function] = FunctionStats()
        if throttled:
            stats.throttles += 1
            return
        seconds = duration_ms / 1000.0
        stats.invocations += 1
        stats.errors += error
        stats.buckets[bisect_left(DURATION_BUCKETS, seconds)] += 1
        stats.seconds += seconds
