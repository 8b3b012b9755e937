"""ListBackups: the namespace's backups, oldest first, filtered by table, creation time and type; paged
by the last backup's ARN (a position, so a page boundary survives that backup's deletion)."""

from __future__ import annotations

from typing import Any

from ...core import backups
from ...core.database import Database
from ...errors import ValidationException
from ._backups import backup_summary

DEFAULT_LIMIT = 100


def _position(arn: str) -> tuple[int, str]:
    """Where a backup ARN sorts: its creation time (the 14-digit milliseconds of its id), then itself."""
    suffix = arn.rsplit("/backup/", 1)[-1] if "/backup/" in arn else ""
    millis = suffix.split("-", 1)[0]
    if len(millis) != 14 or not millis.isdigit():
        raise ValidationException(f"Invalid ExclusiveStartBackupArn: {arn}")
    return int(millis), arn


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = request.get("TableName")
    table_name = db.catalog.resolve(table)[1] if table is not None else None
    lower = request.get("TimeRangeLowerBound")
    upper = request.get("TimeRangeUpperBound")
    kind = request.get("BackupType") or "USER"
    limit = request.get("Limit") or DEFAULT_LIMIT
    start = request.get("ExclusiveStartBackupArn")
    after = _position(start) if start is not None else None
    found = []
    for backup in backups.every(db):
        if table_name is not None and backup.spec.name != table_name:
            continue
        if lower is not None and backup.created_at < float(lower):
            continue
        if upper is not None and backup.created_at >= float(upper):
            continue
        if kind != "ALL" and backup.backup_type != kind:
            continue
        if after is not None and backups.position(backup) <= after:
            continue
        found.append(backup)
    page = found[:limit]
    out: dict[str, Any] = {"BackupSummaries": [backup_summary(b) for b in page]}
    if len(found) > limit:
        out["LastEvaluatedBackupArn"] = page[-1].arn
    return out
