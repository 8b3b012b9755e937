"""Latency figures from two clocks of one process: when each write was sent, and when it was seen
where it had to arrive (another replica's stream, a handler)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The value at fraction `q` of sorted values (the index q * n, the last at most), None if empty."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be between 0 and 1, got {q}")
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True, slots=True)
class Lag:
    """How long writes took to be seen, in ms, over the writes that were seen."""

    written: int
    seen: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    @property
    def complete(self) -> bool:
        return self.seen == self.written


def lag(sent: Mapping[str, float], seen: Mapping[str, float]) -> Lag:
    """Each sent key's lag (seen - sent, seconds on one clock); keys seen that were not sent are ignored."""
    ordered = sorted((seen[key] - at) * 1000.0 for key, at in sent.items() if key in seen)
    return Lag(
        written=len(sent),
        seen=len(ordered),
        p50_ms=percentile(ordered, 0.50),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else None,
    )
