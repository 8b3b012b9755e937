from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.errors import (
    DynamoDBError,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from headwater.protocol.validate import validate_request

NOT_NULL = "failed to satisfy constraint: Member must not be null"


def serialization(op: str, body: dict[str, Any], service: str = "dynamodb") -> str:
    with pytest.raises(SerializationException) as info:
        validate_request(service, op, body)
    assert info.value.wire_type == "com.amazon.coral.service#SerializationException"
    assert info.value.message is not None
    return info.value.message


def validation(op: str, body: dict[str, Any], service: str = "dynamodb") -> str:
    with pytest.raises(ValidationException) as info:
        validate_request(service, op, body)
    assert info.value.wire_type == "com.amazon.coral.validate#ValidationException"
    assert info.value.message is not None
    return info.value.message


@pytest.mark.parametrize(
    ("op", "body", "message"),
    [
        ("DescribeTable", {"TableName": 5}, "NUMBER_VALUE cannot be converted to String"),
        ("DescribeTable", {"TableName": 5.5}, "DECIMAL_VALUE cannot be converted to String"),
        ("DescribeTable", {"TableName": True}, "TRUE_VALUE cannot be converted to String"),
        ("DescribeTable", {"TableName": False}, "FALSE_VALUE cannot be converted to String"),
        ("DescribeTable", {"TableName": []}, "Unrecognized collection type class java.lang.String"),
        ("DescribeTable", {"TableName": {}}, "Start of structure or map found where not expected"),
        ("Scan", {"TableName": "abc", "Limit": "5"}, "STRING_VALUE cannot be converted to Integer"),
        ("Scan", {"TableName": "abc", "Limit": True}, "TRUE_VALUE cannot be converted to Integer"),
        ("Scan", {"TableName": "abc", "Limit": []}, "Unrecognized collection type class java.lang.Integer"),
        ("Scan", {"TableName": "abc", "ConsistentRead": "x"}, "STRING_VALUE cannot be converted to Boolean"),
        ("Scan", {"TableName": "abc", "ConsistentRead": 1}, "NUMBER_VALUE cannot be converted to Boolean"),
        (
            "CreateTable",
            {"TableName": "abc", "KeySchema": {}},
            "Start of structure or map found where not expected",
        ),
        ("CreateTable", {"TableName": "abc", "KeySchema": "x"}, "Unexpected field type"),
        (
            "CreateTable",
            {"TableName": "abc", "KeySchema": [5]},
            "Unexpected field type",
        ),
        (
            "CreateTable",
            {"TableName": "abc", "KeySchema": [[]]},
            "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.KeySchemaElement",
        ),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": []},
            "Unrecognized collection type java.util.Map<java.lang.String, "
            "com.amazonaws.dynamodb.v20120810.AttributeValue>",
        ),
        ("PutItem", {"TableName": "abc", "Item": "x"}, "Unexpected field type"),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": {}, "Expected": {"a": {"Value": {"S": 5}}}},
            "NUMBER_VALUE cannot be converted to String",
        ),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": {}, "Expected": {"a": {"AttributeValueList": [5]}}},
            "Unexpected value type in payload",
        ),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": {}, "Expected": {"a": {"Value": {"S": {"S": "x"}}}}},
            "Start of structure or map found where not expected",
        ),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": {}, "Expected": {"a": {"Value": {"B": "abcde"}}}},
            "Base64 encoded length is expected a multiple of 4 bytes but found: 5",
        ),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": {}, "Expected": {"a": {"Value": {"B": 5}}}},
            "only base-64-encoded strings are convertible to bytes",
        ),
        (
            "DeleteItem",
            {"TableName": "abc", "Key": {}, "Expected": {"a": {"Value": {"M": {"b": {"L": [{"N": 1}]}}}}}},
            "NUMBER_VALUE cannot be converted to String",
        ),
    ],
)
def test_wrong_json_type_is_serialization_exception(op: str, body: dict[str, Any], message: str) -> None:
    assert serialization(op, body) == message


def test_type_error_wins_over_constraint_errors() -> None:
    assert serialization("Scan", {"Limit": "5"}) == "STRING_VALUE cannot be converted to Integer"


def test_missing_and_null_members() -> None:
    expected = f"1 validation error detected: Value null at 'tableName' {NOT_NULL}"
    assert validation("DescribeTable", {}) == expected
    assert validation("DescribeTable", {"TableName": None}) == expected


def test_unknown_members_are_ignored() -> None:
    validate_request("dynamodb", "DescribeTable", {"TableName": "abc", "Foo": 1})
    validate_request("dynamodb", "PutItem", {"TableName": "abc", "Item": {"a": {"S": "x", "Zz": 1}}})


def test_null_attribute_value_members_are_absent() -> None:
    # Emptiness of the AttributeValue is the operation's check, not the shape's.
    validate_request("dynamodb", "PutItem", {"TableName": "abc", "Item": {"a": {"S": None}}})


