"""What the multi-item operations share: table lookup, key checks, per-table ConsumedCapacity lists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...core.capacity import consumed_capacity
from ...core.database import Database
from ...errors import ResourceNotFoundException, ValidationException
from ...model.keys import KEY_SCHEMA_MISMATCH, item_key, request_key
from ...model.limits import MAX_ITEM_BYTES
from ...model.schema import TableSpec
from ...model.size import item_size
from ...model.values import Item, validate_item
from ...storage.base import ItemKey
from ._items import storage_key

NO_TABLE = "Cannot do operations on a non-existent table"
KEY_CONDITIONS_INVALID = "The number of conditions on the keys is invalid"


def require_table(db: Database, name: str) -> TableSpec:
    table = db.catalog.get(name)
    if table is None:
        raise ResourceNotFoundException(NO_TABLE)
    return table


def key_of(table: TableSpec, raw: Any) -> tuple[ItemKey, Item]:
    """A `Key` member of a multi-item request; a key without exactly the key attributes is refused."""
    try:
        pk, sk = request_key(raw, table.key)
    except ValidationException as error:
        if error.message == KEY_SCHEMA_MISMATCH:
            raise ValidationException(KEY_CONDITIONS_INVALID) from None
        raise
    return storage_key(table, pk, sk), {name: raw[name] for name in table.key.names}


def item_of(table: TableSpec, raw: Any, *, missing_key: str | None = None) -> tuple[ItemKey, Item]:
    """A put's item: valid, with its key, within the size limit."""
    item = validate_item(raw)
    if missing_key is not None:
        for name in table.key.names:
            if name not in item:
                raise ValidationException(missing_key)
    pk, sk = item_key(item, table.key)
    if item_size(item) > MAX_ITEM_BYTES:
        raise ValidationException("Item size has exceeded the maximum allowed size")
    return storage_key(table, pk, sk), item


def capacity_list(
    mode: str | None, entries: Iterable[tuple[TableSpec, float, dict[str, float]]], kind: str
) -> list[dict[str, Any]] | None:
    """One ConsumedCapacity per table, in the order tables first appear."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    tables: dict[str, tuple[TableSpec, float, dict[str, float]]] = {}
    for table, units, index_units in entries:
        _, total, indexes = tables.get(table.name, (table, 0.0, {}))
        merged = dict(indexes)
        for name, value in index_units.items():
            merged[name] = merged.get(name, 0.0) + value
        tables[table.name] = (table, total + units, merged)
    out: list[dict[str, Any]] = []
    for table, units, index_units in tables.values():
        capacity = consumed_capacity(mode, table, units, kind=kind, index_units=index_units)
        if capacity is not None:
            out.append(capacity)
    return out
