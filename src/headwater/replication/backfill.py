"""A new replica's first copy of the items, each with its last-writer-wins stamp, and of the deleted
items' stamps (tombstones). Same server: the source replica's items and stamp rows scanned in chunks,
each key copied by a `ReplicaCopyOp` (item and stamp read and applied inside the writer). Another
server: its Scan with Headwater's stamps member, each page's items and tombstones applied as replicated
changes. Writes go on in every region meanwhile; the links' streams bring what changed, and last writer
wins settles each item."""

from __future__ import annotations

import asyncio
from typing import Any

from ..core.database import Database
from ..core.lww import Stamp, stamp_table_id
from ..core.replicated import ReplicaCopyOp, ReplicatedChangeOp, ReplicatedPageOp, key_of
from ..model.schema import TableSpec
from ..storage.base import ItemKey
from ..streams.records import REPLICATION_STAMPS, REPLICATION_TOMBSTONES
from .peers import Peers

CHUNK = 256


async def copy_items(db: Database, source: TableSpec, target: TableSpec) -> int:
    """Copy every item of `source` into `target` (both tables of this server), and the stamps of its
    deleted items (tombstones, why: `copy_remote_items`); how many were copied."""
    stamps_id = stamp_table_id(source.table_id)
    after: tuple[int, bytes, bytes] | None = None
    copied = 0
    while rows := await asyncio.to_thread(db.storage.scan_paired, source.table_id, stamps_id, after, CHUNK):
        now = db.clock.now()
        origin = source.namespace.region
        ops = [ReplicaCopyOp(target, ItemKey(source.table_id, r.h, r.pk, r.sk), origin, now) for r in rows]
        results = await asyncio.gather(*(db.storage.write(op) for op in ops))
        copied += sum(1 for result in results if result)
        after = (rows[-1].h, rows[-1].pk, rows[-1].sk)
    return copied


async def copy_remote_items(db: Database, peers: Peers, origin: str, target: TableSpec) -> int:
    """Copy the items of the replica in `origin`, another server's region, read with Scan and Headwater's
    own member HeadwaterReplicationStamps (api/dynamodb/_stamped_scan.py): each item with the stamp of
    the change that made it, read with it, and the stamps of the deleted items (tombstones). So the new
    replica refuses an older change of an item that a stream brings later, as the origin did, even once
    the origin's stream no longer holds the last change (retention). An item written before the table
    became global has no stamp: it is copied as the earliest possible change of its origin, so any
    change of it the streams bring replaces it. Each page is applied as one operation."""
    copied = 0  # items and tombstones
    request: dict[str, Any] = {
        "TableName": target.name,
        "ConsistentRead": True,
        "Limit": CHUNK,
        REPLICATION_STAMPS: True,
    }
    earliest = Stamp(0.0, origin)
    while True:
        page = await peers.call(origin, "Scan", request)
        table = db.scoped(target.namespace).catalog.latest(target) or target
        items = page["Items"]
        stamps = page.get(REPLICATION_STAMPS) or [None] * len(items)  # (a server that has no stamps to give)
        now = db.clock.now()
        ops = [
            ReplicatedChangeOp(table, key_of(table, item), item, Stamp.from_wire(stamp) or earliest, now)
            for item, stamp in zip(items, stamps, strict=True)
        ]
        for tombstone in page.get(REPLICATION_TOMBSTONES, ()):
            stamp = Stamp.from_wire(tombstone.get("replication"))
            if stamp is not None:
                ops.append(ReplicatedChangeOp(table, key_of(table, tombstone["Keys"]), None, stamp, now))
        if ops:
            results = await db.storage.write(ReplicatedPageOp(tuple(ops)))
            copied += sum(1 for result in results if result)
        last = page.get("LastEvaluatedKey")
        if not last:
            return copied
        request["ExclusiveStartKey"] = last
