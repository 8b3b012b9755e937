"""UpdateContinuousBackups: point-in-time recovery on (with its period, 1-35 days) or off.

Turning it on makes the table's base copy (read at one commit while writes go on) in the background and
waits for it a few seconds: a small table's answer describes a usable window at once; a big one's says
ENABLED, and DescribeContinuousBackups shows the window once the copy is in."""

from __future__ import annotations

import asyncio
from typing import Any

from ...core import pitr
from ...core.database import Database
from ...core.pitr_log import in_use_key, recovery
from ...errors import ContinuousBackupsUnavailableException, ValidationException
from ...model.schema import TableSpec
from ._continuous_backups import continuous_backups, source_table

BASE_WAIT = 10.0  # seconds the answer waits for the base copy


async def _make_base(db: Database, table: TableSpec) -> None:
    await pitr.make_base(db, table)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    wanted = request["PointInTimeRecoverySpecification"]
    enabled = wanted["PointInTimeRecoveryEnabled"]
    period = wanted.get("RecoveryPeriodInDays")
    if period is not None and not enabled:
        raise ValidationException(
            "RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true"
        )
    async with db.catalog.lock:
        table = source_table(db, request["TableName"])
        if table.status in ("CREATING", "DELETING"):
            raise ContinuousBackupsUnavailableException("Backups are being enabled for the table")
        if enabled:
            table = await pitr.enable(db, table, period or pitr.DEFAULT_PERIOD_DAYS)
        else:
            found = recovery(table)
            if found is not None and in_use_key(found) in db.backups_in_use:
                raise ContinuousBackupsUnavailableException(
                    "A restore from this table's point-in-time recovery data is in progress"
                )
            table = await pitr.disable(db, table)
    found = recovery(table)
    if found is not None and found.base_seq is None:
        making = db.later(0, lambda: _make_base(db, table))
        await asyncio.wait({making}, timeout=BASE_WAIT)
        table = db.catalog.latest(table) or table
    return {"ContinuousBackupsDescription": continuous_backups(db, table)}
