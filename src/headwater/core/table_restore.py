"""A filled table's life (a restore, an import): the table is created CREATING and marked as being filled
(`FILLING`; a restore's RestoreSummary in progress), filled in the background from a stream of item states
(a backup's rows; a base and a replayed change log; an import's files), then made ACTIVE. One cut short
by a stop is a table no one could trust: the next start drops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from ..model.schema import TableSpec
from .database import Database
from .restore import Change, load

log = logging.getLogger(__name__)

RESTORE_SUMMARY = "restore_summary"  # TableSpec.extra: DescribeTable's RestoreSummary
FILLING = "filling"  # TableSpec.extra: being filled (dropped at start if still there)


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
    ended: Callable[[TableSpec, bool], Awaitable[None]] | None = None,
) -> TableSpec:
    """Create `spec` (CREATING) and fill it in the background. The caller holds `db.catalog.lock` and has
    checked that the name is free; `changes(table)` gives the item states to load into the created table;
    `done` runs once the fill is over, however it ended (also when the table could not be created);
    then `ended(table, whether it was filled)`."""
    table_id, counter = db.catalog.allocate_id()
    spec = spec.evolve(table_id=table_id, status="CREATING", extra={**spec.extra, FILLING: True})
    try:
        await db.catalog.save(spec, counter)
    except BaseException:
        done()
        raise
    db.later(0, lambda: _fill(db, spec, changes, done, ended))
    return spec


async def _fill(
    db: Database,
    spec: TableSpec,
    changes: Callable[[TableSpec], Iterator[Change]],
    done: Callable[[], None],
    ended: Callable[[TableSpec, bool], Awaitable[None]] | None,
) -> None:
    filled = await _filled(db, spec, changes, done)
    if ended is not None:
        await ended(spec, filled)


async def _filled(
    db: Database, spec: TableSpec, changes: Callable[[TableSpec], Iterator[Change]], done: Callable[[], None]
) -> bool:
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
        return False
    finally:
        done()
    async with db.catalog.lock:
        current = db.catalog.latest(spec)
        if current is None:
            return False
        extra = {k: v for k, v in current.extra.items() if k != FILLING}
        if RESTORE_SUMMARY in extra:
            extra[RESTORE_SUMMARY] = dict(extra[RESTORE_SUMMARY], RestoreInProgress=False)
        await db.catalog.save(current.evolve(status="ACTIVE", extra=extra))
    return True


async def drop_unfinished(db: Database) -> None:
    """At start: tables whose restore or import never finished."""
    async with db.catalog.lock:
        for table in db.catalog.every_table():
            if table.extra.get(FILLING):
                log.warning("dropping %s: the server stopped while it was being filled", table.arn)
                await db.catalog.drop(table)
