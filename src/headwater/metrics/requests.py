"""Request counts, errors and latency, kept as plain integers and lists on the request path.

prometheus-client's own Counter and Histogram take a lock per observation; here an observation is a
dictionary look-up, a bisect and three additions on the event loop's thread (bench/metrics_cost.py), and
the collector turns the numbers into metric families only when /metrics is scraped.

With front processes each front keeps its own `RequestCounts` and sends a snapshot of it to the core
every second (`FrontTotals` adds them up), so the core's /metrics answers for every process.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Final

import orjson

# seconds; a DynamoDB call here takes well under a millisecond, a large Scan or a slow disk much longer
LATENCY_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

UNKNOWN: Final = "unknown"  # the operation of a call whose target or route is not one Headwater knows

# a flat key: ("latency", service, operation, bucket index) | ("latency_sum", service, operation)
# | ("errors", service, operation, error type) | ("records_read", service)
Key = tuple[str | int, ...]


class _Series:
    """One operation's latency histogram: a count per bucket (the last is +Inf) and the sum."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total = 0.0


class RequestCounts:
    """This process's requests. `service` and `operation` are those `parse_target` accepted (a bounded
    set), or "unknown"; error types are Headwater's own error classes: no label value comes from a
    client unchecked."""

    def __init__(self) -> None:
        self._latency: dict[tuple[str, str], _Series] = {}
        self._errors: dict[tuple[str, str, str], int] = {}

    def observe(self, service: str, operation: str, seconds: float, error: str | None) -> None:
        key = (service, operation)
        series = self._latency.get(key)
        if series is None:
            series = self._latency[key] = _Series()
        series.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series.total += seconds
        if error is not None:
            errors = self._errors
            ekey = (service, operation, error)
            errors[ekey] = errors.get(ekey, 0) + 1

    def flat(self) -> dict[Key, float]:
        """Every number as a flat key -> value (what a front sends, what the collector reads)."""
        out: dict[Key, float] = {}
        for (service, operation), series in self._latency.items():
            for index, count in enumerate(series.buckets):
                if count:
                    out["latency", service, operation, index] = count
            out["latency_sum", service, operation] = series.total
        for (service, operation, error), count in self._errors.items():
            out["errors", service, operation, error] = count
        return out


def encode(flat: dict[Key, float]) -> bytes:
    return orjson.dumps([[list(key), value] for key, value in flat.items()])


def decode(data: bytes) -> dict[Key, float]:
    return {tuple(key): float(value) for key, value in orjson.loads(data)}


class FrontTotals:
    """The fronts' counts added up. A front sends its whole snapshot each time (a lost one costs
    nothing) with its process id; what grew since that front's last snapshot is added, and a front
    started again (a new process, counting from zero) is added whole, so the totals never go down."""

    def __init__(self) -> None:
        self.totals: dict[Key, float] = {}
        self._last: dict[str, tuple[int, dict[Key, float]]] = {}  # front index -> (pid, snapshot)

    def merge(self, front: str, pid: int, snapshot: dict[Key, float]) -> None:
        last_pid, last = self._last.get(front, (pid, {}))
        if last_pid != pid:
            last = {}
        totals = self.totals
        for key, value in snapshot.items():
            grew = value - last.get(key, 0.0)
            if grew:
                totals[key] = totals.get(key, 0.0) + grew
        self._last[front] = (pid, snapshot)


def added(*flats: dict[Key, float]) -> dict[Key, float]:
    out: dict[Key, float] = {}
    for flat in flats:
        for key, value in flat.items():
            out[key] = out.get(key, 0.0) + value
    return out


def histograms(flat: dict[Key, float]) -> Iterator[tuple[str, str, list[float], float]]:
    """(service, operation, count per bucket, sum) of every operation in `flat`."""
    sums = {(str(k[1]), str(k[2])): v for k, v in flat.items() if k[0] == "latency_sum"}
    for (service, operation), total in sorted(sums.items()):
        counts = [flat.get(("latency", service, operation, i), 0.0) for i in range(len(LATENCY_BUCKETS) + 1)]
        yield service, operation, counts, total


def of_kind(flat: dict[Key, float], kind: str) -> Iterable[tuple[tuple[str, ...], float]]:
    return sorted(
        (tuple(str(part) for part in key[1:]), value) for key, value in flat.items() if key[0] == kind
    )
