"""Bad input answers DynamoDB's error, never a 500 (raw HTTP, so no client-side checks interfere)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.local_differences import MESSAGE_CASE, NO_TAGGING
from tests.api.test_wire import raw
from tests.server import Server

V = "com.amazon.coral.validate#ValidationException"
ONE = "1 validation error detected: "


def call(server: Server, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, _, data = raw(server, json.dumps(body).encode(), target=f"DynamoDB_20120810.{op}")
    return status, json.loads(data)


def text(answer: dict[str, Any]) -> str:
    """An error's message, whichever way the key is spelt (DynamoDB Local spells it "Message")."""
    return str(answer.get("message", answer.get("Message")))


CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "ListTables",
        {"Limit": 0},
        ONE + "Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    ),
    (
        "ListTables",
        {"Limit": 101},
        ONE + "Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100",
    ),
    (
        "ListTables",
        {"ExclusiveStartTableName": "abc!"},
        ONE + "Value 'abc!' at 'exclusiveStartTableName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
    ),
    (
        "DescribeTable",
        {},
        ONE + "Value null at 'tableName' failed to satisfy constraint: Member must not be null",
    ),
    (
        "GetItem",
        {"TableName": "abc", "Key": {"pk": {"S": "a"}}, "ReturnConsumedCapacity": "ALL"},
        ONE
        + "Value 'ALL' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum "
        "value set: [INDEXES, TOTAL, NONE]",
    ),
    (
        "PutItem",
        {"TableName": "abc", "Item": {"pk": {"S": "a"}}, "ReturnValues": "SOME"},
        ONE
        + "Value 'SOME' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: "
        "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
    ),
    (
        "PutItem",
        {"TableName": "abc"},
        ONE + "Value null at 'item' failed to satisfy constraint: Member must not be null",
    ),
    (
        "UpdateItem",
        {"TableName": "abc"},
        ONE + "Value null at 'key' failed to satisfy constraint: Member must not be null",
    ),
    (
        "UpdateTimeToLive",
        {"TableName": "abc", "TimeToLiveSpecification": {"Enabled": True, "AttributeName": ""}},
        ONE + "Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ),
    (
        "CreateTable",
        {
            "TableName": "abc",
            "KeySchema": [None],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
        ONE + "Value null at 'keySchema.1.member' failed to satisfy constraint: Member must not be null",
    ),
    (
        "UpdateTable",
        {"TableName": "abc", "BillingMode": "FREE"},
        ONE
        + "Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: "
        "[PROVISIONED, PAY_PER_REQUEST]",
    ),
    (
        "CreateTable",
        {
            "TableName": "abc",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "X"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
        ONE
        + "Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member "
        "must satisfy enum value set: [B, N, S]",
    ),
    (
        "CreateTable",
        {
            "TableName": "abc",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 1},
        },
        ONE
        + "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must "
        "have value greater than or equal to 1",
    ),
]


@MESSAGE_CASE  # and it checks that the table exists first
@pytest.mark.parametrize(("op", "body", "message"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_shape_validation(server: Server, op: str, body: dict[str, Any], message: str) -> None:
    status, answer = call(server, op, body)
    assert status == 400
    assert answer == {"__type": V, "message": message}


@MESSAGE_CASE
def test_create_table_requires_key_schema(server: Server) -> None:
    status, answer = call(server, "CreateTable", {"TableName": "abc", "BillingMode": "PAY_PER_REQUEST"})
    assert status == 400
    assert answer["__type"] == V
    assert answer["message"].startswith("2 validation errors detected: ")
    assert (
        "Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null"
        in (answer["message"])
    )
    assert (
        "Value null at 'keySchema' failed to satisfy constraint: Member must not be null" in answer["message"]
    )


def test_update_time_to_live_errors(server: Server, make_table: Any) -> None:
    name = make_table()
    spec = {"TableName": name, "TimeToLiveSpecification": {"Enabled": False, "AttributeName": "ttl"}}
    assert text(call(server, "UpdateTimeToLive", spec)[1]) == "TimeToLive is already disabled"
    spec["TimeToLiveSpecification"] = {"Enabled": True, "AttributeName": "ttl"}
    assert call(server, "UpdateTimeToLive", spec)[0] == 200


@pytest.mark.differs_from_dynamodb_local("'TimeToLive is active on a different AttributeName', no name")
def test_update_time_to_live_on_another_attribute(server: Server, make_table: Any) -> None:
    """The service names the current attribute (user reports of the real service)."""
    name = make_table()
    spec = {"TableName": name, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "ttl"}}
    assert call(server, "UpdateTimeToLive", spec)[0] == 200
    spec["TimeToLiveSpecification"] = {"Enabled": False, "AttributeName": "other"}
    assert text(call(server, "UpdateTimeToLive", spec)[1]) == (
        "TimeToLive is active on a different AttributeName: current AttributeName is ttl"
    )


@pytest.mark.differs_from_dynamodb_local("ProvisionedThroughput is accepted for a PAY_PER_REQUEST table")
def test_update_table_errors(server: Server, make_table: Any) -> None:
    """The service's texts (dynalite's recordings)."""
    name = make_table()
    status, answer = call(
        server,
        "UpdateTable",
        {"TableName": name, "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
    )
    assert (status, text(answer)) == (
        400,
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
        "specified when BillingMode is PAY_PER_REQUEST",
    )
    status, answer = call(server, "UpdateTable", {"TableName": name, "BillingMode": "PROVISIONED"})
    assert text(answer) == (
        "One or more parameter values were invalid: "
        "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
    )
    status, answer = call(
        server, "UpdateTable", {"TableName": name, "StreamSpecification": {"StreamEnabled": False}}
    )
    assert text(answer) == "Table has no stream to disable"


@NO_TAGGING
def test_tag_errors(server: Server) -> None:
    status, answer = call(server, "ListTagsOfResource", {"ResourceArn": "not-an-arn"})
    assert (status, answer["__type"]) == (400, V)
    assert answer["message"] == "Invalid TableArn: Invalid ResourceArn provided as input not-an-arn"
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/never_made"
    status, answer = call(server, "ListTagsOfResource", {"ResourceArn": arn})
    assert answer == {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": f"Requested resource not found: ResourcArn: {arn} not found",
    }
