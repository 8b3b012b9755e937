"""Time to live: a sweeper deletes expired items through the normal write path (indexes, stream record).

An item expires when its TTL attribute is a Number of epoch seconds in the past; other types are
ignored, and so are values more than five years in the past (as DynamoDB does). Expired items stay
readable until swept. Each deletion re-checks expiry inside the write, so a concurrent update that
moves the TTL forward wins.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ..errors import ResourceNotFoundException
from ..model.schema import TableSpec
from ..model.values import Item
from ..storage.base import CatalogView, ItemKey, WriteSet
from . import stored
from .catalog import current_table
from .changes import item_change
from .collections import CollectionSizes, collection_keys
from .database import Database
from .kinesis_capture import Destinations, destination_keys
from .lww import Stamp, local_stamp, stamp_key

log = logging.getLogger(__name__)

FIVE_YEARS = 5 * 365 * 24 * 3600


def expired(item: Item, attribute: str, now: float) -> bool:
    value = item.get(attribute)
    if not isinstance(value, dict) or "N" not in value:
        return False
    try:
        expires = float(value["N"])
    except (TypeError, ValueError):
        return False
    return now - FIVE_YEARS <= expires < now


@dataclass(frozen=True, slots=True)
class TtlDeleteOp:
    """Delete one item if (still) expired; the REMOVE record carries the TTL service identity."""

    table: TableSpec
    key: ItemKey
    attribute: str
    now: float  # the sweep's instant: what has expired
    at: float  # the REMOVE record's time: taken after the sweep read the item (not before its last write)

    @property
    def keys(self) -> Sequence[ItemKey]:
        """The item, its collection counter, its Kinesis destinations, its stamp (global tables)."""
        stamp = (stamp_key(self.key),) if self.table.is_global else ()
        return (self.key, *self._collections, *destination_keys((self.table,)), *stamp)

    @property
    def _collections(self) -> tuple[ItemKey, ...]:
        return collection_keys(((self.table, self.key),))

    def resolve(self, catalog: CatalogView) -> TtlDeleteOp:
        table = current_table(catalog, self.table)
        return self if table is self.table else dataclasses.replace(self, table=table)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        old, old_size = stored.unpack_optional(old_items[0])
        ws = WriteSet(result=False)
        ttl = self.table.ttl  # as committed: TTL disabled or moved to another attribute since: keep it
        live = ttl.status == "ENABLED" and ttl.attribute == self.attribute
        if live and old is not None and expired(old, self.attribute, self.now):
            keys = self.keys
            end = 1 + len(self._collections)
            collections = CollectionSizes(keys[1:end], old_items[1:end], limit=0)  # a delete only shrinks
            collections.change(self.table, self.key, old, None)
            stamped = self.table.is_global
            destinations_end = len(keys) - stamped
            olds = old_items[end:destinations_end]
            destinations = Destinations.of(olds) if end < destinations_end else None
            region = self.table.namespace.region
            stamp = local_stamp(Stamp.decode(old_items[-1]), self.at, region) if stamped else None
            item_change(
                ws,
                self.table,
                self.key,
                old,
                None,
                self.at,
                ttl_delete=True,
                old_size=old_size,
                destinations=destinations,
                stamp=stamp,
            )
            collections.write(ws)
            ws.result = True
        return ws


def _expired_keys(db: Database, table: TableSpec, attribute: str, now: float) -> list[ItemKey]:
    found: list[ItemKey] = []
    marker = b'"' + orjson.dumps(attribute)[1:-1] + b'"'
    for row in db.storage.scan(table.table_id, 0):
        if marker not in row.item:  # cheap pre-filter: most items of most tables do not expire now
            continue
        item = stored.unpack(row.item)
        if expired(item, attribute, now):
            found.append(ItemKey(table.table_id, row.h, row.pk, row.sk))
    return found


async def sweep(db: Database) -> int:
    """One pass over every table with TTL enabled; returns how many items were deleted."""
    deleted = 0
    for table in db.catalog.every_table():
        if table.ttl.status != "ENABLED" or table.ttl.attribute is None or table.status != "ACTIVE":
            continue
        now = db.clock.now()
        keys = await asyncio.to_thread(_expired_keys, db, table, table.ttl.attribute, now)
        for key in keys:
            current = db.catalog.latest(table)
            if current is None or current.ttl.attribute is None:
                break
            try:
                op = TtlDeleteOp(current, key, current.ttl.attribute, now, db.clock.now())
                if await db.storage.write(op):
                    deleted += 1
            except ResourceNotFoundException:  # the table was deleted meanwhile
                break
    return deleted


async def run_sweeper(db: Database, interval: float) -> None:
    while True:
        await asyncio.sleep(max(interval, 0.05))
        try:
            await sweep(db)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("TTL sweep failed")
