"""CreateBackup: a consistent copy of the table as committed now, taken without holding up writes."""

from __future__ import annotations

from typing import Any

from ...core import backups
from ...core.database import Database
from ...errors import LimitExceededException, TableNotFoundException
from ._backups import backup_details

# Backups being taken at once (all namespaces): each holds a read transaction and its connection open
MAX_CREATING = 10


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["TableName"]
    table = db.catalog.get(name)
    if table is None or table.status in ("CREATING", "DELETING"):
        raise TableNotFoundException(f"Table not found: {name}")
    if backups.creating(db) >= MAX_CREATING:
        raise LimitExceededException(
            f"Too many backups being created: this server takes at most {MAX_CREATING} at once"
        )
    backup = await backups.create(db, table, request["BackupName"])
    return {"BackupDetails": backup_details(backup)}
