"""A change of another replica of a global table, applied here through the one write path.

The decision is made inside the single writer: the operation reads the item and its last-writer-wins
stamp (core/lww.py) in the same transaction as it writes, and applies the change only if its stamp is
later. Nothing is read before and written after, so a local write or another replica's change
committed in between cannot be overwritten by an older one. The applied change is an ordinary item
change: index entries, collection sizes, Kinesis destinations and a stream record of this replica (which
carries the origin's stamp, so this replica's shippers know it is not theirs to ship).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..model.keys import item_key, partition_hash
from ..model.schema import TableSpec
from ..model.values import Item
from ..storage.base import CatalogView, ItemKey, ItemWrite, MetaWrite, WriteSet
from . import stored
from .catalog import current_table
from .changes import item_change
from .collections import CollectionSizes, collection_keys
from .kinesis_capture import Destinations, destination_keys
from .lww import Stamp, stamp_key, wins

_NO_LIMIT = 1 << 62  # the origin already enforced the collection limit: a replica never refuses


def key_of(table: TableSpec, keys: Item) -> ItemKey:
    """The storage key of the item whose key attributes are `keys`."""
    pk, sk = item_key(keys, table.key)
    return ItemKey(table.table_id, partition_hash(pk), pk, sk)


@dataclass(frozen=True, slots=True)
class ReplicatedChangeOp:
    """Apply `new` (None: a delete) to the item at `key` if `stamp` is later than the stored stamp.
    The result is True when it was applied."""

    table: TableSpec
    key: ItemKey
    new: Item | None
    stamp: Stamp
    now: float
    ttl_delete: bool = False
    keys: tuple[ItemKey, ...] = field(init=False)
    collection_end: int = field(init=False)

    def __post_init__(self) -> None:
        collections = collection_keys(((self.table, self.key),))
        object.__setattr__(self, "collection_end", 1 + len(collections))
        destinations = destination_keys((self.table,))
        object.__setattr__(self, "keys", (self.key, *collections, *destinations, stamp_key(self.key)))

    def resolve(self, catalog: CatalogView) -> ReplicatedChangeOp:
        table = current_table(catalog, self.table)
        return self if table is self.table else dataclasses.replace(self, table=table)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        if not wins(self.stamp, Stamp.decode(old_items[-1])):
            return WriteSet(result=False)
        old, old_size = stored.unpack_optional(old_items[0])
        end = self.collection_end
        collections = CollectionSizes(self.keys[1:end], old_items[1:end], _NO_LIMIT)
        destinations_end = len(self.keys) - 1
        destinations = Destinations.of(old_items[end:destinations_end]) if end < destinations_end else None
        ws = WriteSet(result=True)
        collections.change(self.table, self.key, old, self.new)
        change = item_change(
            ws,
            self.table,
            self.key,
            old,
            self.new,
            self.now,
            ttl_delete=self.ttl_delete,
            old_size=old_size,
            destinations=destinations,
            stamp=self.stamp if self.table.is_global else None,
        )
        if not change.changed or not self.table.is_global:
            # the same content (or no table stamps): the later stamp must still be remembered
            ws.items.append(ItemWrite(stamp_key(self.key), self.stamp.encode()))
        collections.write(ws)
        return ws


@dataclass(frozen=True, slots=True)
class ReplicatedPageOp:
    """A page of one source's changes (`changes`, in stream order) applied as ONE operation, together
    with the link's checkpoint (`progress`): one submission to the writer and both committed or neither,
    so a link never applies a page without remembering it, nor remembers one it did not apply. Each
    change decides as `ReplicatedChangeOp` does, seeing what the page's earlier changes wrote (two
    changes of one item in a page apply in order). The result: each change's result, in order."""

    changes: tuple[ReplicatedChangeOp, ...]
    progress: tuple[MetaWrite, ...] = ()
    keys: tuple[ItemKey, ...] = field(init=False)

    def __post_init__(self) -> None:
        keys = dict.fromkeys(key for change in self.changes for key in change.keys)
        object.__setattr__(self, "keys", tuple(keys))

    def resolve(self, catalog: CatalogView) -> ReplicatedPageOp:
        resolved = tuple(change.resolve(catalog) for change in self.changes)
        if all(new is old for new, old in zip(resolved, self.changes, strict=True)):
            return self
        return ReplicatedPageOp(resolved, self.progress)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        rows = dict(zip(self.keys, old_items, strict=True))  # as the page's changes so far leave them
        ws = WriteSet()
        results = []
        for change in self.changes:
            one = change.apply([rows[key] for key in change.keys])
            results.append(one.result)
            if not one.result:
                continue
            for write in one.items:
                rows[write.key] = write.item
            ws.items.extend(one.items)
            ws.indexes.extend(one.indexes)
            ws.stream.extend(one.stream)
            ws.meta.extend(one.meta)
            for (table_id, index_id), (count, size) in one.counters.items():
                ws.count(table_id, count, size, index_id)
        ws.meta.extend(self.progress)
        ws.result = tuple(results)
        return ws


@dataclass(frozen=True, slots=True)
class ReplicaCopyOp:
    """A new replica's backfill, one item: read the source replica's item and stamp (same server) and
    apply them to the new replica as a replicated change, all inside the writer; a deleted item's stamp
    (its tombstone) as a delete. A change of the item made meanwhile, in any region, reaches the new
    replica through the streams with a later stamp, so whichever arrives first, the later one stays."""

    table: TableSpec  # the new replica
    source: ItemKey  # the item in the source replica's table
    origin: str  # the source region: the stamp of an item written before the table was global
    now: float

    @property
    def keys(self) -> tuple[ItemKey, ...]:
        return (self.source, stamp_key(self.source), *self._change(None, Stamp(0.0, "")).keys)

    def _change(self, item: Item | None, stamp: Stamp) -> ReplicatedChangeOp:
        key = ItemKey(self.table.table_id, self.source.h, self.source.pk, self.source.sk)
        return ReplicatedChangeOp(self.table, key, item, stamp, self.now)

    def resolve(self, catalog: CatalogView) -> ReplicaCopyOp:
        table = current_table(catalog, self.table)
        return self if table is self.table else dataclasses.replace(self, table=table)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        item, _ = stored.unpack_optional(old_items[0])
        stamp = Stamp.decode(old_items[1])
        if item is None and stamp is None:  # no item, and no delete of one to remember
            return WriteSet(result=False)
        # an item without a stamp was written before the table was global; no item but a stamp: a
        # delete's (a tombstone), copied so that an older change of the item a stream brings loses
        return self._change(item, stamp or Stamp(0.0, self.origin)).apply(old_items[2:])
