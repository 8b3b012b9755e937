"""DescribeContinuousBackups: point-in-time recovery's status, period and restorable window."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._continuous_backups import continuous_backups, source_table


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = source_table(db, request["TableName"])
    return {"ContinuousBackupsDescription": continuous_backups(db, table)}
