"""Event source mappings from Kinesis streams end to end: Lambda's Kinesis event shape, every record once
in order per partition key across a split, filters on JSON `data`, ReportBatchItemFailures, and a table's
Kinesis destination feeding a function."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.triggers_support import events, recorder, records, start_server, unique, wait_for
from tests.server import Server

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("ktriggers"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: Server) -> Any:
    return srv.client("lambda")


@pytest.fixture(scope="module")
def kinesis(srv: Server) -> Any:
    return srv.client("kinesis", retries={"max_attempts": 10, "mode": "standard"})


@pytest.fixture(autouse=True)
def _delete_mappings(lam: Any) -> Iterator[None]:
    yield
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for found in page["EventSourceMappings"]:
            lam.delete_event_source_mapping(UUID=found["UUID"])


def stream(kinesis: Any, shards: int = 2) -> tuple[str, str]:
    name = unique("ks")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name, f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"


def data(record: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


def test_kinesis_event_shape_order_and_split(kinesis: Any, lam: Any, tmp_path: Path) -> None:
    name, arn = stream(kinesis)
    fn, out = recorder(lam, tmp_path)
    for i in range(20):
        kinesis.put_record(StreamName=name, PartitionKey=f"k{i % 4}", Data=json.dumps({"n": i, "k": i % 4}))
    lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=5
    )
    wait_for(lambda: len(records(out)) >= 20)
    kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    for i in range(20, 40):
        kinesis.put_record(StreamName=name, PartitionKey=f"k{i % 4}", Data=json.dumps({"n": i, "k": i % 4}))
    got = wait_for(lambda: at_least(records(out), 40), timeout=30)
    assert all(len(e["Records"]) <= 5 for e in events(out))
    first = got[0]
    assert set(first) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert first["eventSource"] == "aws:kinesis" and first["eventName"] == "aws:kinesis:record"
    assert first["eventSourceARN"] == arn and first["awsRegion"] == "us-east-1"
    assert set(first["kinesis"]) == {
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    }
    assert first["eventID"].startswith("shardId-") and first["eventID"].endswith(
        first["kinesis"]["sequenceNumber"]
    )
    per_key: dict[str, list[int]] = {}
    for record in got:
        per_key.setdefault(record["kinesis"]["partitionKey"], []).append(data(record)["n"])
    assert {k: sorted(v) == v for k, v in per_key.items()} == {f"k{i}": True for i in range(4)}
    assert sorted(n for v in per_key.values() for n in v) == list(range(40))


def at_least(got: list[dict[str, Any]], count: int) -> list[dict[str, Any]] | None:
    return got if len(got) >= count else None


def test_filters_on_json_data_and_batch_item_failures(kinesis: Any, lam: Any, tmp_path: Path) -> None:
    name, arn = stream(kinesis, 1)
    respond = """
    def respond(event, context):
        import base64, json
        bad = [r["kinesis"]["sequenceNumber"] for r in event["Records"]
               if json.loads(base64.b64decode(r["kinesis"]["data"])).get("fail")]
        marker = os.environ["OUT"] + ".failed"
        if bad and not os.path.exists(marker):
            open(marker, "w").close()
            return {"batchItemFailures": [{"itemIdentifier": bad[0]}]}
        return None
    """
    fn, out = recorder(lam, tmp_path, respond)
    lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["order"]}})}]},
    )
    kinesis.put_record(StreamName=name, PartitionKey="a", Data=json.dumps({"kind": "order", "n": 1}))
    kinesis.put_record(StreamName=name, PartitionKey="a", Data=json.dumps({"kind": "noise", "n": 2}))
    kinesis.put_record(StreamName=name, PartitionKey="a", Data=b"not json")
    kinesis.put_record(
        StreamName=name, PartitionKey="a", Data=json.dumps({"kind": "order", "n": 3, "fail": 1})
    )
    kinesis.put_record(StreamName=name, PartitionKey="a", Data=json.dumps({"kind": "order", "n": 4}))
    wait_for(lambda: [data(r)["n"] for r in records(out)].count(3) == 2, timeout=30)
    delivered = [data(r)["n"] for r in records(out)]
    # 3 failed once: it and what follows it are delivered again; the filtered records never are
    assert delivered[0] == 1 and 2 not in delivered and delivered.count(3) == 2


def test_table_destination_feeds_a_function(srv: Server, kinesis: Any, lam: Any, tmp_path: Path) -> None:
    ddb = srv.client("dynamodb")
    _, arn = stream(kinesis, 2)
    table = unique("tbl")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    wait_for(
        lambda: (
            ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"][0][
                "DestinationStatus"
            ]
            == "ACTIVE"
        )
    )
    fn, out = recorder(lam, tmp_path)
    lam.create_event_source_mapping(
        FunctionName=fn,
        EventSourceArn=arn,
        StartingPosition="LATEST",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"eventName": ["INSERT"]}})}]},
    )
    # LATEST is fixed when CreateEventSourceMapping answers: these writes come after it
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"i{i}"}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": f"i{i}"}})
    got = wait_for(lambda: at_least(records(out), 5))
    docs = [data(r) for r in got]
    assert {d["eventName"] for d in docs} == {"INSERT"}
    assert sorted(d["dynamodb"]["Keys"]["pk"]["S"] for d in docs) == [f"i{i}" for i in range(5)]
