"""A new replica's first copy of the items: the source replica's table scanned in chunks, each item
copied by a `ReplicaCopyOp` (item and stamp read and applied inside the writer). Writes go on in every
region meanwhile; the links' streams bring what changed, and last writer wins settles each item."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

from ..core.database import Database
from ..core.replicated import ReplicaCopyOp
from ..model.schema import TableSpec
from ..storage.base import ItemKey, Row

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
