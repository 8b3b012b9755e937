"""A data directory written before accounts and regions were namespaces keeps working: everything in it
(tables and their items, indexes, streams and records, TTL and tags, Kinesis streams, destinations,
functions, layers, mappings and their checkpoints) becomes the default namespace's on the first start.

The old directory is made here the honest way round: a server of today writes the data, then every key
and document that changed shape is put back the way the older versions wrote it (catalog documents under
the bare table name and without their namespace, Kinesis documents under the bare stream name, Lambda
state under bare names, no layout mark); item, index and record storage did not change."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

from headwater.model.keys import partition_hash
from tests.e2e.triggers_support import POLL, RECORDER, ROLE, put, records, wait_for, zip_of
from tests.server import Server

LAMBDA_KINDS = (
    "lambda.function",
    "lambda.mapping",
    "lambda.checkpoint",
    "lambda.failure",
    "lambda.layer",
    "lambda.layer-number",
)


def to_old_layout(database: Path) -> None:
    """Rewrite a stopped server's database in the layout of the versions before namespaces."""
    with sqlite3.connect(database) as conn:
        for key, value in conn.execute("SELECT key, value FROM meta WHERE kind = 'table'").fetchall():
            doc = orjson.loads(value)
            del doc["namespace"]
            conn.execute("DELETE FROM meta WHERE kind = 'table' AND key = ?", (key,))
            name = key.rsplit("/", 1)[1]
            conn.execute("INSERT INTO meta VALUES ('table', ?, ?)", (name, orjson.dumps(doc)))
        for kind in LAMBDA_KINDS:
            for key, value in conn.execute("SELECT key, value FROM meta WHERE kind = ?", (kind,)).fetchall():
                conn.execute("DELETE FROM meta WHERE kind = ? AND key = ?", (kind, key))
                conn.execute("INSERT INTO meta VALUES (?, ?, ?)", (kind, key.split("/", 2)[2], value))
        conn.execute("DELETE FROM meta WHERE kind = 'layout'")
        for h, pk, sk, item in conn.execute(
            "SELECT h, pk, sk, item FROM items WHERE table_id = 0"
        ).fetchall():
            conn.execute("DELETE FROM items WHERE table_id = 0 AND h = ? AND pk = ? AND sk = ?", (h, pk, sk))
            bare = pk.rsplit(b"/", 1)[1]
            conn.execute("INSERT INTO items VALUES (0, ?, ?, ?, ?)", (partition_hash(bare), bare, sk, item))


def meta_keys(database: Path, kind: str) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM meta WHERE kind = ?", (kind,))]


def stream_keys(ddb_streams: Any, arn: str) -> list[str]:
    shards = ddb_streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    out: list[str] = []
    for shard in shards:
        iterator = ddb_streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        out += [
            r["dynamodb"]["Keys"]["pk"]["S"]
            for r in ddb_streams.get_records(ShardIterator=iterator)["Records"]
        ]
    return out


def kinesis_data(kinesis: Any, name: str) -> list[bytes]:
    shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return [r["Data"] for r in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]]


