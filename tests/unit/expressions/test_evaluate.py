"""Condition semantics (expected outcomes observed on DynamoDB) and invariants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.expressions import evaluate
from headwater.expressions.ast import Compare, Not, Path, Value
from headwater.model import number

from .helpers import N1, compile_ok


def check(
    expression: str,
    item: dict[str, Any] | None,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> bool:
    compiled = compile_ok("PutItem", ConditionExpression=expression, values=values, names=names)
    assert compiled.condition is not None
    return evaluate(compiled.condition, item)


@pytest.mark.parametrize(
    ("expression", "values", "item", "expected"),
    [
        ("a <> :v", {":v": N1}, {}, True),
        ("NOT a = :v", {":v": N1}, {}, True),
        ("a = :v", {":v": N1}, {}, False),
        ("a <> :v", {":v": N1}, {"a": {"S": "x"}}, True),
        ("size(a) = :v", {":v": {"N": "1"}}, {"a": {"S": "é"}}, True),
        ("size(a) = :v", {":v": {"N": "2"}}, {"a": {"S": "é"}}, False),
        ("size(a) = :v", {":v": {"N": "1"}}, {"a": {"N": "12"}}, False),
        ("size(a) = :v", {":v": {"N": "2"}}, {"a": {"N": "12"}}, False),
        ("size(a) = :v", {":v": {"N": "1"}}, {"a": {"BOOL": True}}, False),
        ("size(a) > :v", {":v": {"N": "1"}}, {"a": {"B": "AAE="}}, True),
        ("size(a) = :v", {":v": {"N": "2"}}, {"a": {"L": [N1, N1]}}, True),
        ("size(a) = :v", {":v": {"N": "1"}}, {"a": {"M": {"x": N1}}}, True),
        ("contains(a, :v)", {":v": {"N": "1"}}, {"a": {"NS": ["1", "2"]}}, True),
        ("contains(a, :v)", {":v": {"N": "1"}}, {"a": {"L": [{"N": "1.0"}]}}, True),
        ("contains(a, :v)", {":v": {"B": "AQ=="}}, {"a": {"B": "AAEC"}}, True),
        ("contains(a, :v)", {":v": {"B": "AQI="}}, {"a": {"B": "AAEC"}}, True),
        ("contains(a, :v)", {":v": {"B": "AgE="}}, {"a": {"B": "AAEC"}}, False),
        ("contains(a, :v)", {":v": {"S": "AQ=="}}, {"a": {"B": "AQ=="}}, False),
        ("contains(a, :v)", {":v": {"B": "AQ=="}}, {"a": {"S": "AQ=="}}, False),
        ("contains(a, :v)", {":v": {"S": "1"}}, {"a": {"NS": ["1"]}}, False),
        ("contains(a, :v)", {":v": {"S": "bc"}}, {"a": {"S": "abcd"}}, True),
        ("contains(:v, a)", {":v": {"S": "abc"}}, {"a": {"S": "b"}}, True),
        ("begins_with(a, :v)", {":v": {"S": ""}}, {"a": {"S": "x"}}, True),
        ("begins_with(a, :v)", {":v": {"S": "ab"}}, {"a": {"S": "abc"}}, True),
        ("begins_with(a, :v)", {":v": {"B": "AQ=="}}, {"a": {"B": "AQI="}}, True),
        ("a IN (:v)", {":v": {"SS": ["b", "a"]}}, {"a": {"SS": ["a", "b"]}}, True),
        ("a = :v", {":v": {"N": "1.0"}}, {"a": {"N": "1"}}, True),
        ("a = :v", {":v": {"L": [N1]}}, {"a": {"L": [{"N": "1.00"}]}}, True),
        ("a < :v", {":v": {"B": "Ag=="}}, {"a": {"B": "AQ=="}}, True),
        ("a < :v", {":v": {"S": "é"}}, {"a": {"S": "z"}}, True),
        ("a < :v", {":v": {"S": "\U0001f600"}}, {"a": {"S": "\uffff"}}, True),
        ("a < :v", {":v": {"N": "10"}}, {"a": {"N": "9"}}, True),
        ("a < :v", {":v": {"N": "10"}}, {"a": {"S": "9"}}, False),
        ("attribute_type(a, :v)", {":v": {"S": "N"}}, {"a": {"N": "1"}}, True),
        ("attribute_type(a, :v)", {":v": {"S": "N"}}, {}, False),
        ("attribute_type(a, :v)", {":v": {"S": "SS"}}, {"a": {"S": "x"}}, False),
        ("a BETWEEN :v AND :w", {":v": {"S": "a"}, ":w": {"S": "c"}}, {"a": {"S": "b"}}, True),
        ("a BETWEEN :v AND :w", {":v": {"N": "1"}, ":w": {"N": "3"}}, {"a": {"N": "3"}}, True),
        ("a BETWEEN :v AND :w", {":v": {"N": "1"}, ":w": {"N": "3"}}, {"a": {"S": "2"}}, False),
        ("a.b[0] = :v", {":v": N1}, {"a": {"M": {"b": {"L": [N1]}}}}, True),
        ("a[0].b = :v", {":v": N1}, {"a": {"L": [{"M": {"b": N1}}]}}, True),
        ("a[1] = :v", {":v": N1}, {"a": {"L": [N1]}}, False),
        ("a.b = :v", {":v": N1}, {"a": {"L": [N1]}}, False),
        ("attribute_exists(a.b)", None, {"a": {"M": {"b": {"NULL": True}}}}, True),
        ("attribute_not_exists(a.c)", None, {"a": {"M": {"b": N1}}}, True),
        (":v = :v", {":v": N1}, None, True),
        (":v < :w", {":v": {"N": "1"}, ":w": {"S": "a"}}, None, False),
        ("(a) = :v", {":v": N1}, {"a": N1}, True),
    ],
)
def test_semantics(
    expression: str, values: dict[str, Any] | None, item: dict[str, Any] | None, expected: bool
) -> None:
    assert check(expression, item, values) is expected


def test_name_with_dot_is_one_attribute() -> None:
    assert check("#a = :v", {"a.b": N1}, {":v": N1}, {"#a": "a.b"})
    assert not check("#a = :v", {"a": {"M": {"b": N1}}}, {":v": N1}, {"#a": "a.b"})


def test_precedence_and_or_not() -> None:
    item = {"a": N1}
    values = {":one": N1, ":two": {"N": "2"}}
    # NOT binds tighter than AND, AND tighter than OR.
    assert check("a = :two AND a = :two OR a = :one", item, values)
    assert not check("a = :two AND (a = :two OR a = :one)", item, values)
    assert check("NOT a = :two AND a = :one", item, values)


numbers = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20, places=5
).map(lambda d: number.canonical(str(d)))
scalars = st.one_of(
    numbers.map(lambda n: {"N": n}),
    st.text(max_size=5).map(lambda s: {"S": s}),
    st.sampled_from(["AA==", "AQ==", "/w==", "AAE="]).map(lambda b: {"B": b}),
)
OPS = ["=", "<>", "<", "<=", ">", ">="]


@given(left=numbers, right=numbers, op=st.sampled_from(OPS))
def test_number_comparisons_agree_with_model(left: str, right: str, op: str) -> None:
    result = evaluate(Compare(op, Path(("a",)), Value({"N": right})), {"a": {"N": left}})
    c = number.compare(left, right)
    expected = {"=": c == 0, "<>": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
    assert result is expected


@given(value=scalars, other=scalars, op=st.sampled_from(OPS), present=st.booleans())
def test_not_negates(value: dict[str, Any], other: dict[str, Any], op: str, present: bool) -> None:
    condition = Compare(op, Path(("a",)), Value(other))
    item = {"a": value} if present else {}
    assert evaluate(Not(condition), item) is (not evaluate(condition, item))


@given(x=scalars, y=scalars)
def test_less_than_is_antisymmetric(x: dict[str, Any], y: dict[str, Any]) -> None:
    item = {"x": x, "y": y}
    lt = evaluate(Compare("<", Path(("x",)), Path(("y",))), item)
    gt = evaluate(Compare(">", Path(("x",)), Path(("y",))), item)
    eq = evaluate(Compare("=", Path(("x",)), Path(("y",))), item)
    assert not (lt and gt)
    assert sum((lt, gt, eq)) <= 1
    if next(iter(x)) == next(iter(y)):
        assert sum((lt, gt, eq)) == 1
