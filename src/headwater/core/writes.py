"""Single-item write operations (PutItem, UpdateItem, DeleteItem) as pure read-modify-write units."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConditionalCheckFailedException, ValidationException
from ..expressions import apply_update, evaluate, item_typed_attributes
from ..model.index_keys import check_index_keys
from ..model.limits import MAX_ITEM_BYTES, MAX_ITEM_COLLECTION_BYTES
from ..model.schema import TableSpec
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import CatalogView, ItemKey, WriteSet
from . import stored
from .capacity import write_units
from .catalog import current_table
from .changes import Change, item_change
from .collections import CollectionSizes, collection_keys
from .kinesis_capture import Destinations, destination_keys
from .lww import Stamp, local_stamp, stamp_key

WriteKind = Literal["put", "update", "delete"]


@dataclass(frozen=True, slots=True)
class WriteResult:
    change: Change
    updated_paths: Any = None  # UpdateItem: what the update touched (for UPDATED_OLD/UPDATED_NEW)
    index_units: dict[str, float] = field(default_factory=dict)
    collection_size: int | None = None  # the item collection's size after the write (tables with LSIs)
    key_item: Item = field(default_factory=dict)  # the key attributes (names the collection)

    @property
    def units(self) -> float:
        return write_units(max(self.change.old_size, self.change.new_size))


def index_write_units(table: TableSpec, ws: WriteSet) -> dict[str, float]:
    """Each index entry written or deleted costs write units by its size."""
    names = {index.index_id: index.name for index in table.indexes}
    units: dict[str, float] = {}
    for write in ws.indexes:
        name = names.get(write.key.index_id)
        if name is not None:
            size = stored.size_of(write.item) if write.item is not None else 0
            units[name] = units.get(name, 0.0) + write_units(size)
    return units


def check_index_key_types(table: TableSpec, item: Item) -> None:
    """Refuse an item to put whose values would break one of the table's index keys (type, empty, size)."""
    if table.indexes:
        check_index_keys(table.indexes, item, updating=False)


def check_condition(condition: Any, old: Item | None, return_old: bool) -> None:
    if condition is not None and not evaluate(condition, old):
        if return_old and old is not None:
            raise ConditionalCheckFailedException(Item=old)
        raise ConditionalCheckFailedException()


@dataclass(frozen=True, slots=True)
class ItemWriteOp:
    """One item's put, update or delete. `apply` is pure: it only reads its argument."""

    kind: WriteKind
    table: TableSpec
    key: ItemKey
    key_item: Item  # the key attributes
    now: float
    item: Item | None = None  # put: the new item
    update: Any = None  # update: the compiled update (None: only make sure the item exists)
    condition: Any = None
    return_old_on_failure: bool = False
    item_size: int | None = None  # put: the new item's size, already computed by the caller
    collection_limit: int = MAX_ITEM_COLLECTION_BYTES
    # the item, its collection's size counter (tables with LSIs), the documents of its Kinesis
    # destination streams, then its last-writer-wins stamp (global tables); computed once
    keys: tuple[ItemKey, ...] = field(init=False)
    collection_end: int = field(init=False)

    def __post_init__(self) -> None:
        collections = collection_keys(((self.table, self.key),))
        stamp = (stamp_key(self.key),) if self.table.is_global else ()
        object.__setattr__(self, "collection_end", 1 + len(collections))
        object.__setattr__(self, "keys", (self.key, *collections, *destination_keys((self.table,)), *stamp))

    def resolve(self, catalog: CatalogView) -> ItemWriteOp:
        table = current_table(catalog, self.table)
        return self if table is self.table else dataclasses.replace(self, table=table)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        old, old_size = stored.unpack_optional(old_items[0])
        end = self.collection_end
        collections = CollectionSizes(self.keys[1:end], old_items[1:end], self.collection_limit)
        stamped = self.table.is_global
        destinations_end = len(self.keys) - stamped
        destinations = Destinations.of(old_items[end:destinations_end]) if end < destinations_end else None
        stamp = (
            local_stamp(Stamp.decode(old_items[-1]), self.now, self.table.namespace.region)
            if stamped
            else None
        )
        check_condition(self.condition, old, self.return_old_on_failure)
        updated_paths = None
        new: Item | None
        size = self.item_size if self.kind == "put" else None
        if self.kind == "put":
            new = self.item
        elif self.kind == "delete":
            new = None
        else:
            new, updated_paths, size = self._updated(old)
        ws = WriteSet()
        collection_size = collections.change(self.table, self.key, old, new)
        change = item_change(
            ws,
            self.table,
            self.key,
            old,
            new,
            self.now,
            old_size=old_size,
            new_size=size,
            destinations=destinations,
            stamp=stamp,
        )
        collections.write(ws)
        ws.result = WriteResult(
            change,
            updated_paths,
            index_write_units(self.table, ws) if ws.indexes else {},
            collection_size,
            self.key_item,
        )
        return ws

    def _updated(self, old: Item | None) -> tuple[Item | None, Any, int | None]:
        """The updated item (None: nothing to create), the paths the update touched, and the new size
        when it was measured."""
        return updated_item(self.table, self.key_item, self.update, old)


def updated_item(
    table: TableSpec, key_item: Item, update: Any, old: Item | None
) -> tuple[Item | None, Any, int | None]:
    """What an update (UpdateItem, a transaction's Update) leaves of `old`: the new item, the paths the
    update touched and the new size when it was measured. A missing item is created from its key, unless
    every action only takes something away: DynamoDB then creates nothing (the update still runs first,
    so its errors are the same)."""
    base = old if old is not None else dict(key_item)
    if update is None:
        return base, None, None
    result = apply_update(update, base, table.key.names)
    if old is None and update.only_removes:
        return None, result.updated_paths, None
    new = result.item
    if table.indexes:
        check_index_keys(table.indexes, new, updating=True, item_typed=item_typed_attributes(update))
    size = item_size(new)
    if size > MAX_ITEM_BYTES:
        raise ValidationException("Item size to update has exceeded the maximum allowed size")
    return new, result.updated_paths, size
