"""Item collections of tables with local secondary indexes: their size, the 10 GB rule, and metrics.

An item collection is every item with one partition key value plus their LSI entries. Its size is kept
in a counter row beside the items, so no write ever scans a partition: the row lives in the `items`
store under the table's negated id (`collection_table_id`), keyed by the partition key. A write op adds
the counter's key to the keys it reads, so the single writer hands it the current size together with
the old items, and the new size commits in the same WriteSet (no storage protocol change; both backends
already store items). DeleteTable drops the negated id with the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import ItemCollectionSizeLimitExceededException
from ..model.keys import partition_hash
from ..model.schema import TableSpec
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import ItemKey, ItemWrite, WriteSet
from .changes import index_entry, project_for_index

COLLECTION_EXCEEDED = "Collection size exceeded."
CANCEL_CODE = "ItemCollectionSizeLimitExceeded"
GB = 1024**3


def collection_table_id(table_id: int) -> int:
    """Where a table's item-collection counters live (never a real table id: those are positive)."""
    return -table_id


def has_collections(table: TableSpec) -> bool:
    return bool(table.indexes) and any(index.kind == "LSI" for index in table.indexes)


def collection_key(table: TableSpec, key: ItemKey) -> ItemKey:
    return ItemKey(collection_table_id(table.table_id), partition_hash(key.pk), key.pk, b"")


def collection_bytes(table: TableSpec, item: Item | None) -> int:
    """What one item adds to its collection: its size plus its projected entry in every LSI it is in."""
    if item is None:
        return 0
    total = item_size(item)
    for index in table.indexes:
        if index.kind == "LSI" and index_entry(table, index, item) is not None:
            total += item_size(project_for_index(table, index, item))
    return total


def size_range_gb(size: int) -> list[float]:
    """DynamoDB's two-element estimate: the whole gigabytes below the size and the next one."""
    low = math.floor(size / GB)
    return [float(low), float(low + 1)]


def metrics(table: TableSpec, key_item: Item, size: int) -> dict[str, Any]:
    """The wire `ItemCollectionMetrics` of one affected collection."""
    name = table.key.hash.name
    return {"ItemCollectionKey": {name: key_item[name]}, "SizeEstimateRangeGB": size_range_gb(size)}


class CollectionSizes:
    """The sizes of the collections one operation touches, as `apply` sees and changes them.

    Built inside `apply` from the counter rows the writer read; local to one call (not shared state).
    """

    def __init__(self, keys: Sequence[ItemKey], stored: Sequence[bytes | None], limit: int) -> None:
        self._limit = limit
        self._sizes: dict[ItemKey, int] = {
            key: int(raw) if raw else 0 for key, raw in zip(keys, stored, strict=True)
        }
        self._changed: set[ItemKey] = set()

    def change(self, table: TableSpec, key: ItemKey, old: Item | None, new: Item | None) -> int | None:
        """Account one item's change; the collection's new size (None: the table has no LSI).

        A change that grows a collection past the limit raises ItemCollectionSizeLimitExceededException;
        one that shrinks it is always allowed.
        """
        if not has_collections(table):
            return None
        ckey = collection_key(table, key)
        size = self._sizes.get(ckey, 0)
        delta = collection_bytes(table, new) - collection_bytes(table, old)
        if delta > 0 and size + delta > self._limit:
            raise ItemCollectionSizeLimitExceededException(COLLECTION_EXCEEDED)
        if delta:
            # A counter that predates the tracking may be short: never go below zero.
            size = max(0, size + delta)
            self._sizes[ckey] = size
            self._changed.add(ckey)
        return size

    def write(self, ws: WriteSet) -> None:
        for ckey in sorted(self._changed, key=lambda k: (k.table_id, k.h, k.pk)):
            size = self._sizes[ckey]
            ws.items.append(ItemWrite(ckey, str(size).encode() if size else None))


def collection_keys(pairs: Iterable[tuple[TableSpec, ItemKey]]) -> tuple[ItemKey, ...]:
    """The distinct counter keys of the collections the given items belong to, in first-seen order."""
    seen: dict[ItemKey, None] = {}
    for table, key in pairs:
        if has_collections(table):
            seen.setdefault(collection_key(table, key))
    return tuple(seen)
