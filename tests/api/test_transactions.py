"""TransactWriteItems and TransactGetItems through boto3."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.local_differences import KEY_TEXTS, MISSING_TABLE

EMPTY_KEY = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
    "empty string value. Key: pk"
)


def _key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i}"}}


@pytest.fixture
def table(ddb: Any, make_table: Callable[..., str]) -> str:
    name = make_table(f"t_{uuid.uuid4().hex}")
    ddb.put_item(TableName=name, Item={**_key(1), "v": {"N": "1"}})
    return name


@pytest.mark.differs_from_dynamodb_local("'The conditional request failed.', with a period")
def test_conflicting_condition_cancels_everything(ddb: Any, table: str) -> None:
    """The service's reason Message has no period (captured from it by a conformance suite)."""
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**_key(2), "v": {"N": "2"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key(3),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "3"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": _key(1),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    error = info.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, "
        "ConditionalCheckFailed]"
    )
    assert error["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {"pk": {"S": "k1"}, "v": {"N": "1"}},
        },
    ]
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 1


@pytest.mark.differs_from_dynamodb_local("1 write unit per transactional write")
def test_commit_and_capacity(ddb: Any, table: str) -> None:
    """A transactional write costs 2 write units per KB (the developer guide's capacity rules)."""
    response = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _key(2)}},
            {
                "Delete": {
                    "TableName": table,
                    "Key": _key(1),
                    "ConditionExpression": "v = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["ConsumedCapacity"][0]["CapacityUnits"] == 4.0  # 2 units per transactional write
    got = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": _key(1)}},
            {"Get": {"TableName": table, "Key": _key(2)}},
        ]
    )
    assert got["Responses"] == [{}, {"Item": {"pk": {"S": "k2"}}}]


def test_idempotency_token(ddb: Any, table: str) -> None:
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": _key(1),
                "UpdateExpression": "ADD v :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    token = uuid.uuid4().hex
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert ddb.get_item(TableName=table, Key=_key(1))["Item"]["v"] == {"N": "2"}
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": _key(5)}}], ClientRequestToken=token
        )
    assert info.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            lambda t: [
                {"Put": {"TableName": t, "Item": _key(1)}},
                {"Delete": {"TableName": t, "Key": _key(1)}},
            ],
            "Transaction request cannot include multiple operations on one item",
        ),
        (
            lambda t: [
                {"Put": {"TableName": t, "Item": _key(1)}, "Delete": {"TableName": t, "Key": _key(2)}}
            ],
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ),
        pytest.param(
            lambda t: [{"Put": {"TableName": t, "Item": {"x": {"S": "a"}}}}],
            "One or more parameter values were invalid: Missing the key pk in the item",
            marks=pytest.mark.differs_from_dynamodb_local("'One of the required keys was not given a value'"),
        ),
        (
            lambda t: [{"Put": {"TableName": t, "Item": {"pk": {"S": ""}}}}],
            EMPTY_KEY,
        ),
        (
            lambda t: [{"Delete": {"TableName": t, "Key": {"pk": {"S": ""}}}}],
            EMPTY_KEY,
        ),
    ],
)
def test_validation(ddb: Any, table: str, items: Callable[[str], Any], message: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(TransactItems=items(table))
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["Error"]["Message"] == message


MISMATCH = "The provided key element does not match the schema"


@KEY_TEXTS
@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"Put": {"Item": {"pk": {"N": "5"}}}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
        ),
        (
            {"Put": {"Item": {"pk": {"L": [{"S": "x"}]}}}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: L",
        ),
        ({"Update": {"Key": {"pk": {"N": "5"}}, "UpdateExpression": "REMOVE v"}}, MISMATCH),
        ({"Delete": {"Key": {"pk": {"M": {}}}}}, MISMATCH),
        ({"Delete": {"Key": {"pk": {"S": "a"}, "x": {"S": "b"}}}}, MISMATCH),
        (
            {"ConditionCheck": {"Key": {"x": {"S": "a"}}, "ConditionExpression": "attribute_exists(v)"}},
            MISMATCH,
        ),
    ],
)
def test_a_key_that_does_not_fit_the_schema_cancels(
    ddb: Any, table: str, action: dict[str, Any], message: str
) -> None:
    """What the service answers (captured from it in four regions by a conformance suite): a key of another
    type cancels with reason ValidationError, PutItem's text for a Put, GetItem's for a Key."""
    ((kind, body),) = action.items()
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _key(2)}},
                {kind: {"TableName": table, **body}},
            ]
        )
    response = info.value.response
    assert response["Error"] == {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ValidationError]",
    }
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ValidationError", "Message": message},
    ]
    assert "Item" not in ddb.get_item(TableName=table, Key=_key(2))


