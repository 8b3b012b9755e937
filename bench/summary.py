"""Rounds to figures: per server and phase the mean and spread over rounds, and ratios between servers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.phases import PhaseResult
from bench.verify import Check


@dataclass(frozen=True, slots=True)
class Spread:
    """Mean, lowest and highest of one figure over the rounds."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_range_percent(self) -> float:
        """Half the low-high range relative to the mean: "3,800 ±2.6%" covers every round."""
        return abs(self.high - self.low) / 2 / abs(self.mean) * 100 if self.mean else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "rounds": self.n}


def spread(values: Iterable[float | None]) -> Spread | None:
    got = [v for v in values if v is not None]
    if not got:
        return None
    return Spread(sum(got) / len(got), min(got), max(got), len(got))


@dataclass(slots=True)
class ServerRun:
    """One server's results: `rounds[i][phase]`, and the final table counts."""

    name: str
    about: str
    peer: bool
    rounds: list[dict[str, PhaseResult]] = field(default_factory=list)
    final: list[Check] = field(default_factory=list)

    def of(self, phase: str) -> list[PhaseResult]:
        return [r[phase] for r in self.rounds if phase in r]

    def checks(self) -> list[tuple[str, Check]]:
        """Every check, labelled `round N phase: name`."""
        out = [
            (f"round {i} {result.name}: {c.name}", c)
            for i, results in enumerate(self.rounds, 1)
            for result in results.values()
            for c in result.checks
        ]
        return out + [(f"final: {c.name}", c) for c in self.final]

    @property
    def passed(self) -> bool:
        return all(c.passed for _, c in self.checks())


@dataclass(frozen=True, slots=True)
class PhaseSummary:
    status: str  # error if any round errored; n/a if no round could run it; else ok
    unit: str
    rate: Spread | None
    p50_ms: Spread | None
    p99_ms: Spread | None
    p999_ms: Spread | None
    writes: int | None  # successful item writes, all rounds
    changed: int | None  # of which verifiably changed an item
    passed: bool
    errors: Counter[str]

    def to_json(self) -> dict[str, Any]:
        figures = {"rate": self.rate, "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "p999_ms": self.p999_ms}
        return {
            "status": self.status,
            "unit": self.unit,
            **{k: None if v is None else v.to_json() for k, v in figures.items()},
            "writes": self.writes,
            "changed": self.changed,
            "passed": self.passed,
            "errors": dict(self.errors),
        }


def summarize(results: list[PhaseResult]) -> PhaseSummary:
    ran = [r for r in results if r.status == "ok"]
    status = "error" if any(r.status == "error" for r in results) else ("ok" if ran else "n/a")
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r.errors)
    verified = [r for r in ran if r.writes is not None]
    return PhaseSummary(
        status=status,
        unit=next((r.unit for r in ran if r.unit), ""),
        rate=spread(r.rate for r in ran),
        p50_ms=spread(r.p50_ms for r in ran),
        p99_ms=spread(r.p99_ms for r in ran),
        p999_ms=spread(r.p999_ms for r in ran),
        writes=sum(r.writes or 0 for r in verified) if verified else None,
        changed=sum(r.changed or 0 for r in verified) if verified else None,
        passed=all(r.passed for r in results),
        errors=errors,
    )


def ratio(ours: list[PhaseResult], theirs: list[PhaseResult]) -> Spread | None:
    """Our rate over theirs, round by round (rounds are interleaved, so a pair shares the machine's mood)."""
    pairs = zip(ours, theirs, strict=False)
    return spread(
        a.rate / b.rate
        for a, b in pairs
        if a.status == b.status == "ok" and a.rate is not None and b.rate  # no division by a zero rate
    )


def stream_overhead(run: ServerRun) -> Spread | None:
    """Percent of put throughput the stream costs, from each round's put vs put-nostream."""
    return spread(r.metrics.get("stream_overhead_percent") for r in run.of("put-nostream"))
