"""What the item operations share: key resolution, ReturnValues, ConsumedCapacity."""

from __future__ import annotations

from typing import Any

from ...core.capacity import consumed_capacity
from ...core.collections import metrics
from ...core.writes import WriteResult, check_index_key_types
from ...errors import ValidationException
from ...expressions import updated_attributes
from ...model.keys import item_key, partition_hash, request_key
from ...model.limits import MAX_ITEM_BYTES
from ...model.schema import TableSpec
from ...model.size import item_size
from ...model.values import Item
from ...storage.base import ItemKey


def resolve_key(table: TableSpec, key: Any) -> tuple[ItemKey, Item]:
    """The storage key and the key attributes of a `Key` request parameter."""
    pk, sk = request_key(key, table.key)
    return ItemKey(table.table_id, partition_hash(pk), pk, sk), {name: key[name] for name in table.key.names}


def storage_key(table: TableSpec, pk: bytes, sk: bytes) -> ItemKey:
    return ItemKey(table.table_id, partition_hash(pk), pk, sk)


def put_target(table: TableSpec, item: Item) -> tuple[ItemKey, int]:
    """The storage key and size of a validated item to put (PutItem, a transaction's Put), after PutItem's
    checks in DynamoDB's order: the key attributes, the item size, the index keys."""
    pk, sk = item_key(item, table.key)
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException("Item size has exceeded the maximum allowed size")
    check_index_key_types(table, item)
    return storage_key(table, pk, sk), size


def check_return_values(value: str | None, allowed: tuple[str, ...]) -> str:
    value = value or "NONE"
    if value not in allowed:
        raise ValidationException("Return values set to invalid value")
    return value


def write_response(
    request: dict[str, Any], table: TableSpec, result: WriteResult, return_values: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    change = result.change
    attributes: Item | None = None
    if return_values == "ALL_OLD":
        attributes = change.old
    elif return_values == "ALL_NEW":
        attributes = change.new
    elif return_values == "UPDATED_OLD" and change.old is not None:
        attributes = updated_attributes(change.old, result.updated_paths)
    elif return_values == "UPDATED_NEW" and change.new is not None:
        attributes = updated_attributes(change.new, result.updated_paths)
    if attributes:
        out["Attributes"] = attributes
    capacity = consumed_capacity(
        request.get("ReturnConsumedCapacity"),
        table,
        result.units,
        kind="write",
        index_units=result.index_units,
    )
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    if request.get("ReturnItemCollectionMetrics") == "SIZE" and result.collection_size is not None:
        out["ItemCollectionMetrics"] = metrics(table, result.key_item, result.collection_size)
    return out
