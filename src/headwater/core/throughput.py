"""Throughput as DynamoDB enforces it (`serve --enforce-capacity`): a token bucket per table and GSI and per
direction, on the database's clock.

- Provisioned: the bucket fills at RCU/WCU per second and keeps up to 300 seconds of unused capacity
  (burst capacity, "DynamoDB currently retains up to five minutes (300 seconds) of unused read and write
  capacity"). A new bucket holds one second of capacity.
- On-demand: no burst; the bucket holds one second of the least of: the table's (or GSI's) warm throughput
  (core/warm.py: 12,000 read and 4,000 write units a second when new, and twice each new peak from 30
  minutes after it was reached: "DynamoDB instantly accommodates up to double the previous peak"; past it
  the table's partitions are too few: KeyRangeThroughputExceeded), its MaxReadRequestUnits /
  MaxWriteRequestUnits (OnDemandThroughput: MaxOnDemandThroughputExceeded), and the per-table default
  quota (40,000 read and 40,000 write request units, Limits.html: AccountLimitExceeded).
- Per partition key value (an item operation's key): 3,000 read and 1,000 write units a second, in both
  modes, without burst (KeyRangeThroughputExceeded).
- A request is admitted while its buckets are above zero; what it consumed (known only after it ran: a
  Query is charged for the data it read) is then taken, and may leave a bucket in debt that refilling
  pays back. A base-table write is admitted only while every GSI's write bucket is above zero too (GSI
  back-pressure). LSIs share their table's capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..clock import Clock
from ..errors import ProvisionedThroughputExceededException, ThrottlingException
from ..model.schema import IndexSpec, TableSpec
from . import warm

Kind = Literal["read", "write"]
BURST_SECONDS = 300.0
TABLE_QUOTA_UNITS = 40_000.0  # on-demand per-table default quota, each direction
ON_DEMAND = "on_demand"  # the table's OnDemandThroughput in TableSpec.extra
# what one partition key value serves a second, in either mode (bp-partition-key-design: 3,000 RCU and
# 1,000 WCU per partition; burst capacity does not help a hot partition)
KEY_RANGE_UNITS: dict[str, float] = {"read": 3000.0, "write": 1000.0}
KEY_BUCKETS_KEPT = 10_000  # past it, buckets idle for a second (full again) are forgotten, once a second
PEAK_SETTLES = 1800.0  # seconds before a new peak raises what on demand serves at once (to double it)

TABLE_EXCEEDED = (
    "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
    "provisioning level with the UpdateTable API."
)
INDEX_EXCEEDED = (
    "The level of configured provisioned throughput for one or more global secondary indexes of the table "
    "was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary "
    "indexes with the UpdateTable API"
)
ON_DEMAND_EXCEEDED = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling "
    "your table or index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)


@dataclass(slots=True)
class Bucket:
    rate: float  # units per second
    keep: float  # seconds of unused capacity kept
    level: float
    at: float

    def refill(self, now: float) -> float:
        if now > self.at:
            self.level = min(self.rate * self.keep, self.level + (now - self.at) * self.rate)
            self.at = now
        return self.level


@dataclass(frozen=True, slots=True)
class Limit:
    """What one bucket allows: its rate, how many seconds of it are kept, and what exceeding it is called."""

    rate: float
    keep: float
    limit_type: str  # ThrottlingReason's LimitType

    @property
    def provisioned(self) -> bool:
        return self.limit_type == "ProvisionedThroughputExceeded"


def on_demand_maximum(table: TableSpec, index: IndexSpec | None, kind: Kind) -> float | None:
    settings: Mapping[str, Any] = (
        table.extra.get(ON_DEMAND) or {} if index is None else warm.index_on_demand(table, index)
    )
    value = settings.get("MaxReadRequestUnits" if kind == "read" else "MaxWriteRequestUnits")
    return float(value) if isinstance(value, int) and value > 0 else None


def limit_of(table: TableSpec, index: IndexSpec | None, kind: Kind, grown: float = 0.0) -> Limit:
    """`grown`: what traffic raised the on-demand resource's warm throughput to (twice a settled peak)."""
    if table.billing_mode == "PROVISIONED":
        throughput = index.throughput if index is not None else table.throughput
        units = throughput.read if kind == "read" else throughput.write
        return Limit(float(units), BURST_SECONDS, "ProvisionedThroughputExceeded")
    declared = warm.declared(table, index)
    rate = max(float(declared[0] if kind == "read" else declared[1]), grown)
    limit_type = "KeyRangeThroughputExceeded"
    if rate > TABLE_QUOTA_UNITS:
        rate, limit_type = TABLE_QUOTA_UNITS, "AccountLimitExceeded"
    maximum = on_demand_maximum(table, index, kind)
    if maximum is not None and maximum < rate:
        rate, limit_type = maximum, "MaxOnDemandThroughputExceeded"
    return Limit(rate, 1.0, limit_type)


