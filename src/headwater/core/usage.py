"""What the workload consumed, per table and hour (`serve --meter-usage`, or `--enforce-capacity`), for
`headwater usage`.

Counted in memory by the metered operations (api/metered.py) and the replication links, and flushed every
`FLUSH_SECONDS` (and at a clean stop) through the single writer as one metadata document per table and
hour (`usage/<table id>/<hour>`): a restart keeps everything flushed, a kill -9 loses at most the last
interval. The provisioned capacity-hours are added at each flush for the time since the previous one, so
they count the time the server ran with the table's capacity at that moment. Storage is not counted: it
is the table's size now (the storage's own counters).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..clock import Clock
from ..model.schema import TableSpec
from ..storage.base import MetaWrite, Storage
from .catalog import MetaOp

log = logging.getLogger(__name__)

USAGE_KIND = "usage"
FLUSH_SECONDS = 10.0
HOUR = 3600
COUNTS = (
    "ReadUnits",  # reads of the table and its indexes (request units, or the RCUs they used)
    "WriteUnits",  # writes of the table and its LSIs
    "GsiWriteUnits",  # the writes of the table's GSIs its writes made
    "ReplicatedWriteUnits",  # changes of another region's replica applied here (global tables)
    "StreamReadRequests",  # GetRecords calls on the table's stream
    "ProvisionedRcuHours",  # provisioned read capacity (table and GSIs) x hours the server ran
    "ProvisionedWcuHours",
)


@dataclass(frozen=True, slots=True)
class TableUsage:
    table_id: int
    arn: str
    name: str
    region: str
    billing_mode: str
    first_hour: int  # the first hour it was counted in
    counts: dict[str, float]


class UsageMeter:
    """Counters of one process (the core's: fronts forward metered calls to it)."""

    def __init__(self, storage: Storage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock
        self._pending: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_flush = clock.now()
        # since the process started, per (account, region, table): [read units, write units], for
        # /metrics (CloudWatch's ConsumedReadCapacityUnits / ConsumedWriteCapacityUnits)
        self.totals: dict[tuple[str, str, str], list[float]] = {}

    def _row(self, table: TableSpec) -> dict[str, Any]:
        key = (table.table_id, int(self.clock.now()) // HOUR * HOUR)
        row = self._pending.get(key)
        if row is None:
            row = self._pending[key] = {**_header(table), "FirstHour": key[1]}
        return row

    def consumed(self, table: TableSpec, kind: str, units: float, index_units: Mapping[str, float]) -> None:
        row = self._row(table)
        where = (table.namespace.account, table.namespace.region, table.name)
        total = self.totals.get(where)
        if total is None:
            total = self.totals[where] = [0.0, 0.0]
        total[kind != "read"] += units  # the table's own, as CloudWatch's table metrics count them
        if kind == "read":
            row["ReadUnits"] += units + sum(index_units.values())
            return
        gsi = sum(v for name, v in index_units.items() if (ix := table.index(name)) and ix.kind == "GSI")
        row["WriteUnits"] += units + sum(index_units.values()) - gsi
        row["GsiWriteUnits"] += gsi

    def replicated(self, table: TableSpec, units: float) -> None:
        self._row(table)["ReplicatedWriteUnits"] += units

    def stream_read(self, table: TableSpec) -> None:
        self._row(table)["StreamReadRequests"] += 1

    def provisioned(self, tables: Iterable[TableSpec], now: float) -> None:
        hours = max(0.0, now - self._last_flush) / HOUR
        self._last_flush = now
        for table in tables:
            if table.billing_mode != "PROVISIONED" or table.status == "DELETING" or hours == 0:
                continue
            gsis = [ix.throughput for ix in table.indexes if ix.kind == "GSI"]
            row = self._row(table)
            row["ProvisionedRcuHours"] += hours * (table.throughput.read + sum(t.read for t in gsis))
            row["ProvisionedWcuHours"] += hours * (table.throughput.write + sum(t.write for t in gsis))

    async def flush(self, tables: Iterable[TableSpec]) -> None:
        """Add the pending counts to the stored documents, in one commit."""
        self.provisioned(tables, self.clock.now())
        pending, self._pending = self._pending, {}
        if not pending:
            return
        writes = []
        for (table_id, hour), row in pending.items():
            key = f"{table_id}/{hour}"
            stored = self.storage.meta_get(USAGE_KIND, key)
            doc = _added(orjson.loads(stored), row) if stored is not None else row
            writes.append(MetaWrite(USAGE_KIND, key, orjson.dumps(doc)))
        await self.storage.write(MetaOp(tuple(writes)))

    async def run(self, tables: Callable[[], Iterable[TableSpec]]) -> None:
        """Flush every FLUSH_SECONDS until cancelled (`tables()`: every table of every namespace)."""
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush(tables())
            except Exception:
                log.exception("usage counters not flushed")

    def report(self, since: float | None) -> list[TableUsage]:
        """Per table, the hours starting at or after `since` (its hour), stored and pending."""
        start = int(since) // HOUR * HOUR if since is not None else None
        docs = [
            orjson.loads(raw) for key, raw in self.storage.meta_list(USAGE_KIND) if _hour(key) >= (start or 0)
        ]
        docs.extend(row for (_, hour), row in self._pending.items() if hour >= (start or 0))
        totals: dict[int, dict[str, Any]] = {}
        for doc in docs:
            current = totals.get(doc["TableId"])
            totals[doc["TableId"]] = _added(current, doc) if current is not None else dict(doc)
        return [
            TableUsage(
                doc["TableId"],
                doc["TableArn"],
                doc["TableName"],
                doc["Region"],
                doc["BillingMode"],
                int(doc.get("FirstHour", 0)),
                {name: doc.get(name, 0.0) for name in COUNTS},
            )
            for doc in sorted(totals.values(), key=lambda d: (d["Region"], d["TableName"], d["TableId"]))
        ]


def _header(table: TableSpec) -> dict[str, Any]:
    return {
        "TableId": table.table_id,
        "TableArn": table.arn,
        "TableName": table.name,
        "Region": table.namespace.region,
        "BillingMode": table.billing_mode,
        **{name: 0.0 for name in COUNTS},
    }


def _added(doc: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    out = {**doc, **{k: v for k, v in more.items() if k not in COUNTS}}  # the newest name, billing mode
    out["FirstHour"] = min(doc.get("FirstHour", more.get("FirstHour", 0)), more.get("FirstHour", 0))
    for name in COUNTS:
        out[name] = doc.get(name, 0.0) + more.get(name, 0.0)
    return out


def _hour(key: str) -> int:
    return int(key.rpartition("/")[2])
