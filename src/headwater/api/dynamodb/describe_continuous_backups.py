"""DescribeContinuousBackups: Headwater keeps no backups, so point-in-time recovery is always DISABLED."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import TableNotFoundException


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["TableName"]
    if db.catalog.get(name) is None:
        raise TableNotFoundException(f"Table not found: {name}")
    return {
        "ContinuousBackupsDescription": {
            # DynamoDB reports its always-on on-demand backups as ENABLED for every table.
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
        }
    }