@dataclass(slots=True)
class Peak:
    """An on-demand resource's units a second: the current second's, and its peaks (the settled one, and
    newer ones, rising, waiting PEAK_SETTLES seconds to count)."""

    second: float = float("-inf")
    used: float = 0.0
    settled: float = 0.0
    rising: list[tuple[float, float]] = field(default_factory=list)

    def add(self, now: float, units: float) -> None:
        self._roll(now)
        self.used += units

    def settled_at(self, now: float) -> float:
        self._roll(now)
        while self.rising and self.rising[0][0] + PEAK_SETTLES <= now:
            self.settled = max(self.settled, self.rising.pop(0)[1])
        return self.settled

    def _roll(self, now: float) -> None:
        second = float(int(now))
        if second == self.second:
            return
        highest = self.rising[-1][1] if self.rising else self.settled
        if self.used > highest:  # the second just ended is a new peak, reached at its end
            self.rising.append((self.second + 1.0, self.used))
        self.second, self.used = second, 0.0


class Limiter:
    """Every bucket of the server (tables of every namespace: table ids are global), on one thread."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._buckets: dict[tuple[int, int, Kind], Bucket] = {}
        self._keys: dict[tuple[int, Kind, bytes], Bucket] = {}
        self._peaks: dict[tuple[int, int, Kind], Peak] = {}
        self._pruned = float("-inf")

    def grown(self, table: TableSpec, index: IndexSpec | None, kind: Kind) -> float:
        """What traffic raised an on-demand resource's warm throughput to: twice its settled peak."""
        peak = self._peaks.get((table.table_id, index.index_id if index is not None else 0, kind))
        return 2.0 * peak.settled_at(self.clock.now()) if peak is not None else 0.0

    def _limit(self, table: TableSpec, index: IndexSpec | None, kind: Kind, now: float) -> Limit:
        if table.billing_mode != "PAY_PER_REQUEST":
            return limit_of(table, index, kind)
        peak = self._peaks.get((table.table_id, index.index_id if index is not None else 0, kind))
        return limit_of(table, index, kind, 2.0 * peak.settled_at(now) if peak is not None else 0.0)

    def _take(self, table: TableSpec, index: IndexSpec | None, kind: Kind, units: float) -> None:
        now = self.clock.now()
        self._bucket(table, index, kind, self._limit(table, index, kind, now), now).level -= units
        if table.billing_mode == "PAY_PER_REQUEST":
            key = (table.table_id, index.index_id if index is not None else 0, kind)
            peak = self._peaks.get(key)
            if peak is None:
                peak = self._peaks[key] = Peak()
            peak.add(now, units)

    def _bucket(
        self, table: TableSpec, index: IndexSpec | None, kind: Kind, limit: Limit, now: float
    ) -> Bucket:
        key = (table.table_id, index.index_id if index is not None else 0, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(limit.rate, limit.keep, limit.rate, now)
        elif bucket.rate != limit.rate or bucket.keep != limit.keep:  # UpdateTable changed it
            bucket.refill(now)
            if not limit.provisioned and limit.rate > bucket.rate:  # a higher maximum: this second's too
                bucket.level += limit.rate - bucket.rate
            bucket.rate, bucket.keep = limit.rate, limit.keep
            bucket.level = min(bucket.level, limit.rate * limit.keep)
        bucket.refill(now)
        return bucket

    def admit(self, table: TableSpec, kind: Kind, index: IndexSpec | None = None) -> None:
        """Raise the throttling error if the table's (or the index's) bucket is empty; for a base-table
        write, if any GSI's write bucket is."""
        if index is not None and index.kind == "LSI":
            index = None
        self._admit(table, index, kind)
        if kind == "write" and index is None:
            for gsi in table.indexes:
                if gsi.kind == "GSI" and gsi.status != "CREATING":
                    self._admit(table, gsi, kind)

    def _admit(self, table: TableSpec, index: IndexSpec | None, kind: Kind) -> None:
        now = self.clock.now()
        limit = self._limit(table, index, kind, now)
        if self._bucket(table, index, kind, limit, now).level > 0:
            return
        resource = table.arn if index is None else f"{table.arn}/index/{index.name}"
        reason = ("Table" if index is None else "Index") + kind.title() + limit.limit_type
        reasons = [{"reason": reason, "resource": resource}]
        if not limit.provisioned:
            raise ThrottlingException(ON_DEMAND_EXCEEDED, throttlingReasons=reasons)
        raise ProvisionedThroughputExceededException(
            TABLE_EXCEEDED if index is None else INDEX_EXCEEDED, ThrottlingReasons=reasons
        )

    @property
    def key_buckets(self) -> int:
        """Partition key values tracked now (bounded: idle ones are forgotten)."""
        return len(self._keys)

    def admit_key(self, table: TableSpec, kind: Kind, partition: bytes) -> None:
        """Raise the throttling error if the partition key value's bucket is empty."""
        if self._key_bucket(table, kind, partition).level > 0:
            return
        reasons = [{"reason": f"Table{kind.title()}KeyRangeThroughputExceeded", "resource": table.arn}]
        if table.billing_mode == "PROVISIONED":
            raise ProvisionedThroughputExceededException(TABLE_EXCEEDED, ThrottlingReasons=reasons)
        raise ThrottlingException(ON_DEMAND_EXCEEDED, throttlingReasons=reasons)

    def charge_key(self, table: TableSpec, kind: Kind, partition: bytes, units: float) -> None:
        self._key_bucket(table, kind, partition).level -= units

    def _key_bucket(self, table: TableSpec, kind: Kind, partition: bytes) -> Bucket:
        now = self.clock.now()
        key = (table.table_id, kind, partition)
        bucket = self._keys.get(key)
        if bucket is None:
            if len(self._keys) >= KEY_BUCKETS_KEPT and now - self._pruned >= 1.0:
                # at most once a second: the keys used within the last second are all kept
                self._pruned = now
                idle = [k for k, b in self._keys.items() if now - b.at >= b.keep]
                for gone in idle:
                    del self._keys[gone]
            rate = KEY_RANGE_UNITS[kind]
            bucket = self._keys[key] = Bucket(rate, 1.0, rate, now)
        bucket.refill(now)
        return bucket

    def charge(self, table: TableSpec, kind: Kind, units: float, index_units: Mapping[str, float]) -> None:
        """Take what a request consumed: `units` from the table, each GSI's from its own bucket (an LSI's
        from the table's)."""
        table_units = units
        for name, used in index_units.items():
            index = table.index(name)
            if index is None or index.kind == "LSI":
                table_units += used
            elif used:
                self._take(table, index, kind, used)
        if table_units:
            self._take(table, None, kind, table_units)
