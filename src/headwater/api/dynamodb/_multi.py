"""What the multi-item operations share: table lookup, key checks, per-table ConsumedCapacity lists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...core.capacity import consumed_capacity
from ...core.collections import metrics
from ...core.database import Database
from ...core.transactions import cancellation_message
from ...errors import TransactionCanceledException, ValidationException
from ...model.keys import KEY_SCHEMA_MISMATCH, item_key, request_key
from ...model.limits import MAX_ITEM_BYTES
from ...model.schema import TableSpec
from ...model.size import item_size
from ...model.values import Item, validate_item
from ...storage.base import ItemKey
from ._items import storage_key


def require_table(db: Database, name: str) -> TableSpec:
    """The real service's text for a missing (or still CREATING) table in Batch*/Transact* operations is
    the short one of the item operations (DynamoDB Local says "Cannot do operations on a non-existent
    table")."""
    return db.catalog.require(name)


def key_of(table: TableSpec, raw: Any) -> tuple[ItemKey, Item]:
    """A `Key` member of a multi-item request: like GetItem's, one without exactly the key attributes or
    with one of another type "does not match the schema" (DynamoDB Local: "The number of conditions on the
    keys is invalid" or "Type mismatch for key")."""
    values = validate_item(raw)
    pk, sk = request_key(values, table.key)
    return storage_key(table, pk, sk), {name: values[name] for name in table.key.names}


def key_cancellation(failures: dict[int, str], count: int) -> TransactionCanceledException:
    """A transaction with keys that do not fit their schema (messages by position): cancelled with reason
    ValidationError for each of them and None for the others, as DynamoDB answers it."""
    reasons = [
        {"Code": "ValidationError", "Message": failures[i]} if i in failures else {"Code": "None"}
        for i in range(count)
    ]
    return TransactionCanceledException(
        cancellation_message([r["Code"] for r in reasons]), CancellationReasons=reasons
    )


def item_of(table: TableSpec, raw: Any) -> tuple[ItemKey, Item, int]:
    """A BatchWriteItem PutRequest's item: valid, with its key, within the size limit. Unlike PutItem, a
    missing or wrongly typed key attribute "does not match the schema"."""
    item = validate_item(raw)
    for attr in (table.key.hash, table.key.range):
        if attr is not None and (attr.name not in item or attr.type not in item[attr.name]):
            raise ValidationException(KEY_SCHEMA_MISMATCH)
    pk, sk = item_key(item, table.key)
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException("Item size has exceeded the maximum allowed size")
    return storage_key(table, pk, sk), item, size


def capacity_list(
    mode: str | None, entries: Iterable[tuple[TableSpec, float, dict[str, float]]], kind: str
) -> list[dict[str, Any]] | None:
    """One ConsumedCapacity per table, in the order tables first appear."""
    if mode not in ("TOTAL", "INDEXES"):
        return None
    tables: dict[int, tuple[TableSpec, float, dict[str, float]]] = {}
    for table, units, index_units in entries:
        _, total, indexes = tables.get(table.table_id, (table, 0.0, {}))
        merged = dict(indexes)
        for name, value in index_units.items():
            merged[name] = merged.get(name, 0.0) + value
        tables[table.table_id] = (table, total + units, merged)
    out: list[dict[str, Any]] = []
    for table, units, index_units in tables.values():
        capacity = consumed_capacity(mode, table, units, kind=kind, index_units=index_units)
        if capacity is not None:
            out.append(capacity)
    return out


def collection_metrics(
    mode: str | None, writes: Iterable[tuple[TableSpec, Item, int | None]]
) -> dict[str, list[dict[str, Any]]] | None:
    """`ItemCollectionMetrics` of BatchWriteItem/TransactWriteItems: per table, one entry per write to a
    table with LSIs (key item, collection size after it); tables without LSIs are left out."""
    if mode != "SIZE":
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    for table, key_item, size in writes:
        if size is not None:
            out.setdefault(table.name, []).append(metrics(table, key_item, size))
    return out or None
