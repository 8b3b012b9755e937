"""Key conditions to storage ranges (core/reads.py): the range selects exactly what the condition does."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.reads import in_bounds, prefix_end, sort_bounds
from headwater.errors import ValidationException
from headwater.expressions.ast import KeyTerm
from headwater.model.keys import encode_key_value, encode_key_values
from headwater.model.schema import KeyAttribute
from headwater.storage.base import SortBound

OPS = ("EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH")
texts = st.text(alphabet=st.sampled_from("ab\x00\x7f\u00e9\U0001f600"), max_size=4)
S = KeyAttribute("s", "S")
N = KeyAttribute("s", "N")
numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


def _holds(op: str, value: Any, operands: Sequence[Any]) -> bool:
    if op == "EQ":
        return bool(value == operands[0])
    if op == "LT":
        return bool(value < operands[0])
    if op == "LE":
        return bool(value <= operands[0])
    if op == "GT":
        return bool(value > operands[0])
    if op == "GE":
        return bool(value >= operands[0])
    if op == "BETWEEN":
        return bool(operands[0] <= value <= operands[1])
    return bool(value.startswith(operands[0]))


@given(st.sampled_from(OPS), texts, texts, texts)
def test_string_ranges_select_what_the_condition_does(op: str, value: str, a: str, b: str) -> None:
    operands = [a, b] if op == "BETWEEN" else [a]
    # DynamoDB orders strings by their UTF-8 bytes
    encoded = [s.encode() for s in (value, *operands)]
    term = KeyTerm("s", op, tuple({"S": o} for o in operands))
    lower, upper = sort_bounds((term,), (S,))
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
    lower, upper = sort_bounds((term,), (N,))
    assert in_bounds(encode_key_value("N", {"N": str(value)}), lower, upper) == _holds(op, value, operands)


def test_no_term_is_the_whole_partition() -> None:
    assert sort_bounds((), (S,)) == (None, None)


def test_begins_with_on_numbers_is_refused() -> None:
    with pytest.raises(ValidationException) as info:
        sort_bounds((KeyTerm("s", "BEGINS_WITH", ({"N": "1"},)),), (N,))
    assert info.value.message == (
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
        "operator or function: begins_with, operand type: N"
    )


def test_prefix_end() -> None:
    assert prefix_end(b"ab") == SortBound(b"ac", False)
    assert prefix_end(b"a\xff\xff") == SortBound(b"b", False)
    assert prefix_end(b"\xff") is None
    assert prefix_end(b"") is None


# Multi-attribute sort keys: equality on the leading attributes, any operator on the next one.
COMPOSITE = (KeyAttribute("a", "S"), KeyAttribute("b", "N"), KeyAttribute("c", "B"))
short_texts = st.text(alphabet=st.sampled_from("ab\x00\u00e9"), min_size=1, max_size=3)
small_numbers = st.integers(-3, 3)
short_bytes = st.binary(min_size=1, max_size=3).map(lambda b: bytes(x % 3 * 0x7F for x in b))


def _av(attr: KeyAttribute, value: object) -> dict[str, str]:
    if attr.type == "S":
        return {"S": str(value)}
    if attr.type == "N":
        return {"N": str(value)}
    return {"B": base64.b64encode(value).decode()}  # type: ignore[arg-type]


def _order(attr: KeyAttribute, value: object) -> object:
    return str(value).encode() if attr.type == "S" else value


@st.composite
def composite_cases(draw: st.DrawFn) -> tuple[tuple[object, ...], int, str, list[object]]:
    strategies = (short_texts, small_numbers, short_bytes)
    key = tuple(draw(s) for s in strategies)
    equal = draw(st.integers(0, 2))  # how many leading attributes have equality conditions
    ops = [op for op in OPS if not (op == "BEGINS_WITH" and COMPOSITE[equal].type == "N")]
    op = draw(st.sampled_from(ops))
    # the condition's values: often the key's own, so that matches are common
    values = [key[i] if draw(st.booleans()) else draw(strategies[i]) for i in range(equal + 1)]
    extra = [draw(strategies[equal])] if op == "BETWEEN" else []
    return key, equal, op, [*values, *extra]


@given(composite_cases())
def test_composite_ranges_select_what_the_conditions_do(
    case: tuple[tuple[object, ...], int, str, list[object]],
) -> None:
    key, equal, op, values = case
    attr = COMPOSITE[equal]
    terms = [
        KeyTerm(a.name, "EQ", (_av(a, v),)) for a, v in zip(COMPOSITE[:equal], values[:equal], strict=True)
    ]
    operands = values[equal:]
    terms.append(KeyTerm(attr.name, op, tuple(_av(attr, v) for v in operands)))
    lower, upper = sort_bounds(terms, COMPOSITE)
    expected = all(key[i] == values[i] for i in range(equal))
    mine, theirs = _order(attr, key[equal]), [_order(attr, v) for v in operands]
    if op == "BEGINS_WITH":
        expected = expected and bool(mine.startswith(theirs[0]))  # type: ignore[attr-defined]
    else:
        expected = expected and _holds(op, mine, theirs)
    encoded = encode_key_values(COMPOSITE, [_av(a, v) for a, v in zip(COMPOSITE, key, strict=True)])
    assert in_bounds(encoded, lower, upper) == expected


def test_equality_on_every_attribute_selects_one_key() -> None:
    key = [{"S": "x"}, {"N": "1"}, {"B": "AA=="}]
    terms = [KeyTerm(a.name, "EQ", (v,)) for a, v in zip(COMPOSITE, key, strict=True)]
    lower, upper = sort_bounds(terms, COMPOSITE)
    assert in_bounds(encode_key_values(COMPOSITE, key), lower, upper)
    assert not in_bounds(encode_key_values(COMPOSITE, [*key[:2], {"B": "AAA="}]), lower, upper)
