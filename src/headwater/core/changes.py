"""From one item's (old, new) pair to everything the write changes: the item, its index entries,
its stream record and the table counters. Every write path (put, update, delete, batch,
transaction, TTL) goes through `item_change`, so none of them can forget an index or a record."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ..model.index_keys import index_key
from ..model.keys import encode_key_value, partition_hash
from ..model.schema import IndexSpec, TableSpec
from ..model.size import item_size
from ..model.values import Item, values_equal
from ..storage.base import IndexKey, IndexWrite, ItemKey, ItemWrite, WriteSet
from . import pitr_log, stored
from .kinesis_capture import Destinations
from .lww import Stamp, stamp_key
from .stream_capture import OLD_VIEWS, stream_write


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to one item, for ReturnValues and capacity."""

    old: Item | None
    new: Item | None
    old_size: int
    new_size: int

    @property
    def changed(self) -> bool:
        return not same_item(self.old, self.new)


def same_item(a: Item | None, b: Item | None) -> bool:
    if a is None or b is None:
        return a is b
    if a.keys() != b.keys():
        return False
    return all(values_equal(a[name], b[name]) for name in a)


def item_change(
    ws: WriteSet,
    table: TableSpec,
    key: ItemKey,
    old: Item | None,
    new: Item | None,
    now: float,
    *,
    ttl_delete: bool = False,
    old_size: int | None = None,
    new_size: int | None = None,
    destinations: Destinations | None = None,
    stamp: Stamp | None = None,
) -> Change:
    """Add the writes for one item's change to `ws` and describe it. A change to nothing writes nothing.

    `old_size` and `new_size` pass sizes the caller already knows (the stored header, a put's check);
    `destinations` are the table's Kinesis destination streams as the writer read them. A global
    table's change is stamped (`stamp`: a replicated change's, or the local write's, core/lww.py): the
    stamp is kept beside the item and its stream record carries it, for the other replicas.
    """
    if old_size is None:
        old_size = item_size(old) if old is not None else 0
    if new_size is None:
        new_size = item_size(new) if new is not None else 0
    change = Change(old, new, old_size, new_size)
    if not change.changed:
        return change
    new_json = None if new is None else orjson.dumps(new)
    new_stored = None if new_json is None else stored.pack_json(new_json, new_size)
    ws.items.append(ItemWrite(key, new_stored))
    if table.replicas:
        stamp = stamp or Stamp(now, table.namespace.region)
        ws.items.append(ItemWrite(stamp_key(key), stamp.encode()))
    else:
        stamp = None
    ws.count(table.table_id, (new is not None) - (old is not None), new_size - old_size)
    for index in table.indexes:
        _index_change(ws, table, index, key, old, new)
    streamed = table.stream.enabled and table.stream_id is not None
    kinesis = destinations is not None and bool(table.kinesis)
    old_json = None
    if old is not None and streamed and kinesis and table.stream.view_type in OLD_VIEWS:
        old_json = orjson.dumps(old)  # both records carry the old image: encoded once
    if streamed:
        ws.stream.append(
            stream_write(
                table,
                key,
                old,
                new,
                now,
                ttl_delete=ttl_delete,
                sizes=(old_size, new_size),
                new_bytes=new_json,
                old_bytes=old_json,
                stamp=stamp,
            )
        )
    recovery = table.extra.get(pitr_log.PITR)
    if recovery is not None:  # point-in-time recovery's log: kept whatever the stream (core/pitr_log.py)
        ws.stream.append(pitr_log.log_write(recovery["log_id"], key, new_stored, now))  # the item's bytes
    if destinations is not None and kinesis:
        destinations.append(
            ws,
            table,
            key,
            old,
            new,
            now,
            ttl_delete=ttl_delete,
            sizes=(old_size, new_size),
            new_json=new_json,
            old_json=old_json,
        )
    return change


def index_entry(table: TableSpec, index: IndexSpec, item: Item) -> tuple[bytes, bytes] | None:
    """The index key of `item`, or None when the item is absent from this (sparse) index."""
    return index_key(index.key, item)


def project_for_index(table: TableSpec, index: IndexSpec, item: Item) -> Item:
    if index.projection.type == "ALL":
        return item
    keep = set(table.key.names) | set(index.key.names)
    if index.projection.type == "INCLUDE":
        keep.update(index.projection.non_key_attributes)
    return {name: value for name, value in item.items() if name in keep}


def _index_change(
    ws: WriteSet, table: TableSpec, index: IndexSpec, key: ItemKey, old: Item | None, new: Item | None
) -> None:
    old_entry = index_entry(table, index, old) if old is not None else None
    new_entry = index_entry(table, index, new) if new is not None else None
    if old is not None and old_entry is None:
        _drop_unchecked_entry(ws, table, index, key, old, new_entry)
    old_projected = project_for_index(table, index, old) if old is not None and old_entry else None
    new_projected = project_for_index(table, index, new) if new is not None and new_entry else None
    if old_entry == new_entry and old_projected is not None and same_item(old_projected, new_projected):
        return  # the entry is unchanged
    if old_entry is not None and old_projected is not None:
        ws.count(table.table_id, -1, -item_size(old_projected), index.index_id)
        if old_entry != new_entry:
            ws.indexes.append(IndexWrite(_index_key(table, index, old_entry, key), None))
    if new_entry is not None and new_projected is not None:
        size = item_size(new_projected)
        ws.count(table.table_id, 1, size, index.index_id)
        ws.indexes.append(
            IndexWrite(_index_key(table, index, new_entry, key), stored.pack(new_projected, size))
        )


def _drop_unchecked_entry(
    ws: WriteSet,
    table: TableSpec,
    index: IndexSpec,
    key: ItemKey,
    old: Item,
    new_entry: tuple[bytes, bytes] | None,
) -> None:
    """Versions before the empty-value and key-size checks indexed such values; delete that entry too.

    (Deleting an entry that is not there is a no-op; the counters are left alone, as the entry may not
    be there: a GSI backfill skips such items.)
    """
    attrs = (*index.key.hashes, *index.key.ranges)
    if index.key.composite or any(a.name not in old or a.type not in old[a.name] for a in attrs):
        return
    pk = encode_key_value(attrs[0].type, old[attrs[0].name])
    sk = encode_key_value(attrs[1].type, old[attrs[1].name]) if len(attrs) > 1 else b""
    if (pk, sk) != new_entry:
        ws.indexes.append(IndexWrite(_index_key(table, index, (pk, sk), key), None))


def _index_key(table: TableSpec, index: IndexSpec, entry: tuple[bytes, bytes], key: ItemKey) -> IndexKey:
    pk, sk = entry
    return IndexKey(table.table_id, index.index_id, partition_hash(pk), pk, sk, key.pk, key.sk)
