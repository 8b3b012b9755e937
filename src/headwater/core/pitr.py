"""Point-in-time recovery: turning it on and off, the recovery window, what a restore replays, and the
window moving forward (changes older than the recovery period folded into the base, then dropped).

On: the table's document gets its recovery data (core/pitr_log.py) in one commit, so every change
committed after it is logged; then the table is read at one commit (`Storage.snapshot`, seq S >= that
commit) and copied into the base store, and `base_seq` = S is recorded. A restore to instant T is the
base, then the logged changes numbered after `base_seq` whose time is at or before T, in commit order:
the table as it was at T. Off: the log and the base are dropped with the change that turns it off.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import math
from collections.abc import Iterator, Sequence

from ..model.schema import TableSpec
from ..storage.base import CatalogView, ItemKey, ItemWrite, MetaWrite, WriteSet
from . import backups, pitr_log
from .catalog import TABLE_KIND, MetaOp, catalog_key
from .codec import encode_spec
from .database import Database
from .pitr_log import LOG_SLOT, PITR, Recovery, in_use_key, recovery
from .restore import Change, retarget
from .tables import stream_counter

log = logging.getLogger(__name__)

DAY = 86_400
DEFAULT_PERIOD_DAYS = 35
READ_CHUNK = 1000
# Folding stops at the first change inside the window, but a change's time is taken when its request
# arrives and its number when it commits: trim only what is older by more than any write can wait.
TRIM_MARGIN = 300.0


def _ceil_ms(epoch: float) -> float:
    """An instant the window may start at, in whole milliseconds and never before the exact one."""
    return math.ceil(epoch * 1000) / 1000


def window(table: TableSpec, now: float) -> tuple[float, float] | None:
    """(EarliestRestorableDateTime, LatestRestorableDateTime), or None when recovery is off or its base
    is still being made."""
    found = recovery(table)
    if found is None or found.base_seq is None:
        return None
    return found.base_time, now


async def enable(db: Database, table: TableSpec, period_days: int) -> TableSpec:
    """Turn recovery on (or change its period). The caller holds `db.catalog.lock`."""
    found = recovery(table)
    if found is not None:
        changed = dataclasses.replace(found, period_days=period_days)
        spec = table.evolve(extra={**table.extra, PITR: changed.to_extra()})
        await db.catalog.save(spec)
        return spec
    log_id = stream_counter(db)
    base_id, counter = db.catalog.allocate_id()
    now = db.clock.now()
    started = Recovery(log_id, base_id, period_days, round(now, 3), None, round(now, 3))
    spec = table.evolve(extra={**table.extra, PITR: started.to_extra()})
    await db.catalog.save(spec, counter, MetaWrite("counter", "stream_id", str(log_id + 1).encode()))
    return spec


async def make_base(db: Database, table: TableSpec) -> TableSpec | None:
    """Copy the table, as committed after recovery was turned on, into its base store; then record the
    base's sequence number. None if recovery was turned off (or the table deleted) meanwhile."""
    found = recovery(table)
    assert found is not None
    context = db.storage.snapshot(table.table_id, (found.log_id, LOG_SLOT))  # seq: the log's ceiling
    snapshot = await asyncio.to_thread(context.__enter__)
    # every change in the snapshot was made before now: the earliest instant the base stands for exactly
    opened = db.clock.now()
    try:
        await backups.copy_rows(db, snapshot.rows, found.base_id)
    finally:
        await asyncio.to_thread(context.__exit__, None, None, None)
    async with db.catalog.lock:
        current = db.catalog.latest(table)
        now_found = None if current is None else recovery(current)
        if current is None or now_found is None or now_found.log_id != found.log_id:
            return None
        ready = dataclasses.replace(now_found, base_seq=snapshot.seq, base_time=_ceil_ms(opened))
        spec = current.evolve(extra={**current.extra, PITR: ready.to_extra()})
        await db.catalog.save(spec)
        return spec


async def disable(db: Database, table: TableSpec) -> TableSpec:
    """Turn recovery off: the log and the base go in the same commit. The caller holds the lock."""
    found = recovery(table)
    if found is None:
        return table
    spec = table.evolve(extra={k: v for k, v in table.extra.items() if k != PITR})
    await db.storage.write(
        MetaOp(
            (MetaWrite(TABLE_KIND, catalog_key(spec), encode_spec(spec)),),
            drop_tables=(found.base_id,),
            drop_streams=(found.log_id,),
        )
    )
    return spec


