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


TOO_LONG = "Expression size has exceeded the maximum allowed size;"


def _padded(expression: str, length: int) -> str:
    return expression + " " * (length - len(expression))


@pytest.mark.parametrize(
    ("parameter", "call"),
    [
        (
            "ConditionExpression",
            lambda ddb, t, e: ddb.put_item(TableName=t, Item=ITEM, ConditionExpression=e),
        ),
        (
            "ConditionExpression",
            lambda ddb, t, e: ddb.delete_item(TableName=t, Key=KEY, ConditionExpression=e),
        ),
        ("FilterExpression", lambda ddb, t, e: ddb.scan(TableName=t, FilterExpression=e)),
        (
            "ProjectionExpression",
            lambda ddb, t, e: ddb.get_item(TableName=t, Key=KEY, ProjectionExpression=e),
        ),
        ("ProjectionExpression", lambda ddb, t, e: ddb.scan(TableName=t, ProjectionExpression=e)),
        ("UpdateExpression", lambda ddb, t, e: ddb.update_item(TableName=t, Key=KEY, UpdateExpression=e)),
        (
            "KeyConditionExpression",
            lambda ddb, t, e: ddb.query(
                TableName=t, KeyConditionExpression=e, ExpressionAttributeValues={":k": KEY["pk"]}
            ),
        ),
        (
            "ConditionExpression",
            lambda ddb, t, e: ddb.transact_write_items(
                TransactItems=[{"ConditionCheck": {"TableName": t, "Key": KEY, "ConditionExpression": e}}]
            ),
        ),
        (
            "ProjectionExpression",
            lambda ddb, t, e: ddb.batch_get_item(
                RequestItems={t: {"Keys": [KEY], "ProjectionExpression": e}}
            ),
        ),
    ],
)
def test_expressions_longer_than_4_kb_are_refused(
    ddb: Any, table: str, parameter: str, call: Callable[[Any, str, str], Any]
) -> None:
    base = {
        "ConditionExpression": "attribute_exists(n)",
        "FilterExpression": "attribute_exists(n)",
        "ProjectionExpression": "n",
        "UpdateExpression": "REMOVE x",
        "KeyConditionExpression": "pk = :k",
    }[parameter]
    call(ddb, table, _padded(base, 4096))
    with pytest.raises(ClientError) as info:
        call(ddb, table, _padded(base, 4097))
    size = "" if parameter in ("ProjectionExpression", "UpdateExpression") else " expression size: 4097"
    assert error_of(info) == ("ValidationException", f"Invalid {parameter}: {TOO_LONG}{size}")


def test_expression_length_counts_utf16_units_and_comes_before_syntax(ddb: Any, table: str) -> None:
    # 4095 characters, one of them outside the BMP: 4096 UTF-16 code units, so only a syntax error.
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName=table, FilterExpression=_padded("n = n", 4094) + "\U0001f600")
    assert "Syntax error" in error_of(info)[1]
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName=table, FilterExpression=_padded("n = n", 4095) + "\U0001f600")
    assert error_of(info) == (
        "ValidationException",
        f"Invalid FilterExpression: {TOO_LONG} expression size: 4097",
    )
    with pytest.raises(ClientError) as info:
        ddb.scan(TableName=table, FilterExpression="(" * 5000)
    assert error_of(info) == (
        "ValidationException",
        f"Invalid FilterExpression: {TOO_LONG} expression size: 5000",
    )


def test_expression_attribute_map_keys_are_at_most_255_characters(ddb: Any, table: str) -> None:
    name, value = "#" + "n" * 254, ":" + "v" * 254
    out = ddb.scan(
        TableName=table,
        FilterExpression=f"{name} = {value}",
        ExpressionAttributeNames={name: "n"},
        ExpressionAttributeValues={value: ITEM["n"]},
    )
    assert out["Count"] == 1
    with pytest.raises(ClientError) as info:
        ddb.get_item(
            TableName=table,
            Key=KEY,
            ProjectionExpression=name + "n",
            ExpressionAttributeNames={name + "n": "n"},
        )
    assert error_of(info) == (
        "ValidationException",
        "ExpressionAttributeNames contains invalid key: "
        "The expression attribute map contains a key that is too long; size of key: 256",
    )
    with pytest.raises(ClientError) as info:  # too long is reported before a bad character
        ddb.scan(
            TableName=table, FilterExpression="n = :v", ExpressionAttributeValues={value + "!": ITEM["n"]}
        )
    assert error_of(info) == (
        "ValidationException",
        "ExpressionAttributeValues contains invalid key: "
        "The expression attribute map contains a key that is too long;",
    )


