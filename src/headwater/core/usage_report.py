"""`POST /_headwater/usage`: per table, what the workload consumed (the meter's counts) and holds now
(storage, provisioned capacity), for `headwater usage` to price."""

from __future__ import annotations

from typing import Any

from ..errors import ValidationException
from ..model.schema import TableSpec
from .database import Database
from .usage import COUNTS, TableUsage

BYTES_OVERHEAD_PER_ITEM = 100  # DynamoDB bills each item's (and index entry's) size plus 100 bytes


def usage_report(db: Database, request: dict[str, Any], account: str | None) -> dict[str, Any]:
    since = request.get("Since")
    if since is not None and (not isinstance(since, int | float) or isinstance(since, bool) or since < 0):
        raise ValidationException("Since must be a time in epoch seconds")
    region = request.get("Region")
    if region is not None and not isinstance(region, str):
        raise ValidationException("Region must be a region name")
    account = account or db.namespace.account
    counted = {row.table_id: row for row in (db.usage.report(since) if db.usage is not None else [])}
    live = {table.table_id: table for table in db.catalog.every_table()}
    tables = []
    for table_id in sorted(counted.keys() | live.keys()):
        spec, row = live.get(table_id), counted.get(table_id)
        arn = spec.arn if spec is not None else row.arn if row is not None else ""
        in_region = spec.namespace.region if spec is not None else row.region if row is not None else ""
        if arn.split(":")[4:5] != [account] or region not in (None, in_region):
            continue
        tables.append(_entry(db, spec, row, in_region))
    tables.sort(key=lambda entry: (entry["Region"], entry["TableName"]))
    return {"Metered": db.usage is not None, "Since": since, "Now": db.clock.now(), "Tables": tables}


def _entry(db: Database, spec: TableSpec | None, row: TableUsage | None, region: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "TableName": spec.name if spec is not None else row.name if row is not None else "",
        "TableArn": spec.arn if spec is not None else row.arn if row is not None else "",
        "Region": region,
        "BillingMode": spec.billing_mode if spec is not None else row.billing_mode if row is not None else "",
        "Deleted": spec is None,
        "FirstCounted": row.first_hour if row is not None else None,
        **{name: (row.counts[name] if row is not None else 0.0) for name in COUNTS},
    }
    items = size = entries = 0
    read = write = 0
    if spec is not None:
        items, size = db.storage.counters(spec.table_id)
        for index in spec.indexes:
            count, index_size = db.storage.counters(spec.table_id, index.index_id)
            entries += count
            size += index_size
        if spec.billing_mode == "PROVISIONED":
            gsis = [ix.throughput for ix in spec.indexes if ix.kind == "GSI"]
            read = spec.throughput.read + sum(t.read for t in gsis)
            write = spec.throughput.write + sum(t.write for t in gsis)
    out["ItemCount"] = items
    out["StorageBytes"] = size
    out["BillableStorageBytes"] = size + BYTES_OVERHEAD_PER_ITEM * (items + entries)
    out["ProvisionedReadCapacityUnits"] = read
    out["ProvisionedWriteCapacityUnits"] = write
    return out
