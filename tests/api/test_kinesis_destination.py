"""Kinesis Data Streams for DynamoDB through boto3: Enable/Describe/Update/DisableKinesisStreamingDestination,
their statuses and errors, and the record a change becomes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.api.kinesis_support import error, read_shard

ACCOUNT = "000000000000"


def arn(name: str) -> str:
    return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{name}"


def wait_status(ddb: Any, table: str, stream_arn: str, status: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"]
        if any(d["StreamArn"] == stream_arn and d["DestinationStatus"] == status for d in found):
            return
        time.sleep(0.05)
    raise AssertionError(f"destination never became {status}")


def records(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        for record in read_shard(kinesis, stream, shard["ShardId"]):
            out.append({**json.loads(record["Data"]), "_partition_key": record["PartitionKey"]})
    return out


def test_enable_describe_update_disable(
    ddb: Any, kinesis: Any, make_table: Callable[..., str], stream_name: str
) -> None:
    table = make_table()
    kinesis.create_stream(StreamName=stream_name, ShardCount=2)
    stream_arn = arn(stream_name)
    assert ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"] == []
    out = ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=stream_arn)
    assert (out["DestinationStatus"], out["EnableKinesisStreamingConfiguration"]) == (
        "ENABLING",
        {"ApproximateCreationDateTimePrecision": "MILLISECOND"},
    )
    wait_status(ddb, table, stream_arn, "ACTIVE")
    assert error(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=stream_arn)[0] == (
        "ResourceInUseException"
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    out = ddb.update_kinesis_streaming_destination(
        TableName=table,
        StreamArn=stream_arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    )
    assert out["DestinationStatus"] == "UPDATING"
    wait_status(ddb, table, stream_arn, "ACTIVE")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    out = ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=stream_arn)
    assert out["DestinationStatus"] == "DISABLING"
    wait_status(ddb, table, stream_arn, "DISABLED")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "3"}})  # not streamed any more
    assert ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"] == [
        {
            "StreamArn": stream_arn,
            "DestinationStatus": "DISABLED",
            "ApproximateCreationDateTimePrecision": "MICROSECOND",
        }
    ]
    got = records(kinesis, stream_name)
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY"]
    first, second = got
    now_ms = time.time() * 1000
    assert abs(first["dynamodb"]["ApproximateCreationDateTime"] - now_ms) < 600_000
    assert abs(second["dynamodb"]["ApproximateCreationDateTime"] / 1000 - now_ms) < 600_000
    assert set(first) == {
        "awsRegion",
        "eventID",
        "eventName",
        "userIdentity",
        "recordFormat",
        "tableName",
        "dynamodb",
        "eventSource",
        "_partition_key",
    }
    assert first["recordFormat"] == "application/json" and first["eventSource"] == "aws:dynamodb"
    assert first["tableName"] == table and first["userIdentity"] is None and first["awsRegion"] == "us-east-1"
    assert len(first["eventID"]) == 36
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert (
        first["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
        and "OldImage" not in first["dynamodb"]
    )
    assert second["dynamodb"]["OldImage"] == first["dynamodb"]["NewImage"]
    assert first["dynamodb"]["SizeBytes"] > 0
    assert first["_partition_key"] == second["_partition_key"] and len(first["_partition_key"]) == 32
    # re-enabling a disabled destination works
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=stream_arn)
    wait_status(ddb, table, stream_arn, "ACTIVE")
    kinesis.delete_stream(StreamName=stream_name)


def test_destination_errors(ddb: Any, kinesis: Any, make_table: Callable[..., str], stream_name: str) -> None:
    table = make_table()
    missing = arn(stream_name + "nope")
    assert error(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=missing) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: {missing} not found",
    )
    assert error(ddb.enable_kinesis_streaming_destination, TableName=table + "x", StreamArn=missing)[0] == (
        "ResourceNotFoundException"
    )
    assert (
        error(ddb.describe_kinesis_streaming_destination, TableName=table + "x")[0]
        == "ResourceNotFoundException"
    )
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    assert error(ddb.disable_kinesis_streaming_destination, TableName=table, StreamArn=arn(stream_name)) == (
        "ValidationException",
        f"Table {table} is not streaming to Kinesis data stream {arn(stream_name)}",
    )
    assert (
        error(
            ddb.update_kinesis_streaming_destination,
            TableName=table,
            StreamArn=arn(stream_name),
            UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
        )[0]
        == "ValidationException"
    )
    code, _ = error(
        ddb.enable_kinesis_streaming_destination,
        TableName=table,
        StreamArn=arn(stream_name),
        EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "SECOND"},
    )
    assert code == "ValidationException"
    kinesis.delete_stream(StreamName=stream_name)


def test_streams_and_kinesis_are_independent(
    ddb: Any, kinesis: Any, streams: Any, make_table: Callable[..., str], stream_name: str
) -> None:
    table = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn(stream_name))
    wait_status(ddb, table, arn(stream_name), "ACTIVE")
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "big": {"S": "y" * 100}})
    got = records(kinesis, stream_name)
    # both images whatever the table's own stream view type
    assert got[0]["dynamodb"]["NewImage"]["big"] == {"S": "y" * 100}
    stream_arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    page = streams.get_records(ShardIterator=it["ShardIterator"])
    assert "NewImage" not in page["Records"][0]["dynamodb"]
    kinesis.delete_stream(StreamName=stream_name)
    # the stream is gone: writes go on, the destination says why nothing arrives
    ddb.put_item(TableName=table, Item={"pk": {"S": "z"}})
    (dest,) = ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"]
    assert "DestinationStatusDescription" in dest
