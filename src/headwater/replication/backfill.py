"""A new replica's first copy of the items: the source replica's table scanned in chunks, each item
copied by a `ReplicaCopyOp` (item and stamp read and applied inside the writer). Writes go on in every
region meanwhile; the links' streams bring what changed, and last writer wins settles each item."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

from ..core.database import Database
from ..core.lww import Stamp
from ..core.replicated import ReplicaCopyOp, ReplicatedChangeOp, key_of
from ..model.schema import TableSpec
from ..storage.base import ItemKey, Row
from .peers import Peers

CHUNK = 256


async def copy_items(db: Database, source: TableSpec, target: TableSpec) -> int:
    """Copy every item of `source` into `target` (both tables of this server); how many were copied."""
    rows = db.storage.scan(source.table_id, 0)
    copied = 0
    while chunk := await asyncio.to_thread(_take, rows):
        ops = [
            ReplicaCopyOp(
                target, ItemKey(source.table_id, r.h, r.pk, r.sk), source.namespace.region, db.clock.now()
            )
            for r in chunk
        ]
        results = await asyncio.gather(*(db.storage.write(op) for op in ops))
        copied += sum(1 for result in results if result)
    return copied


def _take(rows: Iterator[Row]) -> list[Row]:
    return list(itertools.islice(rows, CHUNK))


async def copy_remote_items(db: Database, peers: Peers, origin: str, target: TableSpec) -> int:
    """Copy the items of the replica in `origin`, another server's region, read with Scan. Their stamps
    are not readable there: each is copied as the earliest possible change of its origin, so any change
    of the item the streams bring (every one since the table became global) replaces it."""
    copied = 0
    request: dict[str, Any] = {"TableName": target.name, "ConsistentRead": True, "Limit": CHUNK}
    stamp = Stamp(0.0, origin)
    while True:
        page = await peers.call(origin, "Scan", request)
        table = db.scoped(target.namespace).catalog.latest(target) or target
        ops = [
            ReplicatedChangeOp(table, key_of(table, item), item, stamp, db.clock.now())
            for item in page["Items"]
        ]
        results = await asyncio.gather(*(db.storage.write(op) for op in ops))
        copied += sum(1 for result in results if result)
        last = page.get("LastEvaluatedKey")
        if not last:
            return copied
        request["ExclusiveStartKey"] = last
