"""Index keys (model/index_keys.py): who is in an index, and what a write may not put in one."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.errors import ValidationException
from headwater.model.index_keys import check_index_keys, index_key
from headwater.model.keys import encode_key_value, encode_key_values
from headwater.model.schema import IndexSpec, KeyAttribute, KeySchema, Projection

MULTI = KeySchema(
    (KeyAttribute("h1", "S"), KeyAttribute("h2", "N")),
    (KeyAttribute("r1", "S"), KeyAttribute("r2", "B")),
)
SINGLE = KeySchema.single(KeyAttribute("x", "S"), KeyAttribute("y", "S"))
GSI = IndexSpec(1, "gsi", "GSI", MULTI, Projection())
ONE = IndexSpec(2, "one", "GSI", SINGLE, Projection("KEYS_ONLY"))
FULL = {"h1": {"S": "a"}, "h2": {"N": "1"}, "r1": {"S": "b"}, "r2": {"B": "AQ=="}}


def test_an_item_with_every_key_attribute_is_in_the_index() -> None:
    assert index_key(MULTI, FULL) == (
        encode_key_values(MULTI.hashes, [FULL["h1"], FULL["h2"]]),
        encode_key_values(MULTI.ranges, [FULL["r1"], FULL["r2"]]),
    )
    assert index_key(SINGLE, {"x": {"S": "a"}, "y": {"S": "b"}}) == (
        encode_key_value("S", {"S": "a"}),
        encode_key_value("S", {"S": "b"}),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"h2": None},  # missing
        {"r2": None},
        {"h2": {"S": "1"}},  # another type
        {"r1": {"S": ""}},  # empty
        {"r2": {"B": ""}},
        {"h1": {"S": "x" * 2047}},  # with h2 (2 bytes) over the 2048-byte partition total
        {"r1": {"S": "x" * 1024}},  # with r2 (1 byte) over the 1024-byte sort total
    ],
)
def test_items_that_break_the_key_are_not_in_the_index(change: dict[str, Any]) -> None:
    item = {k: v for k, v in {**FULL, **change}.items() if v is not None}
    assert index_key(MULTI, item) is None


def test_one_attribute_at_its_limit_is_in_the_index() -> None:
    assert index_key(SINGLE, {"x": {"S": "x" * 2048}, "y": {"S": "y" * 1024}}) is not None
    assert index_key(SINGLE, {"x": {"S": "x" * 2049}, "y": {"S": "y"}}) is None


def _refusal(
    item: dict[str, Any], *, updating: bool = False, item_typed: frozenset[str] = frozenset()
) -> str:
    with pytest.raises(ValidationException) as info:
        check_index_keys((ONE, GSI), item, updating=updating, item_typed=item_typed)
    return str(info.value.message)


def test_writes_are_checked_size_then_type_then_empty_then_totals() -> None:
    too_long = {"x": {"S": "x" * 2049}}
    assert _refusal({**too_long, "h2": {"S": "1"}, "r1": {"S": ""}}) == (
        "One or more parameter values were invalid: Size limit exceeded for Index Key x Actual Size: 2049 "
        "bytes Max Size: 2048 bytes IndexName: one"
    )
    assert _refusal({"h2": {"S": "1"}, "r1": {"S": ""}}) == (
        "One or more parameter values were invalid: Type mismatch for Index Key h2 Expected: N Actual: S "
        "IndexName: gsi"
    )
    assert _refusal({"h1": {"S": "x" * 2048}, "h2": {"N": "1"}, "r2": {"B": ""}}) == (
        "One or more parameter values are not valid. A value specified for a secondary index key is not "
        "supported. The AttributeValue for a key attribute cannot contain an empty binary value. "
        "IndexName: gsi, IndexKey: r2"
    )
    assert _refusal({"r2": {"B": ""}}, updating=True) == (
        "One or more parameter values are not valid. The update expression attempted to update a secondary "
        "index key to a value that is not supported. The AttributeValue for a key attribute cannot contain "
        "an empty binary value."
    )
    # the totals count the attributes present, even when the item is not in the index
    assert _refusal({"h1": {"S": "x" * 2048}, "h2": {"N": "1"}}) == (
        "Aggregate size for HASH key attributes h1, h2 of index gsi has exceeded limit 2048 bytes, with "
        "actual size 2050 bytes"
    )
    check_index_keys((ONE, GSI), {**FULL, "x": {"S": "x" * 2048}}, updating=False)


def test_a_type_the_item_decided_has_the_update_expression_message() -> None:
    mistyped = {"h2": {"S": "1"}}
    assert _refusal(mistyped, updating=True, item_typed=frozenset({"h2"})) == (
        "The update expression attempted to update the secondary index key to unsupported type"
    )
    assert _refusal(mistyped, updating=True, item_typed=frozenset({"x"})).startswith(
        "One or more parameter values were invalid: Type mismatch for Index Key h2"
    )