@pytest.mark.differs_from_dynamodb_local("InternalFailure for a 64 KB attribute name")
def test_attribute_names_are_shorter_than_64_kb_of_utf8(ddb: Any, table: str) -> None:
    longest = "x" * 65535
    ddb.put_item(TableName=table, Item={**KEY, longest: {"N": "1"}, "m": {"M": {longest: {"N": "2"}}}})
    got = ddb.get_item(
        TableName=table, Key=KEY, ProjectionExpression="#n", ExpressionAttributeNames={"#n": longest}
    )
    assert got["Item"] == {longest: {"N": "1"}}
    too_long = "\u00e9" * 32768  # 32768 characters, 65536 bytes
    item_error = (
        "ValidationException",
        "1 validation error detected: Attribute name is too large, must be less than 65536 bytes",
    )
    for item in ({**KEY, too_long: {"N": "1"}}, {**KEY, "m": {"M": {"a": {"M": {too_long: {"N": "1"}}}}}}):
        with pytest.raises(ClientError) as info:
            ddb.put_item(TableName=table, Item=item)
        assert error_of(info) == item_error
    with pytest.raises(ClientError) as info:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET m = :v",
            ExpressionAttributeValues={":v": {"M": {too_long: {"N": "1"}}}},
        )
    assert error_of(info) == item_error
    with pytest.raises(ClientError) as info:
        ddb.get_item(
            TableName=table, Key=KEY, ProjectionExpression="#n", ExpressionAttributeNames={"#n": too_long}
        )
    assert error_of(info) == (
        "ValidationException",
        "ExpressionAttributeNames contains invalid value: "
        "Attribute name is too large, must be less than 65536 bytes for key #n",
    )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["b", "a", "a", "b"], "Cannot have two attributes with the same name"),
        (["a", "a", ""], "Cannot have two attributes with the same name"),
        (["a", ""], "Empty attribute name"),
        (["", "a", "a"], "Empty attribute name"),
    ],
)
def test_attributes_to_get_errors(ddb: Any, table: str, names: list[str], message: str) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: ddb.get_item(TableName=table, Key=KEY, AttributesToGet=names),
        lambda: ddb.scan(TableName=table, AttributesToGet=names),
        lambda: ddb.query(TableName=table, KeyConditions=KEY_CONDITIONS, AttributesToGet=names),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        assert error_of(info) == ("ValidationException", message)


def test_substituted_names_and_values_stay_under_2_mb(ddb: Any, table: str) -> None:
    # A partition with no items: DynamoDB Local substitutes names and values only to evaluate an item.
    nowhere = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "nowhere"}]}}
    three = "a = :v0 OR b = :v1 OR c = :v2 OR ((("  # the sizes are checked before the expression
    with pytest.raises(ClientError) as info:
        values = {f":v{i}": {"S": "x" * 699048} for i in range(3)}
        ddb.query(
            TableName=table, KeyConditions=nowhere, FilterExpression=three, ExpressionAttributeValues=values
        )
    assert error_of(info) == ("ValidationException", "ExpressionAttributeValues exceeds max size")
    names = {f"#n{i:02d}": chr(97 + i % 26) * 65530 + f"{i:02d}" for i in range(33)}
    exists = " OR ".join(f"attribute_exists({key})" for key in names)
    with pytest.raises(ClientError) as info:
        ddb.query(
            TableName=table, KeyConditions=nowhere, FilterExpression=exists, ExpressionAttributeNames=names
        )
    assert error_of(info) == ("ValidationException", "ExpressionAttributeNames exceeds max size")
    exactly = dict(list(names.items())[:32])  # 32 * (4 + 65532) bytes: exactly 2 MiB of names
    with pytest.raises(ClientError) as info:  # ...and a value over the top, before the expression is read
        ddb.query(
            TableName=table,
            KeyConditions=nowhere,
            FilterExpression="n = :zz",
            ExpressionAttributeNames=exactly,
            ExpressionAttributeValues={":v": ITEM["n"]},
        )
    assert error_of(info) == (
        "ValidationException",
        "Combined size of ExpressionAttributeNames and ExpressionAttributeValues exceeds max size",
    )
