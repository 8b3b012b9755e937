"""DeleteBackup: answers the backup as DELETED; its rows go in the same commit as its description."""

from __future__ import annotations

from typing import Any

from ...core import backups
from ...core.database import Database
from ...errors import BackupInUseException
from ._backups import backup_description


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:  # a restore marks the backup in use under the same lock
        backup = backups.require(db, request["BackupArn"])
        if backups.in_use(db, backup):
            raise BackupInUseException(f"Backup is in use: {backup.arn}")
        await backups.delete(db, backup)
    return {"BackupDescription": backup_description(backup, status="DELETED")}
