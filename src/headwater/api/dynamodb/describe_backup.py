"""DescribeBackup."""

from __future__ import annotations

from typing import Any

from ...core import backups
from ...core.database import Database
from ._backups import backup_description


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return {"BackupDescription": backup_description(backups.require(db, request["BackupArn"]))}
