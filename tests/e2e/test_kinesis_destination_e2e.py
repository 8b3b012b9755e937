"""Kinesis Data Streams for DynamoDB end to end: every write path (put, update, delete, batch, transaction,
TTL) lands in the Kinesis stream across its shards, complete, in order per item and with AWS's record
document; and after kill -9 during writes every acknowledged change is there, exactly once."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from tests.api.kinesis_support import read_shard
from tests.durability import write_until_killed
from tests.server import Server

KEYS = {"pk"}


def setup(srv: Server, table: str, stream: str, shards: int) -> tuple[Any, Any]:
    ddb = srv.client("dynamodb")
    kinesis = srv.client("kinesis", retries={"max_attempts": 10, "mode": "standard"})
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/{stream}"
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    deadline = time.monotonic() + 20
    while (
        ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"][0][
            "DestinationStatus"
        ]
        != "ACTIVE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return ddb, kinesis


def changes(kinesis: Any, stream: str) -> dict[str, list[dict[str, Any]]]:
    """Every record of the stream, parents before children, grouped by item key in shard order."""
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    done: set[str] = set()
    by_key: dict[str, list[dict[str, Any]]] = {}
    while len(done) < len(shards):
        for shard in shards:
            parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")} - {None}
            if shard["ShardId"] in done or not parents <= done:
                continue
            for record in read_shard(kinesis, stream, shard["ShardId"]):
                doc = json.loads(record["Data"])
                doc["_pk"] = record["PartitionKey"]
                by_key.setdefault(doc["dynamodb"]["Keys"]["pk"]["S"], []).append(doc)
            done.add(shard["ShardId"])
    return by_key


def test_every_write_path_lands_in_order(tmp_server: Any) -> None:
    srv = tmp_server("--ttl-sweep-interval", "0.1").start()
    ddb, kinesis = setup(srv, "orders", "changes", 3)
    ddb.update_time_to_live(
        TableName="orders", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    for i in range(10):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"p{i}"}, "v": {"N": "0"}})
        ddb.update_item(
            TableName="orders",
            Key={"pk": {"S": f"p{i}"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"N": "1"}},
        )
    ddb.delete_item(TableName="orders", Key={"pk": {"S": "p0"}})
    ddb.put_item(TableName="orders", Item={"pk": {"S": "p1"}, "v": {"N": "1"}})  # unchanged: no record
    ddb.batch_write_item(
        RequestItems={
            "orders": [
                {"PutRequest": {"Item": {"pk": {"S": "b1"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "p2"}}}},
            ]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "orders", "Item": {"pk": {"S": "t1"}}}},
            {
                "Update": {
                    "TableName": "orders",
                    "Key": {"pk": {"S": "p3"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "2"}},
                }
            },
            {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "p4"}}}},
        ]
    )
    ddb.put_item(TableName="orders", Item={"pk": {"S": "ttl"}, "exp": {"N": str(int(time.time()) - 10)}})
    kinesis.split_shard(
        StreamName="changes", ShardToSplit="shardId-000000000001", NewStartingHashKey=str(2**127)
    )
    for i in range(5, 10):  # after the split: children of shard 1 take these
        ddb.update_item(TableName="orders", Key={"pk": {"S": f"p{i}"}}, UpdateExpression="REMOVE v")
    deadline = time.monotonic() + 30
    while "Item" in ddb.get_item(TableName="orders", Key={"pk": {"S": "ttl"}}):
        assert time.monotonic() < deadline, "the TTL sweep never deleted the item"
        time.sleep(0.1)

    got = changes(kinesis, "changes")
    events = {key: [r["eventName"] for r in records] for key, records in got.items()}
    expected = {f"p{i}": ["INSERT", "MODIFY"] for i in range(10)}
    expected["p0"].append("REMOVE")
    expected["p2"].append("REMOVE")
    expected["p3"].append("MODIFY")
    expected["p4"].append("REMOVE")
    for i in range(5, 10):
        expected[f"p{i}"].append("MODIFY")
    expected.update({"b1": ["INSERT"], "t1": ["INSERT"], "ttl": ["INSERT", "REMOVE"]})
    assert events == expected
    shards_used = {r["_pk"] for records in got.values() for r in records}
    assert len(shards_used) == len(got)  # one Kinesis partition key per item
    ttl_remove = got["ttl"][1]
    assert ttl_remove["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert (
        ttl_remove["dynamodb"]["OldImage"]["pk"] == {"S": "ttl"} and "NewImage" not in ttl_remove["dynamodb"]
    )
    for records in got.values():
        stamps = [r["dynamodb"]["ApproximateCreationDateTime"] for r in records]
        assert stamps == sorted(stamps)
        for r in records:
            assert r["tableName"] == "orders" and r["recordFormat"] == "application/json"
            assert r["eventSource"] == "aws:dynamodb" and r["awsRegion"] == "us-east-1"
    assert got["p3"][2]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert got["p3"][2]["dynamodb"]["OldImage"]["v"] == {"N": "1"}


def test_kill9_loses_no_acknowledged_change(tmp_server: Any) -> None:
    srv = tmp_server().start()
    setup(srv, "durable", "durable-changes", 4)
    acknowledged = write_until_killed(srv, "durable")
    assert len(acknowledged) > 20
    srv.start()
    ddb = srv.client("dynamodb")
    kinesis = srv.client("kinesis", retries={"max_attempts": 10, "mode": "standard"})
    got = changes(kinesis, "durable-changes")
    for key in acknowledged:
        assert [r["eventName"] for r in got[key]] == ["INSERT"], key
    # exactly one record per committed change of the counter: as many as the hits it holds
    hits = int(ddb.get_item(TableName="durable", Key={"pk": {"S": "counter"}})["Item"]["hits"]["N"])
    assert len(got["counter"]) == hits
    assert Counter(r["eventName"] for r in got["counter"]) == {"INSERT": 1, "MODIFY": hits - 1}
    values = [int(r["dynamodb"]["NewImage"]["hits"]["N"]) for r in got["counter"]]
    assert values == list(range(1, hits + 1))
    # every item in the table has its INSERT in the stream (a put committed but not acknowledged too)
    items = ddb.scan(TableName="durable", Select="COUNT")["Count"]
    assert len(got) == items
