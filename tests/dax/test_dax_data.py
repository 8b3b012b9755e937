"""The real `amazon-dax-client` against `headwater serve`: every data-plane operation, the writes going
through Headwater's one write path (a stream sees them), and errors as the client raises them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from amazondax.DaxError import DaxServiceError

from tests.dax.support import dax_client, make_cluster, make_table, unique
from tests.server import Server

pytestmark = pytest.mark.headwater_only


@pytest.fixture(scope="module")
def url(server: Server) -> str:
    return make_cluster(server, unique("data"))


@pytest.fixture(scope="module")
def dax(url: str) -> Iterator[Any]:
    with dax_client(url) as client:
        yield client


@pytest.fixture
def table(server: Server) -> str:
    return make_table(server.client("dynamodb"), unique("daxdata"))


def key(pk: str, sk: int | str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def test_put_get_update_delete(dax: Any, server: Server, table: str) -> None:
    item = {
        **key("a", "1.5"),
        "s": {"S": "text"},
        "n": {"N": "-12.25"},
        "b": {"B": b"\x00\xff"},
        "m": {"M": {"x": {"L": [{"NULL": True}, {"BOOL": False}, {"N": "123456789012345678901234567890"}]}}},
        "ss": {"SS": ["p", "q"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"z"]},
    }
    assert dax.put_item(TableName=table, Item=item) == {}
    direct = server.client("dynamodb").get_item(TableName=table, Key=key("a", "1.5"), ConsistentRead=True)
    assert direct["Item"] == item  # written through Headwater, read back over HTTP
    assert dax.get_item(TableName=table, Key=key("a", "1.5"))["Item"] == item
    assert dax.get_item(TableName=table, Key=key("a", "1.5"), ProjectionExpression="m.x[2], s")["Item"] == {
        "m": {"M": {"x": {"L": [{"N": "123456789012345678901234567890"}]}}},
        "s": {"S": "text"},
    }
    updated = dax.update_item(
        TableName=table,
        Key=key("a", "1.5"),
        UpdateExpression="SET #n = #n + :one, added = :v REMOVE b",
        ConditionExpression="attribute_exists(pk) AND size(s) = :four",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":v": {"S": "new"}, ":four": {"N": "4"}},
        ReturnValues="UPDATED_NEW",
    )
    assert updated["Attributes"] == {"n": {"N": "-11.25"}, "added": {"S": "new"}}
    old = dax.delete_item(TableName=table, Key=key("a", "1.5"), ReturnValues="ALL_OLD")["Attributes"]
    assert old["added"] == {"S": "new"} and "b" not in old
    assert "Item" not in dax.get_item(TableName=table, Key=key("a", "1.5"), ConsistentRead=True)


def test_query_and_scan(dax: Any, table: str) -> None:
    for sk in (3, -1, 2, 10):
        dax.put_item(TableName=table, Item={**key("q", sk), "v": {"N": str(sk * 10)}})
    dax.put_item(TableName=table, Item={**key("other", 1)})
    found = dax.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND sk BETWEEN :low AND :high",
        FilterExpression="v <> :skip",
        ExpressionAttributeValues={
            ":p": {"S": "q"},
            ":low": {"N": "-5"},
            ":high": {"N": "5"},
            ":skip": {"N": "20"},
        },
        ScanIndexForward=False,
    )
    assert [item["sk"]["N"] for item in found["Items"]] == ["3", "-1"]
    assert (found["Count"], found["ScannedCount"]) == (2, 3)
    first = dax.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        Limit=2,
    )
    assert first["LastEvaluatedKey"] == key("q", 2)
    rest = dax.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        ExclusiveStartKey=first["LastEvaluatedKey"],
        ProjectionExpression="v",
    )
    assert rest["Items"] == [{"v": {"N": "30"}}, {"v": {"N": "100"}}]
    counted = dax.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "q"}},
        Select="COUNT",
    )
    assert counted["Count"] == 4 and "Items" not in counted
    scanned = dax.scan(TableName=table, FilterExpression="attribute_exists(v)", ConsistentRead=True)
    assert sorted(int(item["sk"]["N"]) for item in scanned["Items"]) == [-1, 2, 3, 10]


def test_batches(dax: Any, table: str) -> None:
    written = dax.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {**key("b", 1), "v": {"S": "one"}}}},
                {"PutRequest": {"Item": {**key("b", 2), "v": {"S": "two"}}}},
                {"DeleteRequest": {"Key": key("b", 3)}},
            ]
        }
    )
    assert written == {"UnprocessedItems": {}}
    found = dax.batch_get_item(RequestItems={table: {"Keys": [key("b", 1), key("b", 2), key("b", 9)]}})
    assert sorted(item["v"]["S"] for item in found["Responses"][table]) == ["one", "two"]
    projected = dax.batch_get_item(
        RequestItems={table: {"Keys": [key("b", 1)], "ProjectionExpression": "v", "ConsistentRead": True}}
    )
    assert projected["Responses"][table] == [{"v": {"S": "one"}}]


def test_transactions(dax: Any, table: str) -> None:
    dax.put_item(TableName=table, Item={**key("t", 1), "n": {"N": "1"}})
    dax.put_item(TableName=table, Item=key("t", 3))
    dax.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key("t", 2), "n": {"N": "2"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key("t", 1),
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key("t", 3),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    got = dax.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": key("t", 1)}},
            {"Get": {"TableName": table, "Key": key("t", 2), "ProjectionExpression": "n"}},
            {"Get": {"TableName": table, "Key": key("t", 9)}},
        ]
    )
    assert got["Responses"] == [{"Item": {**key("t", 1), "n": {"N": "2"}}}, {"Item": {"n": {"N": "2"}}}, {}]
    dax.transact_write_items(TransactItems=[{"Delete": {"TableName": table, "Key": key("t", 2)}}])
    assert "Item" not in dax.get_item(TableName=table, Key=key("t", 2), ConsistentRead=True)


def test_conditional_check_failed_as_the_client_raises_it(dax: Any, table: str) -> None:
    dax.put_item(TableName=table, Item=key("c", 1))
    with pytest.raises(DaxServiceError) as caught:
        dax.put_item(TableName=table, Item=key("c", 1), ConditionExpression="attribute_not_exists(pk)")
    assert caught.value.response["Error"] == {
        "Code": "ConditionalCheckFailedException",
        "Message": "The conditional request failed",
    }


def test_transaction_cancelled_as_the_client_raises_it(dax: Any, table: str) -> None:
    dax.put_item(TableName=table, Item=key("x", 1))
    with pytest.raises(DaxServiceError) as caught:
        dax.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key("x", 2)}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key("x", 1),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    error = caught.value
    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    assert error.response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]"
    )
    assert error.cancellation_reasons == [  # code, message, item: one flat list, as DAX sends it
        "None",  # DynamoDB's reason for an action that did not fail
        None,
        None,
        "ConditionalCheckFailed",
        "The conditional request failed",
        None,
    ]
    assert "Item" not in dax.get_item(TableName=table, Key=key("x", 2), ConsistentRead=True)


def test_validation_and_missing_table_errors(dax: Any, table: str) -> None:
    with pytest.raises(DaxServiceError) as caught:
        dax.update_item(
            TableName=table,
            Key=key("v", 1),
            UpdateExpression="SET pk = :x",
            ExpressionAttributeValues={":x": {"S": "y"}},
        )
    assert caught.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key",
    }
    with pytest.raises(DaxServiceError) as missing:
        dax.get_item(TableName="nosuchtable", Key=key("v", 1))
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_writes_through_dax_reach_the_table_stream(dax: Any, server: Server) -> None:
    ddb, streams = server.client("dynamodb"), server.client("dynamodbstreams")
    name = make_table(ddb, unique("daxstream"), stream=True)
    dax.put_item(TableName=name, Item={**key("s", 1), "v": {"S": "x"}})
    dax.delete_item(TableName=name, Key=key("s", 1))
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]


def test_a_large_item_arrives_in_many_reads(dax: Any, table: str) -> None:
    big = "x" * 390_000
    dax.put_item(TableName=table, Item={**key("big", 1), "v": {"S": big}})
    assert dax.get_item(TableName=table, Key=key("big", 1), ConsistentRead=True)["Item"]["v"]["S"] == big


def test_with_front_processes_the_core_serves_the_clusters(tmp_path: Path) -> None:
    own = Server(tmp_path, ("--workers", "1")).start()
    try:
        table = make_table(own.client("dynamodb"), "fronted")
        with dax_client(make_cluster(own, "fronted")) as client:
            client.put_item(TableName=table, Item={**key("w", 1), "v": {"S": "x"}})
            assert client.get_item(TableName=table, Key=key("w", 1))["Item"]["v"] == {"S": "x"}
        found = own.client("dynamodb").get_item(TableName=table, Key=key("w", 1))  # through the front
        assert found["Item"]["v"] == {"S": "x"}
    finally:
        own.stop()