def test_table_name_pattern_then_length() -> None:
    assert validation("DescribeTable", {"TableName": "a!"}) == (
        "2 validation errors detected: "
        "Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'a!' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )
    name = "a" * 256
    assert validation("DescribeTable", {"TableName": name}) == (
        f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: "
        "Member must have length less than or equal to 255"
    )


def test_table_arn_is_not_held_to_the_name_pattern() -> None:
    validate_request("dynamodb", "DescribeTable", {"TableName": "arn:aws:dynamodb:us-east-1:1:table/x"})


def test_index_name_rules() -> None:
    assert validation("Query", {"TableName": "abc", "IndexName": "ix"}) == (
        "1 validation error detected: Value 'ix' at 'indexName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )


def test_numeric_ranges_enum_order_and_member_order() -> None:
    assert validation("Scan", {"TableName": "abc", "Limit": 0, "Select": "X", "Segment": -1}) == (
        "3 validation errors detected: "
        "Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value 'X' at 'select' failed to satisfy constraint: Member must satisfy enum value set: "
        "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]; "
        "Value '-1' at 'segment' failed to satisfy constraint: "
        "Member must have value greater than or equal to 0"
    )


def test_decimal_for_integer_is_truncated() -> None:
    validate_request("dynamodb", "Scan", {"TableName": "abc", "Limit": 5.7})
    assert "Value '0' at 'limit'" in validation("Scan", {"TableName": "abc", "Limit": 0.5})


def test_list_paths_are_one_based_with_member() -> None:
    assert validation(
        "CreateTable",
        {
            "TableName": "abc",
            "AttributeDefinitions": [],
            "KeySchema": [{"AttributeName": "a"}, {"KeyType": "FOO"}],
        },
    ) == (
        "3 validation errors detected: "
        f"Value null at 'keySchema.1.member.keyType' {NOT_NULL}; "
        f"Value null at 'keySchema.2.member.attributeName' {NOT_NULL}; "
        "Value 'FOO' at 'keySchema.2.member.keyType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [HASH, RANGE]"
    )


def test_list_length_renders_value() -> None:
    assert validation("CreateTable", {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": []}) == (
        "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    names = [f"a{i}" for i in range(3)]
    validate_request("dynamodb", "Scan", {"TableName": "abc", "AttributesToGet": names})
    assert validation("Scan", {"TableName": "abc", "AttributesToGet": []}) == (
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def test_map_value_paths() -> None:
    assert validation("BatchGetItem", {"RequestItems": {"abc": {"Keys": []}}}) == (
        "1 validation error detected: Value '[]' at 'requestItems.abc.member.keys' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )


def test_at_most_ten_errors_are_listed() -> None:
    body = {"TableName": "abc", "KeySchema": [{} for _ in range(8)]}
    message = validation("CreateTable", body)
    assert message.startswith("10 validation errors detected: ")
    assert message.count("failed to satisfy constraint") == 10


def test_streams_limits() -> None:
    assert validation("GetRecords", {"ShardIterator": ""}, "dynamodbstreams") == (
        "1 validation error detected: Value '' at 'shardIterator' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    assert validation("DescribeStream", {"StreamArn": "arn:short"}, "dynamodbstreams") == (
        "1 validation error detected: Value 'arn:short' at 'streamArn' failed to satisfy constraint: "
        "Member must have length greater than or equal to 37"
    )
    assert "Member must have length greater than or equal to 28" in validation(
        "GetShardIterator",
        {"StreamArn": "a" * 40, "ShardId": "x", "ShardIteratorType": "LATEST"},
        "dynamodbstreams",
    )
    assert "[TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]" in validation(
        "GetShardIterator",
        {"StreamArn": "a" * 40, "ShardId": "s" * 30, "ShardIteratorType": "NOW"},
        "dynamodbstreams",
    )


def test_unknown_operation() -> None:
    with pytest.raises(UnknownOperationException):
        validate_request("dynamodb", "GetRecords", {})


def test_valid_put_item_passes() -> None:
    body = {
        "TableName": "my-table",
        "Item": {"pk": {"S": "x"}, "n": {"N": "1"}, "b": {"B": "AAEC"}, "l": {"L": [{"BOOL": True}]}},
        "ReturnValues": "ALL_OLD",
    }
    validate_request("dynamodb", "PutItem", body)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
member_names = st.sampled_from(
    [
        "TableName",
        "Item",
        "Key",
        "Limit",
        "KeySchema",
        "AttributeDefinitions",
        "RequestItems",
        "Select",
        "ExpressionAttributeValues",
        "ShardIterator",
        "StreamArn",
        "ShardId",
        "GlobalSecondaryIndexes",
        "S",
        "M",
        "L",
    ]
)
bodies = st.dictionaries(member_names | st.text(max_size=6), json_values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            ("dynamodb", "PutItem"),
            ("dynamodb", "CreateTable"),
            ("dynamodb", "BatchWriteItem"),
            ("dynamodb", "Query"),
            ("dynamodbstreams", "GetShardIterator"),
            ("dynamodbstreams", "GetRecords"),
        ]
    ),
    bodies,
)
def test_any_json_object_raises_only_dynamodb_errors(target: tuple[str, str], body: dict[str, Any]) -> None:
    with contextlib.suppress(DynamoDBError):
        validate_request(*target, body)