@pytest.mark.differs_from_dynamodb_local("a cancellation without reasons, 'The number of conditions on ...'")
@pytest.mark.parametrize("key", [{}, {"pk": {"N": "1"}}, {"pk": {"S": "a"}, "x": {"S": "b"}}])
def test_transact_get_with_a_key_that_does_not_fit_the_schema(
    ddb: Any, table: str, key: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as info:
        ddb.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": table, "Key": key}},
                {"Get": {"TableName": table, "Key": _key(1)}},
            ]
        )
    response = info.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": MISMATCH},
        {"Code": "None"},
    ]


def test_transact_get_duplicates(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": table, "Key": _key(1)}},
                {"Get": {"TableName": table, "Key": _key(1)}},
            ]
        )
    assert info.value.response["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item"
    )


def _stream_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records.extend(streams.get_records(ShardIterator=iterator)["Records"])
    return records


def test_batch_and_transaction_writes_appear_once_in_the_stream(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    name = make_table(
        f"s_{uuid.uuid4().hex}", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": _key(i)}} for i in range(3)]})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": _key(10)}},
            {"Delete": {"TableName": name, "Key": _key(0)}},
        ]
    )
    with pytest.raises(ClientError):  # cancelled: nothing reaches the stream
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": _key(11)}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": _key(1),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    events = sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in _stream_records(streams, arn))
    assert events == [
        ("INSERT", "k0"),
        ("INSERT", "k1"),
        ("INSERT", "k10"),
        ("INSERT", "k2"),
        ("REMOVE", "k0"),
    ]


@MISSING_TABLE
def test_missing_table(ddb: Any, table: str) -> None:
    """The real service's text (DynamoDB Local says "Cannot do operations on a non-existent table")."""
    for call, items in (
        (ddb.transact_write_items, [{"Put": {"TableName": "no_such_table", "Item": _key(1)}}]),
        (ddb.transact_get_items, [{"Get": {"TableName": "no_such_table", "Key": _key(1)}}]),
    ):
        with pytest.raises(ClientError) as info:
            call(TransactItems=items)
        assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert info.value.response["Error"]["Message"] == "Requested resource not found"


@pytest.mark.differs_from_dynamodb_local("one cancellation reason for a transaction of two actions")
def test_update_of_a_key_attribute_cancels_with_validation_error(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _key(7)}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": _key(1),
                        "UpdateExpression": "SET pk = :v",
                        "ExpressionAttributeValues": {":v": {"S": "other"}},
                    }
                },
            ]
        )
    response = info.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ValidationError]"
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ValidationError",
            "Message": "One or more parameter values were invalid: Cannot update attribute pk. "
            "This attribute is part of the key",
        },
    ]
    assert "Item" not in ddb.get_item(TableName=table, Key=_key(7))


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ("SET q.r = :v", "The document path provided in the update expression is invalid for update"),
        ("SET v = nope", "The provided expression refers to an attribute that does not exist in the item"),
        ("ADD v :s", "An operand in the update expression has an incorrect data type"),
    ],
)
@pytest.mark.differs_from_dynamodb_local("a plain ValidationException")
def test_an_update_that_cannot_apply_cancels_with_a_validation_error(
    ddb: Any, table: str, update: str, message: str
) -> None:
    """The API reference lists these update failures as ValidationError cancellation reasons (DynamoDB
    Local answers a plain ValidationException instead)."""
    used = {k: v for k, v in {":v": {"N": "1"}, ":s": {"SS": ["x"]}}.items() if k in update}
    values = {"ExpressionAttributeValues": used} if used else {}
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _key(2)}},
                {"Update": {"TableName": table, "Key": _key(1), "UpdateExpression": update, **values}},
            ]
        )
    error = info.value.response
    assert error["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ValidationError]"
    )
    assert error["CancellationReasons"] == [{"Code": "None"}, {"Code": "ValidationError", "Message": message}]
    assert "Item" not in ddb.get_item(TableName=table, Key=_key(2))
