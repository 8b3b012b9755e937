"""Filling a table from rows: a restore from a backup, and the replay of a table's changes (point-in-time
recovery). Both go through `item_change`, so index entries, counters and item collections come out as a
client's writes would have made them; in chunks through the single writer, never the whole table at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..model.schema import TableSpec
from ..storage.base import CatalogView, ItemKey, Row, Storage, WriteSet
from . import stored
from .catalog import current_table
from .changes import item_change
from .collections import CollectionSizes, collection_keys

CHUNK = 500
NO_LIMIT = 1 << 62  # a restore reproduces collections that existed: the 10 GB rule is not re-applied

# One item's state to load: its key in the target table, and its stored bytes (None: it is deleted).
Change = tuple[ItemKey, bytes | None]


@dataclass(frozen=True, slots=True)
class LoadOp:
    """Set a chunk of items of `table` to the given states, as writes of the table would."""

    table: TableSpec
    changes: tuple[Change, ...]

    @property
    def keys(self) -> Sequence[ItemKey]:
        items = tuple(dict.fromkeys(key for key, _ in self.changes))
        return (*items, *collection_keys((self.table, key) for key in items))

    def resolve(self, catalog: CatalogView) -> LoadOp:
        table = current_table(catalog, self.table)
        return self if table is self.table else dataclasses.replace(self, table=table)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        keys = self.keys
        count = len(dict.fromkeys(key for key, _ in self.changes))
        current: dict[ItemKey, bytes | None] = dict(zip(keys[:count], old_items[:count], strict=True))
        collections = CollectionSizes(keys[count:], old_items[count:], limit=NO_LIMIT)
        ws = WriteSet()
        for key, new_raw in self.changes:  # one key may change several times in a chunk (a replay)
            old, old_size = stored.unpack_optional(current[key])
            new, new_size = stored.unpack_optional(new_raw)
            collections.change(self.table, key, old, new)
            item_change(ws, self.table, key, old, new, 0.0, old_size=old_size, new_size=new_size)
            current[key] = new_raw
        collections.write(ws)
        return ws


def retarget(table: TableSpec, row: Row) -> ItemKey:
    """Where a row of another store (a backup) goes in `table`: same hash and key bytes, its table id."""
    return ItemKey(table.table_id, row.h, row.pk, row.sk)


async def load(storage: Storage, table: TableSpec, changes: Iterator[Change]) -> None:
    """Write `changes` into `table` chunk by chunk; they are read (and any reading done) off the event
    loop. ResourceNotFoundException if the table goes away meanwhile."""
    while chunk := await asyncio.to_thread(lambda: tuple(itertools.islice(changes, CHUNK))):
        await storage.write(LoadOp(table, chunk))
