"""Kinesis stream management through boto3: CreateStream, DeleteStream, DescribeStream(Summary),
ListStreams, tags and retention, with Kinesis's errors."""

from __future__ import annotations

import itertools
from typing import Any

from tests.api.kinesis_support import error, shards

ACCOUNT = "000000000000"
MAX_HASH = str(2**128 - 1)


def test_create_describe_delete(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=3)
    desc = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert desc["StreamStatus"] == "ACTIVE"
    assert desc["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream_name}"
    assert desc["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert desc["RetentionPeriodHours"] == 24
    assert desc["HasMoreShards"] is False
    assert [s["ShardId"] for s in desc["Shards"]] == [f"shardId-00000000000{i}" for i in range(3)]
    ranges = [
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in desc["Shards"]
    ]
    assert ranges[0][0] == 0 and ranges[-1][1] == int(MAX_HASH)
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
    assert all(len(s["SequenceNumberRange"]["StartingSequenceNumber"]) == 56 for s in desc["Shards"])
    kinesis.get_waiter("stream_exists").wait(StreamName=stream_name)
    kinesis.delete_stream(StreamName=stream_name)
    assert error(kinesis.describe_stream, StreamName=stream_name) == (
        "ResourceNotFoundException",
        f"Stream {stream_name} under account {ACCOUNT} not found.",
    )


def test_create_twice_and_bad_names(kinesis: Any, kinesis_unchecked: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    assert error(kinesis.create_stream, StreamName=stream_name, ShardCount=1) == (
        "ResourceInUseException",
        f"Stream {stream_name} under account {ACCOUNT} already exists.",
    )
    code, message = error(kinesis_unchecked.create_stream, StreamName="bad name", ShardCount=1)
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value 'bad name' at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    )
    code, message = error(kinesis_unchecked.create_stream, StreamName=stream_name + "x", ShardCount=0)
    assert (code, message) == (
        "ValidationException",
        "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1",
    )
    assert (
        error(kinesis_unchecked.create_stream, StreamName=stream_name + "y", ShardCount=501)[0]
        == "LimitExceededException"
    )
    kinesis.delete_stream(StreamName=stream_name)


def test_on_demand_and_arn_addressing(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream_name}"
    summary = kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    assert summary["StreamName"] == stream_name
    assert (
        error(
            kinesis.create_stream,
            StreamName=stream_name + "z",
            ShardCount=2,
            StreamModeDetails={"StreamMode": "ON_DEMAND"},
        )[0]
        == "InvalidArgumentException"
    )
    kinesis.delete_stream(StreamARN=arn)
    assert error(kinesis.describe_stream_summary, StreamARN=arn)[0] == "ResourceNotFoundException"


def test_list_streams_pages(kinesis: Any, stream_name: str) -> None:
    names = [f"{stream_name[:100]}-{i}" for i in range(3)]
    for name in names:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    seen: list[str] = []
    request: dict[str, Any] = {"Limit": 1}
    while True:
        page = kinesis.list_streams(**request)
        seen += page["StreamNames"]
        assert [s["StreamName"] for s in page["StreamSummaries"]] == page["StreamNames"]
        if not page["HasMoreStreams"]:
            break
        request = {"Limit": 1, "NextToken": page["NextToken"]}
    assert [n for n in seen if n in names] == names
    after = kinesis.list_streams(ExclusiveStartStreamName=names[0])["StreamNames"]
    assert names[0] not in after and names[1] in after
    for name in names:
        kinesis.delete_stream(StreamName=name)


def test_tags(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    kinesis.add_tags_to_stream(StreamName=stream_name, Tags={"b": "2", "a": "1", "c": "3"})
    page = kinesis.list_tags_for_stream(StreamName=stream_name, Limit=2)
    assert page["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    assert page["HasMoreTags"] is True
    rest = kinesis.list_tags_for_stream(StreamName=stream_name, ExclusiveStartTagKey="b")
    assert rest == {**rest, "Tags": [{"Key": "c", "Value": "3"}], "HasMoreTags": False}
    kinesis.remove_tags_from_stream(StreamName=stream_name, TagKeys=["a", "c"])
    assert kinesis.list_tags_for_stream(StreamName=stream_name)["Tags"] == [{"Key": "b", "Value": "2"}]
    code, _ = error(
        kinesis.add_tags_to_stream, StreamName=stream_name, Tags={f"k{i}": "v" for i in range(50)}
    )
    assert code == "InvalidArgumentException"
    assert error(kinesis.list_tags_for_stream, StreamName=stream_name + "x")[0] == "ResourceNotFoundException"
    kinesis.delete_stream(StreamName=stream_name)


def test_retention(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=72)
    assert kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]["RetentionPeriodHours"] == 72
    assert error(
        kinesis.increase_stream_retention_period, StreamName=stream_name, RetentionPeriodHours=48
    ) == (
        "InvalidArgumentException",
        f"Requested retention period (48 hours) for stream {stream_name} can not be shorter than existing "
        "retention period (72 hours). Use DecreaseRetentionPeriod API.",
    )
    kinesis.decrease_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=24)
    assert error(
        kinesis.decrease_stream_retention_period, StreamName=stream_name, RetentionPeriodHours=23
    ) == (
        "InvalidArgumentException",
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
    )
    assert error(
        kinesis.increase_stream_retention_period, StreamName=stream_name, RetentionPeriodHours=8761
    ) == (
        "InvalidArgumentException",
        "Maximum allowed retention period is 8760 hours. "
        "Requested retention period (8761 hours) is too long.",
    )
    assert error(kinesis.decrease_stream_retention_period, StreamName=stream_name, RetentionPeriodHours=48)[
        0
    ] == ("InvalidArgumentException")
    kinesis.delete_stream(StreamName=stream_name)


def test_missing_stream_name_and_unknown_stream(kinesis: Any, stream_name: str) -> None:
    assert error(kinesis.describe_stream)[0] == "InvalidArgumentException"
    for call in (
        kinesis.describe_stream,
        kinesis.describe_stream_summary,
        kinesis.delete_stream,
        kinesis.list_shards,
    ):
        assert error(call, StreamName=stream_name) == (
            "ResourceNotFoundException",
            f"Stream {stream_name} under account {ACCOUNT} not found.",
        )


def test_describe_stream_pages_shards(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=5)
    first = kinesis.describe_stream(StreamName=stream_name, Limit=2)["StreamDescription"]
    assert [s["ShardId"] for s in first["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    assert first["HasMoreShards"] is True
    rest = kinesis.describe_stream(StreamName=stream_name, ExclusiveStartShardId="shardId-000000000001")
    assert len(rest["StreamDescription"]["Shards"]) == 3
    assert len(shards(kinesis, stream_name)) == 5
    kinesis.delete_stream(StreamName=stream_name)
