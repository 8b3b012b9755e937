"""`headwater serve --storage-url postgresql://...` against a throwaway PostgreSQL: items through boto3,
and acknowledged writes surviving kill -9 of the server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.durability import write_until_killed
from tests.postgres_server import PostgresServer
from tests.server import Server

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def pg_server(postgres_server: PostgresServer, tmp_server: Callable[..., Server]) -> tuple[Server, str]:
    url = postgres_server.create_database()
    return tmp_server("--storage-url", url), url


def _create(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_items_round_trip_through_postgres(pg_server: tuple[Server, str]) -> None:
    srv, url = pg_server
    srv.start()
    ddb: Any = srv.client("dynamodb")
    _create(ddb, "pg_items")
    assert ddb.describe_table(TableName="pg_items")["Table"]["TableStatus"] == "ACTIVE"
    item = {"pk": {"S": "a\u00e9\U0001f600"}, "n": {"N": "1.50"}, "b": {"B": b"\x00\xff"}, "l": {"L": []}}
    ddb.put_item(TableName="pg_items", Item=item)
    got = ddb.get_item(TableName="pg_items", Key={"pk": item["pk"]})["Item"]
    assert got == {"pk": item["pk"], "n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}, "l": {"L": []}}
    updated = ddb.update_item(
        TableName="pg_items",
        Key={"pk": item["pk"]},
        UpdateExpression="SET s = :s ADD n :one REMOVE l",
        ExpressionAttributeValues={":s": {"S": "x"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated == {"pk": item["pk"], "n": {"N": "2.5"}, "b": {"B": b"\x00\xff"}, "s": {"S": "x"}}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(TableName="pg_items", Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert ddb.get_item(TableName="pg_items", Key={"pk": item["pk"]})["Item"] == updated
    # the data really is in PostgreSQL, not in a SQLite file of the data dir
    assert not (srv.data_dir / "data" / "headwater.db").exists()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (1,)
    # and it outlives a clean restart
    srv.stop()
    srv.start()
    assert srv.client("dynamodb").get_item(TableName="pg_items", Key={"pk": item["pk"]})["Item"] == updated


def test_acknowledged_writes_survive_kill9(pg_server: tuple[Server, str]) -> None:
    srv, _ = pg_server
    srv.start()
    _create(srv.client("dynamodb"), "pg_durable")
    acknowledged = write_until_killed(srv, "pg_durable")
    assert len(acknowledged) > 50, "the writers should have been acknowledged many times"

    srv.start()  # waits for the killed server's writer lock to be released by PostgreSQL
    ddb: Any = srv.client("dynamodb")
    missing = [
        k for k in acknowledged if "Item" not in ddb.get_item(TableName="pg_durable", Key={"pk": {"S": k}})
    ]
    assert missing == []
    hits = int(ddb.get_item(TableName="pg_durable", Key={"pk": {"S": "counter"}})["Item"]["hits"]["N"])
    # every acknowledged put was followed by an acknowledged ADD, except possibly the last one per writer
    assert len(acknowledged) <= hits <= len(acknowledged) + 8
    ddb.put_item(TableName="pg_durable", Item={"pk": {"S": "after-restart"}})
    assert "Item" in ddb.get_item(TableName="pg_durable", Key={"pk": {"S": "after-restart"}})


def test_kinesis_and_destination_on_postgres(pg_server: tuple[Server, str]) -> None:
    """The Kinesis stream document, records, resharding and a table's destination on PostgreSQL."""
    srv, _ = pg_server
    srv.start()
    ddb: Any = srv.client("dynamodb")
    kinesis: Any = srv.client("kinesis", retries={"max_attempts": 10, "mode": "standard"})
    _create(ddb, "pg_kds")
    kinesis.create_stream(StreamName="pg-stream", ShardCount=2)
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/pg-stream"
    ddb.enable_kinesis_streaming_destination(TableName="pg_kds", StreamArn=arn)
    deadline = time.monotonic() + 20
    destinations = ddb.describe_kinesis_streaming_destination
    while (
        destinations(TableName="pg_kds")["KinesisDataStreamDestinations"][0]["DestinationStatus"] != "ACTIVE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    put = kinesis.put_records(
        StreamName="pg-stream", Records=[{"Data": b"%d" % i, "PartitionKey": f"k{i}"} for i in range(20)]
    )
    assert put["FailedRecordCount"] == 0 and len({r["SequenceNumber"] for r in put["Records"]}) == 20
    kinesis.split_shard(StreamName="pg-stream", ShardToSplit="shardId-0", NewStartingHashKey=str(2**126))
    for i in range(5):
        ddb.put_item(TableName="pg_kds", Item={"pk": {"S": f"i{i}"}})
    shards = kinesis.list_shards(StreamName="pg-stream")["Shards"]
    assert len(shards) == 4
    total = 0
    for shard in shards:
        it = kinesis.get_shard_iterator(
            StreamName="pg-stream", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        total += len(kinesis.get_records(ShardIterator=it)["Records"])
    assert total == 25
