from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from headwater.errors import SerializationException, ValidationException
from headwater.model.values import (
    NAME_TOO_LONG,
    decode_binary,
    validate_item,
    validate_value,
    value_type,
    values_equal,
)

INVALID = "One or more parameter values were invalid: "
EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MANY = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
NESTING = (
    "Nesting Levels have exceeded supported limits: "
    "Attributes in the item have nested levels beyond supported limit"
)


def test_canonical_copy_is_new_and_input_untouched() -> None:
    raw: dict[str, Any] = {
        "id": {"S": "a"},
        "n": {"N": "01.50"},
        "ns": {"NS": ["1e2", "-0"]},
        "m": {"M": {"x": {"N": "+3"}, "l": {"L": [{"N": "1.0"}, {"B": "YQ=="}]}}},
        "b": {"B": "YWJj"},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "e": {"S": ""},
    }
    before = copy.deepcopy(raw)
    out = validate_item(raw)
    assert raw == before
    assert out["n"] == {"N": "1.5"}
    assert out["ns"] == {"NS": ["0", "100"]}  # sets in canonical order
    assert out["m"] == {"M": {"x": {"N": "3"}, "l": {"L": [{"N": "1"}, {"B": "YQ=="}]}}}
    assert out["m"]["M"] is not raw["m"]["M"]


def test_null_members_are_absent_and_unknown_members_ignored() -> None:
    assert validate_value({"S": None, "N": "1"}) == {"N": "1"}
    assert validate_value({"S": "a", "X": "b"}) == {"S": "a"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, EMPTY),
        ({"S": None}, EMPTY),
        ({"X": "a"}, EMPTY),
        ({"s": "a"}, EMPTY),
        ({"NULL": None}, EMPTY),
        ({"S": "a", "N": "1"}, MANY),
        ({"SS": []}, INVALID + "An string set  may not be empty"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates"),
        ({"SS": ["a", "b", "a"]}, INVALID + "Input collection [a, b, a] contains duplicates"),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        ({"NS": ["1", "2", "01"]}, "Input collection contains duplicates"),
        ({"BS": ["YQ==", "YQ=="]}, INVALID + "Input collection of type BS contains duplicates."),
        ({"SS": [None]}, INVALID + "An string set may not have a null string as a member"),
        ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
        ({"N": "x"}, "The parameter cannot be converted to a numeric value: x"),
        ({"NS": ["x"]}, "The parameter cannot be converted to a numeric value: x"),
        (
            {"NS": ["1e200"]},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        ({"L": [{}]}, EMPTY),
        ({"L": [None]}, "The supplied Item contains a null AttributeValue"),
        ({"M": {"a": {}}}, EMPTY),
        ({"M": {"a": None}}, "The supplied Item contains a null AttributeValue: a is null"),
        ({"M": {"": {"S": "a"}}}, "Empty attribute name"),
    ],
)
def test_validation_errors(raw: object, message: str) -> None:
    with pytest.raises(ValidationException) as err:
        validate_value(raw)
    assert err.value.message == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("x", "Unexpected value type in payload"),
        ([], "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue"),
        ({"S": 1}, "NUMBER_VALUE cannot be converted to String"),
        ({"S": 1.5}, "DECIMAL_VALUE cannot be converted to String"),
        ({"S": True}, "TRUE_VALUE cannot be converted to String"),
        ({"N": False}, "FALSE_VALUE cannot be converted to String"),
        ({"N": 1}, "NUMBER_VALUE cannot be converted to String"),
        ({"S": ["a"]}, "Unrecognized collection type class java.lang.String"),
        ({"S": {"S": "a"}}, "Start of structure or map found where not expected"),
        ({"BOOL": "true"}, "Unexpected token received from parser"),
        ({"BOOL": 1}, "NUMBER_VALUE cannot be converted to Boolean"),
        ({"NULL": []}, "Unrecognized collection type class java.lang.Boolean"),
        ({"B": 1}, "only base-64-encoded strings are convertible to bytes"),
        ({"B": []}, "Unrecognized collection type class java.nio.ByteBuffer"),
        ({"B": "23456"}, "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ({"B": "YQ"}, "Base64 encoded length is expected a multiple of 4 bytes but found: 2"),
        ({"B": "=+/="}, "Invalid last non-pad Base64 character dectected"),
        ({"B": "+/+="}, "Invalid last non-pad Base64 character dectected"),
        ({"SS": "a"}, "Unexpected field type"),
        ({"SS": {}}, "Start of structure or map found where not expected"),
        ({"SS": [1]}, "NUMBER_VALUE cannot be converted to String"),
        ({"L": {}}, "Start of structure or map found where not expected"),
        ({"L": ["x"]}, "Unexpected value type in payload"),
        (
            {"M": []},
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "com.amazonaws.dynamodb.v20120810.AttributeValue>",
        ),
        ({"M": 3}, "Unexpected field type"),
        # a wire type error anywhere wins over a validation error elsewhere (it happens while parsing)
        ({"L": [{}, {"S": 1}]}, "NUMBER_VALUE cannot be converted to String"),
    ],
)
def test_serialization_errors(raw: object, message: str) -> None:
    with pytest.raises(SerializationException) as err:
        validate_value(raw)
    assert err.value.message == message