def test_an_old_data_directory_becomes_the_default_namespace(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    before = Server(tmp_path, ("--trigger-poll-interval", POLL)).start()
    ddb, kinesis, lam = before.client("dynamodb"), before.client("kinesis"), before.client("lambda")
    table = ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=[{"Key": "team", "Value": "old"}],
    )["TableDescription"]
    ddb.update_time_to_live(
        TableName="orders", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    kinesis.create_stream(StreamName="changes", ShardCount=1)
    kinesis_arn = kinesis.describe_stream_summary(StreamName="changes")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=kinesis_arn)
    wait_for(
        lambda: (
            ddb.describe_kinesis_streaming_destination(TableName="orders")["KinesisDataStreamDestinations"][
                0
            ]["DestinationStatus"]
            == "ACTIVE"
        )
    )
    layer = lam.publish_layer_version(
        LayerName="shared", Content={"ZipFile": zip_of("X = 1\n", "python/x.py")}
    )
    lam.create_function(
        FunctionName="recorder",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(RECORDER)},
        Environment={"Variables": {"OUT": str(out)}},
        Timeout=60,
        Layers=[layer["LayerVersionArn"]],
    )
    mapping = lam.create_event_source_mapping(
        FunctionName="recorder", EventSourceArn=table["LatestStreamArn"], StartingPosition="TRIM_HORIZON"
    )
    for pk in ("a", "b"):
        put(ddb, "orders", pk, g="x")
    wait_for(lambda: [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(out)] == ["a", "b"])
    assert len(kinesis_data(kinesis, "changes")) == 2
    before.stop()

    database = tmp_path / "data" / "headwater.db"
    to_old_layout(database)
    assert meta_keys(database, "table") == ["orders"]
    assert meta_keys(database, "lambda.function") == ["recorder"]

    after = Server(tmp_path, ("--trigger-poll-interval", POLL, "--workers", "2")).start()
    try:
        ddb, kinesis, lam = after.client("dynamodb"), after.client("kinesis"), after.client("lambda")
        streams = after.client("dynamodbstreams")
        assert meta_keys(database, "table") == ["000000000000/us-east-1/orders"]
        assert ddb.list_tables()["TableNames"] == ["orders"]
        described = ddb.describe_table(TableName="orders")["Table"]
        assert described["TableArn"] == table["TableArn"]
        assert described["LatestStreamArn"] == table["LatestStreamArn"]
        assert described["ItemCount"] == 2
        assert ddb.get_item(TableName="orders", Key={"pk": {"S": "a"}})["Item"] == {
            "pk": {"S": "a"},
            "g": {"S": "x"},
        }
        assert (
            ddb.query(
                TableName="orders",
                IndexName="byg",
                KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "x"}},
            )["Count"]
            == 2
        )
        assert (
            ddb.describe_time_to_live(TableName="orders")["TimeToLiveDescription"]["AttributeName"] == "exp"
        )
        assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [
            {"Key": "team", "Value": "old"}
        ]
        assert [s["StreamArn"] for s in streams.list_streams()["Streams"]] == [table["LatestStreamArn"]]
        assert stream_keys(streams, table["LatestStreamArn"]) == ["a", "b"]
        assert kinesis.list_streams()["StreamNames"] == ["changes"]
        assert len(kinesis_data(kinesis, "changes")) == 2
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["recorder"]
        assert (
            lam.get_function(FunctionName="recorder")["Configuration"]["Layers"][0]["Arn"]
            == (layer["LayerVersionArn"])
        )
        assert [x["LayerName"] for x in lam.list_layers()["Layers"]] == ["shared"]
        assert (
            lam.get_event_source_mapping(UUID=mapping["UUID"])["EventSourceArn"] == table["LatestStreamArn"]
        )
        # writes go on where they left off: the mapping from its checkpoint, the destination to its stream
        put(ddb, "orders", "c", g="x")
        wait_for(lambda: [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(out)] == ["a", "b", "c"])
        wait_for(lambda: len(kinesis_data(kinesis, "changes")) == 3)
        assert stream_keys(streams, table["LatestStreamArn"]) == ["a", "b", "c"]
    finally:
        after.stop()


def test_old_data_goes_to_the_region_the_server_starts_with(tmp_path: Path) -> None:
    before = Server(tmp_path).start()
    ddb = before.client("dynamodb")
    ddb.create_table(
        TableName="legacy",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    put(ddb, "legacy", "kept")
    before.stop()
    to_old_layout(tmp_path / "data" / "headwater.db")

    after = Server(tmp_path, ("--region", "eu-west-1", "--account-id", "123456789012")).start()
    try:
        west, east = after.client("dynamodb", region="eu-west-1"), after.client("dynamodb")
        assert east.list_tables()["TableNames"] == []
        described = west.describe_table(TableName="legacy")["Table"]
        assert described["TableArn"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/legacy"
        assert described["LatestStreamArn"].startswith(described["TableArn"] + "/stream/")
        assert west.get_item(TableName="legacy", Key={"pk": {"S": "kept"}})["Item"] == {"pk": {"S": "kept"}}
        streams = after.client("dynamodbstreams", region="eu-west-1")
        assert stream_keys(streams, described["LatestStreamArn"]) == ["kept"]
        assert streams.list_streams()["Streams"][0]["StreamArn"] == described["LatestStreamArn"]
    finally:
        after.stop()
