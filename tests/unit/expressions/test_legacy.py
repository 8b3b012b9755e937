"""Legacy Expected / filters / AttributeUpdates / AttributesToGet (messages and outcomes from DynamoDB)."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.errors import ValidationException
from headwater.expressions import apply_update, evaluate, project
from headwater.model.values import Item

from .helpers import KEY, KEY_NAMES, N1, S1, compile_error, compile_ok

ITEM: Item = {"a": {"S": "abc"}, "s": {"SS": ["x", "y"]}, "n": {"N": "5"}}


def expected_holds(expected: dict[str, Any], operator: str | None = None) -> bool:
    kwargs: dict[str, Any] = {"Expected": expected}
    if operator is not None:
        kwargs["ConditionalOperator"] = operator
    compiled = compile_ok("PutItem", **kwargs)
    assert compiled.condition is not None
    return evaluate(compiled.condition, ITEM)


def op(operator: str, *values: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"ComparisonOperator": operator}
    if values:
        spec["AttributeValueList"] = list(values)
    return spec


@pytest.mark.parametrize(
    ("expected", "holds"),
    [
        ({"nope": op("NE", S1)}, True),
        ({"nope": op("NOT_CONTAINS", S1)}, False),
        ({"a": op("NOT_CONTAINS", {"S": "q"})}, True),
        ({"s": op("CONTAINS", S1)}, True),
        ({"a": op("IN", {"S": "abc"}, {"S": "z"})}, True),
        ({"a": op("EQ", {"L": []})}, False),
        ({"a": op("NE", {"M": {}})}, True),
        ({"a": {"Value": S1}}, False),
        ({"a": {"Value": {"S": "abc"}}}, True),
        ({"a": {"Value": {"S": "abc"}, "Exists": True}}, True),
        ({"b": {"Exists": False}}, True),
        ({"n": op("BETWEEN", {"N": "1"}, {"N": "5"})}, True),
        ({"n": op("GT", {"N": "5"})}, False),
        ({"a": op("BEGINS_WITH", {"S": "ab"})}, True),
        ({"a": op("NULL")}, False),
        ({"a": op("NOT_NULL")}, True),
    ],
)
def test_expected_outcomes(expected: dict[str, Any], holds: bool) -> None:
    assert expected_holds(expected) is holds


def test_conditional_operator_or() -> None:
    assert expected_holds({"a": {"Value": S1}, "b": {"Exists": False}}, "OR")
    assert not expected_holds({"a": {"Value": S1}, "b": {"Exists": False}}, "AND")
    assert not expected_holds({"a": {"Value": S1}, "b": {"Exists": False}})


INVALID = "One or more parameter values were invalid: "


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"Expected": {"a": op("EQ")}},
            INVALID + "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a",
        ),
        (
            {"Expected": {"a": op("EQ", S1, S1)}},
            INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator",
        ),
        (
            {"Expected": {"a": op("NULL", S1)}},
            INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            {"Expected": {"a": op("BETWEEN", S1)}},
            INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            {"Expected": {"a": {"ComparisonOperator": "IN", "AttributeValueList": []}}},
            INVALID + "Invalid number of argument(s) for the IN ComparisonOperator",
        ),
        (
            {"Expected": {"a": {"Value": S1, **op("EQ", S1)}}},
            INVALID + "Value and AttributeValueList cannot be used together for Attribute: a",
        ),
        (
            {"Expected": {"a": {"Exists": False, "Value": S1}}},
            INVALID + "Value cannot be used when Exists is false for Attribute: a",
        ),
        (
            {"Expected": {"a": {"Exists": True}}},
            INVALID + "Value must be provided when Exists is true for Attribute: a",
        ),
        ({"Expected": {"a": {}}}, INVALID + "Value must be provided when Exists is null for Attribute: a"),
        (
            {"Expected": {"a": {"Exists": True, **op("EQ", S1)}}},
            INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: a",
        ),
        (
            {"Expected": {"a": op("LT", {"SS": ["a"]})}},
            INVALID + "ComparisonOperator LT is not valid for SS AttributeValue type",
        ),
        (
            {"Expected": {"a": op("CONTAINS", {"SS": ["a"]})}},
            INVALID + "ComparisonOperator CONTAINS is not valid for SS AttributeValue type",
        ),
        (
            {"Expected": {"a": op("BEGINS_WITH", {"N": "5"})}},
            INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type",
        ),
        (
            {"Expected": {"a": op("BETWEEN", {"N": "5"}, {"N": "1"})}},
            "The BETWEEN condition was provided a range where the "
            "lower bound is greater than the upper bound",
        ),
        (
            {"Expected": {"a": op("BETWEEN", {"N": "5"}, {"S": "1"})}},
            INVALID + "AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            {"Expected": {"a": op("IN", {"N": "5"}, {"S": "1"})}},
            INVALID + "AttributeValues inside AttributeValueList must be of same type",
        ),
        ({"Expected": {"a": op("FOO", S1)}}, "Comparison type does not exist in DynamoDB"),
        (
            {"Expected": {"a": {"Exists": False}}, "ConditionalOperator": "OR"},
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        ),
        ({"ConditionalOperator": "OR"}, "ConditionalOperator cannot be used without Filter or Expected"),
        (
            {"AttributeUpdates": {"a": {"Action": "PUT"}}},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"AttributeUpdates": {"a": {"Action": "ADD"}}},
            INVALID + "Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            {"AttributeUpdates": {"a": {"Action": "ADD", "Value": S1}}},
            INVALID + "ADD action is not supported for the type STRING",
        ),
        (
            {"AttributeUpdates": {"a": {"Action": "DELETE", "Value": S1}}},
            INVALID + "DELETE action with value is not supported for the type STRING",
        ),
        ({"AttributesToGet": ["a", "a"]}, "Cannot have two attributes with the same name"),
    ],
)
def test_legacy_errors(kwargs: dict[str, Any], message: str) -> None:
    assert compile_error("UpdateItem", **kwargs) == message


def legacy_update(updates: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    compiled = compile_ok("UpdateItem", AttributeUpdates=updates)
    assert compiled.update is not None
    result = apply_update(compiled.update, {**KEY, **item}, KEY_NAMES)
    return {k: v for k, v in result.item.items() if k not in KEY}


def test_attribute_updates() -> None:
    item = {"a": N1, "l": {"L": [N1]}, "s": {"SS": ["x", "y"]}, "gone": S1}
    updates = {
        "a": {"Action": "ADD", "Value": {"N": "2"}},
        "l": {"Action": "ADD", "Value": {"L": [S1]}},
        "s": {"Action": "DELETE", "Value": {"SS": ["x"]}},
        "gone": {"Action": "DELETE"},
        "new": {"Value": S1},
    }
    assert legacy_update(updates, item) == {
        "a": {"N": "3"},
        "l": {"L": [N1, S1]},
        "s": {"SS": ["y"]},
        "new": S1,
    }


def test_attribute_updates_type_mismatch_and_key() -> None:
    with pytest.raises(ValidationException) as info:
        legacy_update({"a": {"Action": "ADD", "Value": {"L": [N1]}}}, {"a": S1})
    assert info.value.message == "Type mismatch for attribute to update"
    with pytest.raises(ValidationException) as info:
        legacy_update({"id": {"Action": "PUT", "Value": S1}}, {})
    assert info.value.message == INVALID + "Cannot update attribute id. This attribute is part of the key"


def test_filters_compile_to_conditions() -> None:
    compiled = compile_ok(
        "Scan",
        ScanFilter={"a": op("BEGINS_WITH", {"S": "a"}), "n": op("LT", {"N": "3"})},
        ConditionalOperator="OR",
    )
    assert compiled.filter is not None
    assert evaluate(compiled.filter, ITEM)
    compiled = compile_ok(
        "Query", QueryFilter={"a": op("BEGINS_WITH", {"S": "a"}), "n": op("LT", {"N": "3"})}
    )
    assert compiled.filter is not None
    assert not evaluate(compiled.filter, ITEM)


def test_attributes_to_get() -> None:
    compiled = compile_ok("GetItem", AttributesToGet=["a", "missing", "n"])
    assert compiled.projection is not None
    assert project(ITEM, compiled.projection.paths) == {"a": ITEM["a"], "n": ITEM["n"]}
