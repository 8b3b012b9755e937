"""A restore's life: the target table is created CREATING (with its RestoreSummary in progress), filled in
the background from a stream of item states (a backup's rows; a snapshot and a replayed change log), then
made ACTIVE. A restore cut short by a stop leaves a table no one could trust: the next start drops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

from ..model.schema import TableSpec
from .database import Database
from .restore import Change, load

log = logging.getLogger(__name__)

RESTORE_SUMMARY = "restore_summary"  # TableSpec.extra: DescribeTable's RestoreSummary


def summary(*, backup_arn: str | None, table_arn: str, when: float) -> dict[str, Any]:
    """A restore's RestoreSummary while it is in progress."""
    out: dict[str, Any] = {"SourceTableArn": table_arn, "RestoreDateTime": when, "RestoreInProgress": True}
    if backup_arn is not None:
        out["SourceBackupArn"] = backup_arn
    return out


async def start(
    db: Database,
    spec: TableSpec,
    changes: Callable[[TableSpec], Iterator[Change]],
    done: Callable[[], None] = lambda: None,
) -> TableSpec:
    """Create `spec` (CREATING) and fill it in the background. The caller holds `db.catalog.lock` and has
    checked that the name is free; `changes(table)` gives the item states to load into the created table;
    `done` runs once the fill is over, however it ended (also when the table could not be created)."""
    table_id, counter = db.catalog.allocate_id()
    spec = spec.evolve(table_id=table_id, status="CREATING")
    try:
        await db.catalog.save(spec, counter)
    except BaseException:
        done()
        raise
    db.later(0, lambda: _fill(db, spec, changes, done))
    return spec


async def _fill(
    db: Database, spec: TableSpec, changes: Callable[[TableSpec], Iterator[Change]], done: Callable[[], None]
) -> None:
    try:
        await load(db.storage, spec, await asyncio.to_thread(changes, spec))
    except asyncio.CancelledError:  # stopping: the next start drops the half-restored table
        raise
    except Exception:
        log.exception("restore of %s failed; the table is dropped", spec.arn)
        async with db.catalog.lock:
            current = db.catalog.latest(spec)
            if current is not None:
                await db.catalog.drop(current)
        return
    finally:
        done()
    async with db.catalog.lock:
        current = db.catalog.latest(spec)
        if current is not None:
            restored = dict(current.extra.get(RESTORE_SUMMARY) or {}, RestoreInProgress=False)
            extra = dict(current.extra, **{RESTORE_SUMMARY: restored})
            await db.catalog.save(current.evolve(status="ACTIVE", extra=extra))


async def drop_unfinished(db: Database) -> None:
    """At start: tables whose restore never finished."""
    async with db.catalog.lock:
        for table in db.catalog.every_table():
            restored = table.extra.get(RESTORE_SUMMARY)
            if restored and restored.get("RestoreInProgress"):
                log.warning("dropping %s: the server stopped while it was being restored", table.arn)
                await db.catalog.drop(table)
