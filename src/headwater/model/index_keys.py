"""Secondary index keys: when an item is in an index, its entry's key bytes, and the write-time checks.

An item is in an index only when every key attribute is present with the declared type and a valid
value: not an empty string or binary, each value within the key size limit (partition 2048 bytes, sort
1024 bytes) and, for multi-attribute keys, the HASH values and the RANGE values each within that limit
together. Writes that would break these rules are refused (`check_index_keys`); items already in a table
when a GSI is created are checked while backfilling and left out of the index (`index_key` is None).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Literal

from headwater.errors import ValidationException
from headwater.model.keys import KeyMismatch, encode_key_values
from headwater.model.limits import MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES
from headwater.model.schema import IndexSpec, KeyAttribute, KeySchema
from headwater.model.size import value_size
from headwater.model.values import AttributeValue, Item

_INVALID = "One or more parameter values were invalid: "
_NOT_VALID = "One or more parameter values are not valid. "

KeyRole = Literal["HASH", "RANGE"]


def _kind(key_type: str) -> str:
    return "binary" if key_type == "B" else "string"


class EmptyIndexKeyValue(ValidationException):
    """An empty string or binary for an index key: the request itself is invalid, so a transaction
    answers it as a plain ValidationException, not as a cancellation reason (as DynamoDB Local does)."""

    @property
    def type_name(self) -> str:
        return "ValidationException"


def empty_index_key_message(index_name: str, attr: KeyAttribute) -> str:
    return (
        f"{_NOT_VALID}A value specified for a secondary index key is not supported. The AttributeValue for "
        f"a key attribute cannot contain an empty {_kind(attr.type)} value. IndexName: {index_name}, "
        f"IndexKey: {attr.name}"
    )


def _empty_update_message(attr: KeyAttribute) -> str:
    return (
        f"{_NOT_VALID}The update expression attempted to update a secondary index key to a value that is "
        f"not supported. The AttributeValue for a key attribute cannot contain an empty "
        f"{_kind(attr.type)} value."
    )


def _groups(schema: KeySchema) -> Iterator[tuple[KeyRole, tuple[KeyAttribute, ...], int]]:
    yield "HASH", schema.hashes, MAX_PARTITION_KEY_BYTES
    if schema.ranges:
        yield "RANGE", schema.ranges, MAX_SORT_KEY_BYTES


def is_empty_key_value(attr: KeyAttribute, value: AttributeValue) -> bool:
    """An empty string or binary of the attribute's type: never a valid key value."""
    return attr.type != "N" and value.get(attr.type) == ""


def index_key(schema: KeySchema, item: Item) -> tuple[bytes, bytes] | None:
    """(partition, sort) bytes of `item`'s entry in an index with this key, or None: not in the index."""
    values: list[AttributeValue] = []
    for _role, attrs, limit in _groups(schema):
        total = 0
        for attr in attrs:
            value = item.get(attr.name)
            if value is None or attr.type not in value or is_empty_key_value(attr, value):
                return None
            total += value_size(value)
            values.append(value)
        if total > limit:  # (for one attribute, the attribute's own limit)
            return None
    pk = encode_key_values(schema.hashes, values[: len(schema.hashes)])
    return pk, encode_key_values(schema.ranges, values[len(schema.hashes) :]) if schema.ranges else b""


# An update expression's SET whose value takes its type from the item (a path) and gives an index key another
# type; a value the request types itself (:v, arithmetic, list_append) is a plain type mismatch.
UNSUPPORTED_UPDATED_TYPE = (
    "The update expression attempted to update the secondary index key to unsupported type"
)


def check_index_keys(
    indexes: Sequence[IndexSpec], item: Item, *, updating: bool, item_typed: Collection[str] = ()
) -> None:
    """Refuse an item whose values would break an index key. The checks run in DynamoDB's order: every
    value's size, then types, then empty values, then the totals of multi-attribute keys. `item_typed`: the
    attributes an update set to values typed by the item it found."""
    present = [
        (index.name, limit, attr, item[attr.name])
        for index in indexes
        for _role, attrs, limit in _groups(index.key)
        for attr in attrs
        if attr.name in item
    ]
    for index_name, limit, attr, value in present:
        size = value_size(value)
        if attr.type in value and attr.type != "N" and size > limit:
            raise ValidationException(
                f"{_INVALID}Size limit exceeded for Index Key {attr.name} Actual Size: {size} bytes "
                f"Max Size: {limit} bytes IndexName: {index_name}"
            )
    for index_name, _limit, attr, value in present:
        if attr.type not in value:
            if attr.name in item_typed:
                raise KeyMismatch(UNSUPPORTED_UPDATED_TYPE)
            raise KeyMismatch(
                f"{_INVALID}Type mismatch for Index Key {attr.name} Expected: {attr.type} "
                f"Actual: {next(iter(value))} IndexName: {index_name}"
            )
    for index_name, _limit, attr, value in present:
        if is_empty_key_value(attr, value):
            raise EmptyIndexKeyValue(
                _empty_update_message(attr) if updating else empty_index_key_message(index_name, attr)
            )
    for index in indexes:
        for role, attrs, limit in _groups(index.key):
            total = sum(value_size(item[a.name]) for a in attrs if a.name in item)
            if len(attrs) > 1 and total > limit:
                raise ValidationException(
                    f"Aggregate size for {role} key attributes {', '.join(a.name for a in attrs)} of index "
                    f"{index.name} has exceeded limit {limit} bytes, with actual size {total} bytes"
                )
