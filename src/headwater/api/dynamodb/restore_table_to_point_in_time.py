"""RestoreTableToPointInTime: a new table holding the source table as it was at an instant of its
recovery window (its base, then its logged changes up to that instant), CREATING until it is filled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...core import pitr, table_restore
from ...core.database import Database
from ...core.exports import iso
from ...core.pitr_log import LOG_SLOT, in_use_key, recovery
from ...core.restore import Change
from ...errors import (
    InvalidRestoreTimeException,
    PointInTimeRecoveryUnavailableException,
    TableAlreadyExistsException,
    TableNotFoundException,
    ValidationException,
)
from ...model.schema import TableSpec
from ._describe import table_description
from ._restore_spec import restored_spec


def _source_name(request: dict[str, Any]) -> str:
    arn, name = request.get("SourceTableArn"), request.get("SourceTableName")
    if (arn is None) == (name is None):
        raise ValidationException("Exactly one of SourceTableArn or SourceTableName must be specified")
    return str(arn if arn is not None else name)


def _instant(request: dict[str, Any]) -> float | None:
    """The requested instant; None for the latest restorable time."""
    latest = request.get("UseLatestRestorableTime")
    when = request.get("RestoreDateTime")
    if latest and when is not None:
        raise ValidationException("Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
    if not latest and when is None:
        raise ValidationException("Either RestoreDateTime or UseLatestRestorableTime must be specified")
    return None if latest or when is None else float(when)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    source_name = _source_name(request)
    instant = _instant(request)
    namespace, name = db.catalog.resolve(request["TargetTableName"])
    async with db.catalog.lock:
        source = db.catalog.get(source_name)
        if source is None:
            raise TableNotFoundException(f"Table not found: {source_name}")
        found = recovery(source)
        span = pitr.window(source, db.clock.now())
        if found is None or span is None:
            raise PointInTimeRecoveryUnavailableException(
                f"Point in time recovery is not enabled for table '{source.name}'"
            )
        until = span[1] if instant is None else instant
        if not span[0] <= until <= span[1]:
            raise InvalidRestoreTimeException(
                f"Restore time {iso(until)} is not within the restorable window "
                f"[{iso(span[0])}, {iso(span[1])}]"
            )
        if db.catalog.get(request["TargetTableName"]) is not None:
            raise TableAlreadyExistsException(f"Table already exists: {name}")
        now = db.clock.now()
        summary = table_restore.summary(backup_arn=None, table_arn=source.arn, when=until)
        spec = restored_spec(source, request, namespace, name, now, summary)
        # every change up to `until` has committed by now
        ceiling = db.storage.shard_ceiling(found.log_id, LOG_SLOT)
        in_use, key = db.backups_in_use, in_use_key(found)
        in_use.add(key)

        def changes(table: TableSpec) -> Iterator[Change]:
            return pitr.replay(db, found, until, ceiling, table)

        created = await table_restore.start(db, spec, changes, lambda: in_use.discard(key))
    return {"TableDescription": table_description(db, created)}
