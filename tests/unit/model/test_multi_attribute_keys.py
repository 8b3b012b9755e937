"""The multi-attribute key encoding (model/keys.py): byte order is tuple order, prefixes stay prefixes."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from headwater.model import number
from headwater.model.keys import (
    decode_key_values,
    encode_key_value,
    encode_key_values,
    escape_key_bytes,
    key_component,
)
from headwater.model.schema import KeyAttribute, KeyType

from .test_number import dynamo_numbers

Value = dict[str, Any]
# Bytes that matter to the escaping: the zero byte, the terminator's second byte, the escape's 0xFF.
tricky_bytes = st.binary(min_size=1, max_size=6).map(
    lambda b: b.replace(b"a", b"\x00").replace(b"b", b"\xff")
)
tricky_text = st.text(alphabet=st.sampled_from("\x00\x01a\u00e9\U0001f600\x7f"), min_size=1, max_size=5)


def _value(key_type: str) -> st.SearchStrategy[Value]:
    if key_type == "S":
        return tricky_text.map(lambda s: {"S": s})
    if key_type == "B":
        return tricky_bytes.map(lambda b: {"B": base64.b64encode(b).decode()})
    return dynamo_numbers().map(lambda n: {"N": number.canonical(n)})


def _natural(value: Value) -> object:
    """How DynamoDB orders one value: strings by UTF-8 bytes, binary bytewise, numbers numerically."""
    if "S" in value:
        return value["S"].encode()
    if "B" in value:
        return base64.b64decode(value["B"])
    return Decimal(value["N"])


@st.composite
def schemas_and_two_keys(draw: st.DrawFn) -> tuple[list[KeyAttribute], list[Value], list[Value]]:
    types: list[KeyType] = draw(st.lists(st.sampled_from(["S", "N", "B"]), min_size=2, max_size=4))
    attrs = [KeyAttribute(f"a{i}", t) for i, t in enumerate(types)]
    first = [draw(_value(t)) for t in types]
    # often share a leading part, so that later attributes decide the order
    shared = draw(st.integers(0, len(types)))
    second = first[:shared] + [draw(_value(t)) for t in types[shared:]]
    return attrs, first, second


@given(schemas_and_two_keys())
def test_byte_order_is_tuple_order(case: tuple[list[KeyAttribute], list[Value], list[Value]]) -> None:
    attrs, first, second = case
    a, b = encode_key_values(attrs, first), encode_key_values(attrs, second)
    ta, tb = tuple(_natural(v) for v in first), tuple(_natural(v) for v in second)
    assert (a < b) == (ta < tb)
    assert (a == b) == (ta == tb)


@given(schemas_and_two_keys())
def test_values_round_trip(case: tuple[list[KeyAttribute], list[Value], list[Value]]) -> None:
    attrs, first, _ = case
    assert decode_key_values(attrs, encode_key_values(attrs, first)) == first


@given(schemas_and_two_keys(), st.integers(1, 3))
def test_leading_values_are_a_byte_prefix(
    case: tuple[list[KeyAttribute], list[Value], list[Value]], count: int
) -> None:
    attrs, first, _ = case
    count = min(count, len(attrs) - 1)
    prefix = b"".join(
        key_component(encode_key_value(a.type, v)) for a, v in zip(attrs[:count], first[:count], strict=True)
    )
    assert encode_key_values(attrs, first).startswith(prefix)


@given(tricky_bytes, tricky_bytes, tricky_bytes)
def test_begins_with_is_a_prefix_of_the_escaped_bytes(value: bytes, prefix: bytes, rest: bytes) -> None:
    """begins_with(attr, p) on one value of a multi-attribute key is a byte prefix test, whatever follows."""
    component = key_component(value) + key_component(rest)
    assert component.startswith(escape_key_bytes(prefix)) == value.startswith(prefix)


def test_a_single_attribute_keeps_the_plain_encoding() -> None:
    """Existing single-attribute indexes keep their stored key bytes."""
    for key_type, value in (("S", {"S": "a\x00b"}), ("N", {"N": "-1.5"}), ("B", {"B": "AAE="})):
        attr = KeyAttribute("a", key_type)  # type: ignore[arg-type]
        assert encode_key_values([attr], [value]) == encode_key_value(key_type, value)
        assert decode_key_values([attr], encode_key_value(key_type, value)) == [value]


def test_a_shorter_value_sorts_first_even_before_zero_and_ff_bytes() -> None:
    attrs = [KeyAttribute("a", "B"), KeyAttribute("b", "B")]
    keys = [
        encode_key_values(attrs, [{"B": base64.b64encode(a).decode()}, {"B": base64.b64encode(b).decode()}])
        for a, b in [(b"x", b"\xff"), (b"x\x00", b"\x00"), (b"x\x00\x00", b"\x00"), (b"x\x01", b"\x00")]
    ]
    assert keys == sorted(keys)
