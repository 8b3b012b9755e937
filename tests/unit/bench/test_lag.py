"""Latency figures of the bench (bench/lag.py): percentiles of sorted values, and lag matched by key."""

from __future__ import annotations

import pytest
from bench.lag import Lag, lag, percentile


def test_percentile_indexes_q_times_n() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.50) == 51.0
    assert percentile(values, 0.99) == 100.0
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 100.0  # clamped to the last value


def test_percentile_of_one_value_and_of_none() -> None:
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


@pytest.mark.parametrize("q", [-0.01, 1.01])
def test_percentile_refuses_a_fraction_outside_zero_to_one(q: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0], q)


def test_lag_matches_writes_by_key_and_counts_those_not_seen() -> None:
    sent = {"a#0": 10.0, "b#0": 10.5, "c#0": 11.0}
    seen = {"b#0": 10.6, "a#0": 10.2, "z#9": 1.0}  # c not seen; z never sent
    got = lag(sent, seen)
    assert (got.written, got.seen, got.complete) == (3, 2, False)
    assert got.p50_ms == pytest.approx(200.0)  # of [100, 200]: index 1
    assert got.max_ms == pytest.approx(200.0)


def test_lag_when_nothing_was_seen() -> None:
    assert lag({"a#0": 1.0}, {}) == Lag(written=1, seen=0, p50_ms=None, p99_ms=None, max_ms=None)
    assert lag({}, {}).complete
