"""ContinuousBackupsDescription, as DescribeContinuousBackups and UpdateContinuousBackups answer it."""

from __future__ import annotations

from typing import Any

from ...core import pitr
from ...core.database import Database
from ...core.pitr_log import recovery
from ...errors import TableNotFoundException
from ...model.schema import TableSpec


def source_table(db: Database, name: str) -> TableSpec:
    """The backup operations name a missing table with TableNotFoundException."""
    table = db.catalog.get(name)
    if table is None:
        raise TableNotFoundException(f"Table not found: {name}")
    return table


def continuous_backups(db: Database, table: TableSpec) -> dict[str, Any]:
    found = recovery(table)
    description: dict[str, Any] = {"PointInTimeRecoveryStatus": "ENABLED" if found else "DISABLED"}
    if found is not None:
        description["RecoveryPeriodInDays"] = found.period_days
        span = pitr.window(table, db.clock.now())
        if span is not None:
            description["EarliestRestorableDateTime"] = span[0]
            description["LatestRestorableDateTime"] = span[1]
    # DynamoDB reports its always-on on-demand backups as ENABLED for every table.
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": description}
