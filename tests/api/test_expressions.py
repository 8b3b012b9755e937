"""Expressions and their legacy forms through boto3: functions, mixing the two forms, limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_tables import error_of

KEY = {"pk": {"S": "a"}}
ITEM = {
    **KEY,
    "s": {"S": "hello world"},
    "b": {"B": b"\x01\x02\x03"},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\x02"}]},
    "ss": {"SS": ["ab", "cd"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "n": {"N": "123"},
}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table()
    ddb.put_item(TableName=name, Item=ITEM)
    return name


# (attribute, operand, contains?) as DynamoDB Local answers them; the legacy CONTAINS documentation says the
# same: a substring of a String, a subsequence of a Binary, a member of a set, an element of a list.
CONTAINS = [
    ("s", {"S": "lo w"}, True),
    ("s", {"S": "low"}, False),
    ("s", {"B": b"lo"}, False),
    ("b", {"B": b"\x02\x03"}, True),
    ("b", {"B": b"\x01"}, True),
    ("b", {"B": b"\x03\x02"}, False),
    ("b", {"S": "\x01"}, False),
    ("l", {"N": "1.0"}, True),
    ("l", {"B": b"\x02"}, True),
    ("l", {"S": "y"}, False),
    ("ss", {"S": "ab"}, True),
    ("ss", {"S": "a"}, False),
    ("ns", {"N": "2.50"}, True),
    ("ns", {"S": "1"}, False),
    ("bs", {"B": b"\x02\x03"}, True),
    ("bs", {"B": b"\x02"}, False),
    ("n", {"N": "12"}, False),
]


@pytest.mark.parametrize(("attribute", "operand", "expected"), CONTAINS)
def test_contains_in_every_form(
    ddb: Any, table: str, attribute: str, operand: dict[str, Any], expected: bool
) -> None:
    values = {":v": operand}
    for negate in (False, True):
        want = expected != negate
        expression = f"{'NOT ' if negate else ''}contains({attribute}, :v)"
        scanned = ddb.scan(TableName=table, FilterExpression=expression, ExpressionAttributeValues=values)
        assert scanned["Count"] == int(want), expression
        operator = "NOT_CONTAINS" if negate else "CONTAINS"
        legacy = {attribute: {"ComparisonOperator": operator, "AttributeValueList": [operand]}}
        assert ddb.scan(TableName=table, ScanFilter=legacy)["Count"] == int(want)
        queried = ddb.query(
            TableName=table,
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [KEY["pk"]]}},
            QueryFilter=legacy,
        )
        assert queried["Count"] == int(want)
        _check_condition(
            ddb, table, {"ConditionExpression": expression, "ExpressionAttributeValues": values}, want
        )
        _check_condition(ddb, table, {"Expected": legacy}, want)


def _check_condition(ddb: Any, table: str, condition: dict[str, Any], want: bool) -> None:
    if want:
        ddb.put_item(TableName=table, Item=ITEM, **condition)
        return
    with pytest.raises(ClientError) as info:
        ddb.put_item(TableName=table, Item=ITEM, **condition)
    assert error_of(info) == ("ConditionalCheckFailedException", "The conditional request failed")


def test_not_contains_on_a_missing_attribute_is_false(ddb: Any, table: str) -> None:
    legacy = {"nope": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "x"}]}}
    assert ddb.scan(TableName=table, ScanFilter=legacy)["Count"] == 0


@pytest.mark.parametrize(
    "expression",
    ["attribute_type (s, :t)", "attribute_type\t(s,:t)", "size (s) > :n AND begins_with (s, :h)"],
)
def test_whitespace_between_a_function_and_its_parenthesis(ddb: Any, table: str, expression: str) -> None:
    values = {":t": {"S": "S"}, ":n": {"N": "1"}, ":h": {"S": "he"}}
    used = {k: v for k, v in values.items() if k in expression}
    out = ddb.scan(TableName=table, FilterExpression=expression, ExpressionAttributeValues=used)
    assert out["Count"] == 1


KEY_CONDITIONS = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [KEY["pk"]]}}


def test_key_conditions_combine_with_projection_and_filter_expressions(ddb: Any, table: str) -> None:
    projected = ddb.query(
        TableName=table,
        KeyConditions=KEY_CONDITIONS,
        ProjectionExpression="n, #s",
        ExpressionAttributeNames={"#s": "s"},
    )
    assert projected["Items"] == [{"n": ITEM["n"], "s": ITEM["s"]}]
    filtered = ddb.query(
        TableName=table,
        KeyConditions=KEY_CONDITIONS,
        FilterExpression="n > :v",
        ProjectionExpression="n",
        ExpressionAttributeValues={":v": {"N": "100"}},
    )
    assert (filtered["Items"], filtered["ScannedCount"]) == ([{"n": ITEM["n"]}], 1)
    specific = ddb.query(
        TableName=table, KeyConditions=KEY_CONDITIONS, ProjectionExpression="n", Select="SPECIFIC_ATTRIBUTES"
    )
    assert specific["Items"] == [{"n": ITEM["n"]}]
    none = ddb.query(
        TableName=table,
        KeyConditions=KEY_CONDITIONS,
        FilterExpression="n < :v",
        ExpressionAttributeValues={":v": {"N": "100"}},
    )
    assert (none["Count"], none["ScannedCount"]) == (0, 1)


MIXED = "Can not use both expression and non-expression parameters in the same request: "


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": {":k": KEY["pk"]}},
            MIXED
            + "Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}",
        ),
        (
            {
                "KeyConditionExpression": "pk = :k",
                "AttributesToGet": ["n"],
                "ExpressionAttributeValues": {":k": KEY["pk"]},
            },
            MIXED + "Non-expression parameters: {AttributesToGet, KeyConditions} "
            "Expression parameters: {KeyConditionExpression}",
        ),
        (
            {"ProjectionExpression": "n", "AttributesToGet": ["n"]},
            MIXED
            + "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        ),
        (
            {
                "FilterExpression": "attribute_exists(n)",
                "QueryFilter": {"n": {"ComparisonOperator": "NOT_NULL"}},
            },
            MIXED + "Non-expression parameters: {QueryFilter} Expression parameters: {FilterExpression}",
        ),
        (
            {"FilterExpression": "attribute_exists(n)", "ConditionalOperator": "AND"},
            MIXED
            + "Non-expression parameters: {ConditionalOperator} Expression parameters: {FilterExpression}",
        ),
        (
            {"ProjectionExpression": "n", "ExpressionAttributeValues": {":k": KEY["pk"]}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "FilterExpression and KeyConditionExpression are null",
        ),
        (
            {"FilterExpression": "n = :v", "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"N": "1"}}},
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            {"FilterExpression": "pk = :v", "ExpressionAttributeValues": {":v": KEY["pk"]}},
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: pk",
        ),
    ],
)
def test_key_conditions_with_expressions_errors(
    ddb: Any, table: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as info:
        ddb.query(TableName=table, KeyConditions=KEY_CONDITIONS, **params)
    assert error_of(info) == ("ValidationException", message)


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "get_item",
            {"Key": KEY, "AttributesToGet": ["n"], "ProjectionExpression": "n"},
            "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        ),
        (
            "scan",
            {"ScanFilter": {"n": {"ComparisonOperator": "NOT_NULL"}}, "ProjectionExpression": "n"},
            "Non-expression parameters: {ScanFilter} Expression parameters: {ProjectionExpression}",
        ),
        (
            "put_item",
            {"Item": KEY, "Expected": {"n": {"Exists": False}}, "ConditionExpression": "attribute_exists(n)"},
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "delete_item",
            {"Key": KEY, "ConditionalOperator": "OR", "ConditionExpression": "attribute_exists(n)"},
            "Non-expression parameters: {ConditionalOperator} Expression parameters: {ConditionExpression}",
        ),
        (
            "update_item",
            {
                "Key": KEY,
                "AttributeUpdates": {"n": {"Action": "DELETE"}},
                "ConditionExpression": "attribute_exists(n)",
            },
            "Non-expression parameters: {AttributeUpdates} Expression parameters: {ConditionExpression}",
        ),
        (
            "update_item",
            {"Key": KEY, "Expected": {"n": {"Exists": False}}, "UpdateExpression": "REMOVE n"},
            "Non-expression parameters: {Expected} Expression parameters: {UpdateExpression}",
        ),
    ],
)
def test_other_mixes_of_legacy_and_expression_parameters(
    ddb: Any, table: str, operation: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as info:
        getattr(ddb, operation)(TableName=table, **params)
    assert error_of(info) == ("ValidationException", MIXED + message)