def test_item_level_errors() -> None:
    with pytest.raises(ValidationException) as verr:
        validate_item({"id": {"S": "a"}, "v": None})
    assert verr.value.message == "The supplied Item contains a null AttributeValue: v is null"
    with pytest.raises(ValidationException) as verr:
        validate_item({"": {"S": "a"}})
    assert verr.value.message == "Empty attribute name"
    with pytest.raises(SerializationException) as serr:
        validate_item({"a": {"SS": []}, "b": {"S": 5}})
    assert serr.value.message == "NUMBER_VALUE cannot be converted to String"
    with pytest.raises(SerializationException):
        validate_item([1])


def _nest(depth: int, kind: str) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "x"}
    for _ in range(depth):
        value = {"L": [value]} if kind == "L" else {"M": {"a": value}}
    return value


@pytest.mark.parametrize("kind", ["L", "M"])
def test_nesting_depth(kind: str) -> None:
    validate_item({"v": _nest(31, kind)})  # the scalar sits at depth 32
    with pytest.raises(ValidationException) as err:
        validate_item({"v": _nest(32, kind)})
    assert err.value.message == NESTING


def test_binary() -> None:
    assert validate_value({"B": ""}) == {"B": ""}
    assert decode_binary(validate_value({"B": "AAEC/w=="})["B"]) == b"\x00\x01\x02\xff"


def test_value_type_and_equality() -> None:
    assert value_type({"NS": ["1"]}) == "NS"
    assert values_equal({"N": "1"}, {"N": "1"})
    assert values_equal({"NS": ["1", "2.5"]}, {"NS": ["2.5", "1"]})
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert not values_equal({"SS": ["a"]}, {"SS": ["a", "b"]})
    assert not values_equal({"S": "1"}, {"N": "1"})
    assert values_equal(
        {"M": {"a": {"L": [{"N": "1"}, {"BOOL": True}]}}}, {"M": {"a": {"L": [{"N": "1"}, {"BOOL": True}]}}}
    )
    assert not values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
    assert not values_equal({"M": {"a": {"N": "1"}}}, {"M": {"b": {"N": "1"}}})


def test_attribute_names_under_64_kb_of_utf8() -> None:
    assert validate_item({"x" * 65535: {"N": "1"}, "m": {"M": {"\u00e9" * 32767: {"N": "1"}}}})
    for item in ({"\u00e9" * 32768: {"N": "1"}}, {"m": {"M": {"x" * 65536: {"N": "1"}}}}):
        with pytest.raises(ValidationException) as info:
            validate_item(item)
        assert info.value.message == NAME_TOO_LONG


def test_sets_come_out_in_one_order() -> None:
    """DynamoDB Local's order: numbers by value, strings by UTF-16 code unit, binaries by signed bytes."""
    strings = ["b", "a", "B", "aa", "\u00e9", "z", "\U0001f600", "\ufffd", "10", "9", "a b"]
    assert validate_value({"SS": strings}) == {
        "SS": ["10", "9", "B", "a", "a b", "aa", "b", "z", "\u00e9", "\U0001f600", "\ufffd"]
    }
    numbers = ["10", "9", "-1", "1.5", "100", "2", "0", "-10", "1000.5", "0.001", "-0.5", "3e2"]
    assert validate_value({"NS": numbers}) == {
        "NS": ["-10", "-1", "-0.5", "0", "0.001", "1.5", "2", "9", "10", "100", "300", "1000.5"]
    }
    raw = [b"\x01", b"\x80", b"\xff", b"a", b"\x00", b"\x01\x00", b"A", b"\x7f"]
    encoded = [base64.b64encode(b).decode() for b in raw]
    ordered = [b"\x80", b"\xff", b"\x00", b"\x01", b"\x01\x00", b"A", b"a", b"\x7f"]
    assert validate_value({"BS": encoded}) == {"BS": [base64.b64encode(b).decode() for b in ordered]}
