"""core/throughput.Peak: a second's units become a peak when the second ends, and count 30 minutes later."""

from __future__ import annotations

from headwater.core.throughput import PEAK_SETTLES, Peak


def test_a_peak_counts_30_minutes_after_its_second_ended() -> None:
    peak = Peak()
    peak.add(100.2, 3000.0)
    peak.add(100.9, 1000.0)
    assert peak.settled_at(100.95) == 0.0  # the second is not over
    assert peak.settled_at(101.0 + PEAK_SETTLES - 0.5) == 0.0
    assert peak.settled_at(101.0 + PEAK_SETTLES) == 4000.0


def test_only_a_higher_second_is_a_new_peak() -> None:
    peak = Peak()
    peak.add(10.0, 500.0)
    peak.add(11.0, 400.0)  # lower: not a peak
    peak.add(12.0, 900.0)
    peak.add(13.0, 1.0)
    assert peak.rising == [(11.0, 500.0), (13.0, 900.0)]
    assert peak.settled_at(11.0 + PEAK_SETTLES) == 500.0
    assert peak.settled_at(13.0 + PEAK_SETTLES) == 900.0
    assert peak.rising == []
