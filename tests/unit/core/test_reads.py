"""Key conditions to storage ranges (core/reads.py): the range selects exactly what the condition does."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.reads import in_bounds, prefix_end, sort_bounds
from headwater.errors import ValidationException
from headwater.expressions.ast import KeyTerm
from headwater.model.keys import encode_key_value
from headwater.storage.base import SortBound

OPS = ("EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH")
texts = st.text(alphabet=st.sampled_from("ab\x00\x7f\u00e9\U0001f600"), max_size=4)
numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


_Ordered = TypeVar("_Ordered", bytes, Decimal)


def _holds(op: str, value: _Ordered, operands: list[_Ordered]) -> bool:
    if op == "EQ":
        return value == operands[0]
    if op == "LT":
        return value < operands[0]
    if op == "LE":
        return value <= operands[0]
    if op == "GT":
        return value > operands[0]
    if op == "GE":
        return value >= operands[0]
    if op == "BETWEEN":
        return operands[0] <= value <= operands[1]
    assert isinstance(value, bytes) and isinstance(operands[0], bytes)  # begins_with: strings only
    return value.startswith(operands[0])


@given(st.sampled_from(OPS), texts, texts, texts)
def test_string_ranges_select_what_the_condition_does(op: str, value: str, a: str, b: str) -> None:
    operands = [a, b] if op == "BETWEEN" else [a]
    # DynamoDB orders strings by their UTF-8 bytes
    encoded = [s.encode() for s in (value, *operands)]
    term = KeyTerm("s", op, tuple({"S": o} for o in operands))
    lower, upper = sort_bounds(term, "S")
    if op == "BEGINS_WITH":
        expected = encoded[0].startswith(encoded[1])
    else:
        expected = _holds(op, encoded[0], encoded[1:])
    assert in_bounds(encode_key_value("S", {"S": value}), lower, upper) == expected


@given(st.sampled_from(OPS[:-1]), numbers, numbers, numbers)
def test_number_ranges_select_what_the_condition_does(
    op: str, value: Decimal, a: Decimal, b: Decimal
) -> None:
    operands = [a, b] if op == "BETWEEN" else [a]
    term = KeyTerm("s", op, tuple({"N": str(o)} for o in operands))
    lower, upper = sort_bounds(term, "N")
    assert in_bounds(encode_key_value("N", {"N": str(value)}), lower, upper) == _holds(op, value, operands)


def test_no_term_is_the_whole_partition() -> None:
    assert sort_bounds(None, "S") == (None, None)


def test_begins_with_on_numbers_is_refused() -> None:
    with pytest.raises(ValidationException) as info:
        sort_bounds(KeyTerm("s", "BEGINS_WITH", ({"N": "1"},)), "N")
    assert info.value.message == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )


def test_a_value_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValidationException) as info:
        sort_bounds(KeyTerm("s", "EQ", ({"N": "1"},)), "S")
    assert info.value.message == (
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    )


def test_prefix_end() -> None:
    assert prefix_end(b"ab") == SortBound(b"ac", False)
    assert prefix_end(b"a\xff\xff") == SortBound(b"b", False)
    assert prefix_end(b"\xff") is None
    assert prefix_end(b"") is None
