"""TableDescription, as DescribeTable, CreateTable, UpdateTable and DeleteTable return it."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.table_restore import RESTORE_SUMMARY
from ...model.schema import IndexSpec, TableSpec
from ._legacy_global import LEGACY
from ._replicas import GLOBAL_TABLE_VERSION, replica_descriptions


def _throughput(spec_read: int, spec_write: int) -> dict[str, Any]:
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": spec_read,
        "WriteCapacityUnits": spec_write,
    }


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
        out["ProvisionedThroughput"] = _throughput(index.throughput.read, index.throughput.write)
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
        "ProvisionedThroughput": _throughput(table.throughput.read, table.throughput.write),
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
