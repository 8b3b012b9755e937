"""What the backup operations answer about a backup: BackupDetails, BackupSummary, BackupDescription."""

from __future__ import annotations

from typing import Any

from ...core.backups import Backup
from ...model.schema import TableSpec


def _throughput(read: int, write: int) -> dict[str, Any]:
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def backup_details(backup: Backup, *, status: str | None = None) -> dict[str, Any]:
    return {
        "BackupArn": backup.arn,
        "BackupName": backup.name,
        "BackupSizeBytes": backup.size,
        "BackupStatus": status or backup.status,
        "BackupType": backup.backup_type,
        "BackupCreationDateTime": backup.created_at,
    }


def backup_summary(backup: Backup) -> dict[str, Any]:
    table = backup.spec
    return {
        "TableName": table.name,
        "TableId": table.table_uuid,
        "TableArn": table.arn,
        **backup_details(backup),
    }


def _source_table(backup: Backup) -> dict[str, Any]:
    table = backup.spec
    return {
        "TableName": table.name,
        "TableId": table.table_uuid,
        "TableArn": table.arn,
        "TableSizeBytes": backup.size,
        "KeySchema": table.key.to_wire(),
        "TableCreationDateTime": table.created_at,
        "ProvisionedThroughput": _throughput(table.throughput.read, table.throughput.write),
        "ItemCount": backup.item_count,
        "BillingMode": table.billing_mode,
    }


def _features(table: TableSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lsis = [ix for ix in table.indexes if ix.kind == "LSI"]
    gsis = [ix for ix in table.indexes if ix.kind == "GSI"]
    if lsis:
        out["LocalSecondaryIndexes"] = [
            {"IndexName": ix.name, "KeySchema": ix.key.to_wire(), "Projection": ix.projection.to_wire()}
            for ix in lsis
        ]
    if gsis:
        out["GlobalSecondaryIndexes"] = [
            {
                "IndexName": ix.name,
                "KeySchema": ix.key.to_wire(),
                "Projection": ix.projection.to_wire(),
                "ProvisionedThroughput": _throughput(ix.throughput.read, ix.throughput.write),
            }
            for ix in gsis
        ]
    if table.stream.enabled:
        out["StreamDescription"] = {"StreamEnabled": True, "StreamViewType": table.stream.view_type}
    if table.ttl.attribute is not None and table.ttl.status == "ENABLED":
        out["TimeToLiveDescription"] = {
            "TimeToLiveStatus": table.ttl.status,
            "AttributeName": table.ttl.attribute,
        }
    if table.sse:
        out["SSEDescription"] = table.sse
    return out


def backup_description(backup: Backup, *, status: str | None = None) -> dict[str, Any]:
    return {
        "BackupDetails": backup_details(backup, status=status),
        "SourceTableDetails": _source_table(backup),
        "SourceTableFeatureDetails": _features(backup.spec),
    }
