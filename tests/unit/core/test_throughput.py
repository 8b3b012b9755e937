"""Token buckets on a FakeClock (core/throughput.py) and the decrease limit (core/capacity_changes.py)."""

from __future__ import annotations

import dataclasses

import pytest

from headwater.clock import FakeClock
from headwater.core import throughput
from headwater.core.capacity_changes import check_decrease, recorded
from headwater.core.throughput import Limiter
from headwater.errors import (
    LimitExceededException,
    ProvisionedThroughputExceededException,
    ThrottlingException,
)
from headwater.model.schema import Throughput

from .helpers import index, table


def test_a_bucket_keeps_at_most_300_seconds() -> None:
    clock = FakeClock()
    limiter = Limiter(clock)
    spec = dataclasses.replace(table(), throughput=Throughput(2, 2))
    limiter.admit(spec, "write")
    limiter.charge(spec, "write", 2.0, {})  # one second's capacity, spent
    with pytest.raises(ProvisionedThroughputExceededException):
        limiter.admit(spec, "write")
    clock.advance(10_000)
    limiter.admit(spec, "write")
    limiter.charge(spec, "write", 600.0, {})  # 300 s x 2 units
    with pytest.raises(ProvisionedThroughputExceededException):
        limiter.admit(spec, "write")
    clock.advance(0.25)  # half a unit: above zero again
    limiter.admit(spec, "write")


def test_debt_is_paid_back_before_the_bucket_opens() -> None:
    clock = FakeClock()
    limiter = Limiter(clock)
    spec = dataclasses.replace(table(), throughput=Throughput(1, 1))
    limiter.charge(spec, "read", 11.0, {})  # 1 held, 10 owed
    clock.advance(10)
    with pytest.raises(ProvisionedThroughputExceededException):
        limiter.admit(spec, "read")
    clock.advance(0.5)
    limiter.admit(spec, "read")


def test_a_gsi_in_debt_throttles_base_writes_but_not_reads() -> None:
    clock = FakeClock()
    limiter = Limiter(clock)
    gsi = dataclasses.replace(index("GSI"), throughput=Throughput(1, 1))
    lsi = index("LSI", hash_key="p", range_key="l", index_id=2)
    spec = dataclasses.replace(table(gsi, lsi), throughput=Throughput(100, 100))
    limiter.charge(spec, "write", 1.0, {"i1": 1.0, "i2": 1.0})  # the LSI's unit is the table's
    with pytest.raises(ProvisionedThroughputExceededException) as caught:
        limiter.admit(spec, "write")
    assert caught.value.extra["ThrottlingReasons"][0]["reason"] == "IndexWriteProvisionedThroughputExceeded"
    limiter.admit(spec, "read")
    limiter.admit(spec, "read", lsi)


def test_four_decreases_a_day_then_one_an_hour() -> None:
    now = 1_800_000_000.0  # 08:00 UTC
    spec = dataclasses.replace(table(), throughput=Throughput(10, 10))
    for _ in range(4):
        check_decrease(spec, None, now)
        spec = spec.evolve(extra=recorded(spec, None, now, decrease=True, increase=False))
        now += 1
    with pytest.raises(LimitExceededException) as caught:
        check_decrease(spec, None, now)
    assert "Number of decreases today: 4. Last decrease at Friday, January 15, 2027 at 8:00:03 AM" in str(
        caught.value.message
    )
    check_decrease(spec, "i1", now)  # a GSI counts its own
    check_decrease(spec, None, now - 1 + 3600)
    check_decrease(spec, None, now + 16 * 3600)  # the next UTC day: four again


def test_a_hot_key_is_throttled_and_idle_keys_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throughput, "KEY_BUCKETS_KEPT", 3)
    clock = FakeClock()
    limiter = Limiter(clock)
    spec = table().evolve(billing_mode="PAY_PER_REQUEST")
    limiter.charge_key(spec, "write", b"hot", 1000.0)
    with pytest.raises(ThrottlingException) as caught:
        limiter.admit_key(spec, "write", b"hot")
    assert caught.value.extra["throttlingReasons"][0]["reason"] == "TableWriteKeyRangeThroughputExceeded"
    limiter.admit_key(spec, "read", b"hot")
    for key in (b"a", b"b"):
        limiter.admit_key(spec, "write", key)
    clock.advance(1)
    limiter.admit_key(spec, "write", b"c")  # the fourth: the three idle for a second go
    assert limiter.key_buckets == 1
