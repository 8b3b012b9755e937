"""TableDescription, as DescribeTable, CreateTable, UpdateTable and DeleteTable return it."""

from __future__ import annotations

from typing import Any

from ...core.capacity_changes import CapacityChanges, capacity_changes
from ...core.database import Database
from ...core.table_restore import RESTORE_SUMMARY
from ...core.throughput import ON_DEMAND
from ...core.warm import index_on_demand
from ...model.schema import IndexSpec, TableSpec
from ._legacy_global import LEGACY
from ._replicas import GLOBAL_TABLE_VERSION, replica_descriptions
from ._warm import description as warm_description


def _throughput(spec_read: int, spec_write: int, changes: CapacityChanges | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if changes is not None and changes.last_increase is not None:
        out["LastIncreaseDateTime"] = changes.last_increase
    if changes is not None and changes.decreases:
        out["LastDecreaseDateTime"] = changes.decreases[-1]
    out["NumberOfDecreasesToday"] = changes.today(changes.now) if changes is not None else 0
    out["ReadCapacityUnits"] = spec_read
    out["WriteCapacityUnits"] = spec_write
    return out


def _index_description(db: Database, table: TableSpec, index: IndexSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": index.key.to_wire(),
        "Projection": index.projection.to_wire(),
    }
    if index.kind == "GSI":
        out["IndexStatus"] = index.status
        if index.backfilling:
            out["Backfilling"] = True
        changes = capacity_changes(table, index.name, db.clock.now())
        out["ProvisionedThroughput"] = _throughput(index.throughput.read, index.throughput.write, changes)
        maximums = index_on_demand(table, index)
        if maximums:
            out["OnDemandThroughput"] = dict(maximums)
        out["WarmThroughput"] = warm_description(db, table, index)
    count, size = db.storage.counters(table.table_id, index.index_id)
    out["IndexSizeBytes"] = size
    out["ItemCount"] = count
    out["IndexArn"] = f"{table.arn}/index/{index.name}"
    return out


def table_description(db: Database, table: TableSpec) -> dict[str, Any]:
    count, size = db.storage.counters(table.table_id)
    out: dict[str, Any] = {
        "AttributeDefinitions": [
            {"AttributeName": a.name, "AttributeType": a.type} for a in table.attribute_definitions
        ],
        "TableName": table.name,
        "KeySchema": table.key.to_wire(),
        "TableStatus": table.status,
        "CreationDateTime": table.created_at,
        "ProvisionedThroughput": _throughput(
            table.throughput.read, table.throughput.write, capacity_changes(table, None, db.clock.now())
        ),
        "TableSizeBytes": size,
        "ItemCount": count,
        "TableArn": table.arn,
        "TableId": table.table_uuid,
        "DeletionProtectionEnabled": table.deletion_protection,
    }
    if table.billing_mode == "PAY_PER_REQUEST" or table.billing_mode_updated_at is not None:
        summary: dict[str, Any] = {"BillingMode": table.billing_mode}
        summary["LastUpdateToPayPerRequestDateTime"] = table.billing_mode_updated_at or table.created_at
        out["BillingModeSummary"] = summary
    if table.extra.get(ON_DEMAND):
        out["OnDemandThroughput"] = dict(table.extra[ON_DEMAND])
    out["WarmThroughput"] = warm_description(db, table, None)
    lsis = [_index_description(db, table, ix) for ix in table.indexes if ix.kind == "LSI"]
    gsis = [_index_description(db, table, ix) for ix in table.indexes if ix.kind == "GSI"]
    if lsis:
        out["LocalSecondaryIndexes"] = lsis
    if gsis:
        out["GlobalSecondaryIndexes"] = gsis
    if table.stream.enabled:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream.view_type}
    label = table.extra.get("stream_label")
    if label:
        out["LatestStreamLabel"] = label
        out["LatestStreamArn"] = f"{table.arn}/stream/{label}"
    if table.sse:
        out["SSEDescription"] = table.sse
    restored = table.extra.get(RESTORE_SUMMARY)
    if restored:
        out["RestoreSummary"] = restored
    if table.table_class != "STANDARD":
        out["TableClassSummary"] = {"TableClass": table.table_class}
    if table.replicas and LEGACY not in table.extra:  # a legacy one answers DescribeGlobalTable instead
        out["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
        out["Replicas"] = replica_descriptions(table)
    return out
