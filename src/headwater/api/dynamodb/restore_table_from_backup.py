"""RestoreTableFromBackup: a new table made from a backup's items, CREATING until they are all in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...core import backups, table_restore
from ...core.database import Database
from ...core.restore import Change, retarget
from ...errors import BackupInUseException, TableAlreadyExistsException
from ...model.schema import TableSpec
from ._describe import table_description
from ._restore_spec import restored_spec


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    namespace, name = db.catalog.resolve(request["TargetTableName"])
    async with db.catalog.lock:
        backup = backups.require(db, request["BackupArn"])
        if backup.status != "AVAILABLE":
            raise BackupInUseException(f"Backup is in use: {backup.arn}")
        if db.catalog.get(request["TargetTableName"]) is not None:
            raise TableAlreadyExistsException(f"Table already exists: {name}")
        now = db.clock.now()
        summary = table_restore.summary(
            backup_arn=backup.arn, table_arn=backup.spec.arn, when=backup.created_at
        )
        spec = restored_spec(backup.spec, request, namespace, name, now, summary)
        in_use = db.backups_in_use
        in_use.add(backup.arn)

        def changes(table: TableSpec) -> Iterator[Change]:
            return ((retarget(table, row), row.item) for row in backups.rows(db, backup))

        created = await table_restore.start(db, spec, changes, lambda: in_use.discard(backup.arn))
    return {"TableDescription": table_description(db, created)}