def replay(db: Database, found: Recovery, until: float, ceiling: int, target: TableSpec) -> Iterator[Change]:
    """The item states that make `target` the source table as it was at `until`: the base, then every
    logged change after it (numbered up to `ceiling`) made at or before `until`, in commit order."""
    for row in db.storage.scan(found.base_id, 0):
        yield retarget(target, row), row.item
    for made, key, item in logged(db, found, ceiling, target.table_id):
        if made <= until:
            yield key, item


def logged(
    db: Database, found: Recovery, ceiling: int, table_id: int
) -> Iterator[tuple[float, ItemKey, bytes | None]]:
    """Every logged change after the base, numbered up to `ceiling`, in commit order: the time it was
    made, the item's key (in table `table_id`) and its new stored item (None: deleted)."""
    assert found.base_seq is not None
    seq = found.base_seq + 1
    while True:
        records = db.storage.stream_records(found.log_id, LOG_SLOT, seq, ceiling, READ_CHUNK)
        for record in records:
            yield (record.created_at, *pitr_log.parse(record.payload, table_id))
        if len(records) < READ_CHUNK:
            return
        seq = records[-1].seq + 1


@dataclasses.dataclass(frozen=True, slots=True)
class FoldOp:
    """Logged changes applied to a base store (raw item states: the base is no table)."""

    changes: tuple[Change, ...]

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> FoldOp:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(items=[ItemWrite(key, item) for key, item in self.changes])


async def fold(db: Database, table: TableSpec) -> bool:
    """Move the recovery window's start to now minus the period: apply the older changes to the base,
    in commit order, then drop them from the log. True if the window moved."""
    found = recovery(table)
    if found is None or found.base_seq is None or in_use_key(found) in db.backups_in_use:
        return False
    cutoff = db.clock.now() - found.period_days * DAY
    if found.base_time >= cutoff:
        return False
    db.backups_in_use.add(in_use_key(found))
    try:
        last = found.base_seq
        records = iter(_older(db, found, cutoff))
        while chunk := await asyncio.to_thread(lambda: tuple(itertools.islice(records, READ_CHUNK))):
            changes = tuple(pitr_log.parse(payload, found.base_id) for _, payload in chunk)
            await db.storage.write(FoldOp(changes))
            last = chunk[-1][0]
        async with db.catalog.lock:
            current = db.catalog.latest(table)
            now_found = None if current is None else recovery(current)
            if current is None or now_found is None or now_found.log_id != found.log_id:
                return False
            moved = dataclasses.replace(now_found, base_seq=last, base_time=_ceil_ms(cutoff))
            await db.catalog.save(current.evolve(extra={**current.extra, PITR: moved.to_extra()}))
        await asyncio.to_thread(db.storage.trim_stream_records, found.log_id, cutoff - TRIM_MARGIN)
        return True
    finally:
        db.backups_in_use.discard(in_use_key(found))


def _older(db: Database, found: Recovery, cutoff: float) -> Iterator[tuple[int, bytes]]:
    """(seq, payload) of the logged changes after the base, in commit order, up to the first one made at
    or after `cutoff`."""
    assert found.base_seq is not None
    seq = found.base_seq + 1
    while True:
        records = db.storage.stream_records(found.log_id, LOG_SLOT, seq, None, READ_CHUNK)
        for record in records:
            if record.created_at >= cutoff:
                return
            yield record.seq, record.payload
        if len(records) < READ_CHUNK:
            return
        seq = records[-1].seq + 1


async def run_folder(db: Database, interval: float) -> None:
    """Move every table's recovery window forward, every `interval` seconds."""
    while True:
        await asyncio.sleep(interval)
        for table in db.catalog.every_table():
            try:
                await fold(db, table)
            except Exception:
                log.exception("moving the recovery window of %s failed", table.arn)


async def drop_unfinished(db: Database) -> None:
    """At start: recovery turned on whose base copy never finished is turned off again (its table's
    document says it was never usable)."""
    async with db.catalog.lock:
        for table in db.catalog.every_table():
            found = recovery(table)
            if found is not None and found.base_seq is None:
                log.warning("turning point-in-time recovery of %s off: its base was never made", table.arn)
                await disable(db, table)
