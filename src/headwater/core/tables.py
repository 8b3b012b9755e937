"""Table lifecycle: create, update, delete, with DynamoDB's status transitions.

Callers hold `db.catalog.lock` so that the check and the catalog write are one step.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import orjson

from ..errors import ResourceInUseException
from ..model.schema import StreamSpec, TableSpec
from ..shardlog.markers import CLOSE, marker
from ..storage.base import MetaWrite, StreamWrite
from . import pitr_log
from .catalog import COUNTER_KIND
from .database import Database

STREAM_KIND = "stream"


def stream_label(epoch: float) -> str:
    """DynamoDB's stream label: an ISO-8601 timestamp with milliseconds, UTC, no zone suffix."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def stream_counter(db: Database) -> int:
    stored = db.storage.meta_get(COUNTER_KIND, "stream_id")
    return int(stored) if stored else 1


def open_stream(
    db: Database, spec: TableSpec, stream: StreamSpec
) -> tuple[TableSpec, list[MetaWrite | StreamWrite]]:
    """Give the table a new stream (a new id, label and ARN); the old stream, if any, lives on."""
    stream_id = stream_counter(db)
    now = db.clock.now()
    label = stream_label(now)
    previous = spec.extra.get("stream_label")
    while previous is not None and label <= previous:  # a new stream of the table needs a new ARN
        now += 0.001
        label = stream_label(now)
    stream = dataclasses.replace(stream, shards=db.settings.stream_shards)
    doc = {
        "stream_id": stream_id,
        "table_id": spec.table_id,
        "table_name": spec.name,
        "label": label,
        "arn": f"{spec.arn}/stream/{label}",
        "view_type": stream.view_type,
        "key": spec.key.to_wire(),
        "created_at": now,
        "status": "ENABLED",
        "disabled_at": None,
        "shards": stream.shards,
        # every record of this stream commits later, so gets a greater sequence number
        "start_seq": db.storage.last_sequence(),
    }
    extra = dict(spec.extra, stream_label=label)
    writes: list[MetaWrite | StreamWrite] = [
        MetaWrite(COUNTER_KIND, "stream_id", str(stream_id + 1).encode()),
        MetaWrite(STREAM_KIND, f"{stream_id:012d}", orjson.dumps(doc)),
    ]
    return spec.evolve(stream=stream, stream_id=stream_id, extra=extra), writes


def close_stream(db: Database, spec: TableSpec) -> tuple[TableSpec, list[MetaWrite | StreamWrite]]:
    """Disable the table's stream: it stays listed and readable (DISABLED) for the retention period.

    The CLOSE marker, committed with the status change, ends every open shard at an exact sequence number.
    """
    writes: list[MetaWrite | StreamWrite] = []
    if spec.stream_id is not None:
        key = f"{spec.stream_id:012d}"
        stored = db.storage.meta_get(STREAM_KIND, key)
        if stored is not None:
            doc = orjson.loads(stored)
            doc["status"] = "DISABLED"
            doc["disabled_at"] = db.clock.now()
            writes.append(MetaWrite(STREAM_KIND, key, orjson.dumps(doc)))
            writes.append(marker(spec.stream_id, CLOSE, doc["disabled_at"]))
    return spec.evolve(stream=StreamSpec(False)), writes


async def create_table(db: Database, spec: TableSpec) -> TableSpec:
    table_id, counter = db.catalog.allocate_id()
    delay = db.settings.table_status_delay
    spec = spec.evolve(table_id=table_id, status="CREATING" if delay else "ACTIVE")
    writes: list[MetaWrite | StreamWrite] = [counter]
    if spec.stream.enabled:
        spec, stream_writes = open_stream(db, spec, spec.stream)
        writes.extend(stream_writes)
    await db.catalog.save(spec, *writes)
    if delay:
        db.later(delay, lambda: _set_status(db, spec, "ACTIVE"))
    return spec


async def update_table(db: Database, spec: TableSpec, writes: list[MetaWrite | StreamWrite]) -> TableSpec:
    delay = db.settings.table_status_delay
    if delay:
        spec = spec.evolve(status="UPDATING")
        db.later(delay, lambda: _set_status(db, spec, "ACTIVE"))
    await db.catalog.save(spec, *writes)
    return spec


async def delete_table(db: Database, spec: TableSpec) -> TableSpec:
    """Mark DELETING; drop the data at once (or after the configured delay). Refused while a restore
    replays the table's point-in-time recovery data, which goes with the table."""
    found = pitr_log.recovery(spec)
    if found is not None and pitr_log.in_use_key(found) in db.backups_in_use:
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table is being restored from: {spec.name}"
        )
    spec, writes = close_stream(db, spec)
    deleting = spec.evolve(status="DELETING")
    delay = db.settings.table_status_delay
    if delay:
        await db.catalog.save(deleting, *writes)
        db.later(delay, lambda: _drop(db, deleting))
    else:
        await db.catalog.drop(deleting, *writes)
    return deleting


async def _drop(db: Database, spec: TableSpec) -> None:
    async with db.catalog.lock:
        current = db.catalog.latest(spec)
        if current is not None:
            await db.catalog.drop(current)


async def _set_status(db: Database, spec: TableSpec, status: str) -> None:
    async with db.catalog.lock:
        current = db.catalog.latest(spec)
        if current is not None and current.status != "DELETING":
            await db.catalog.save(current.evolve(status=status))
