"""The AWS CLI's `kinesis` commands, unmodified, against a live server: every operation Headwater
answers, through the CLI's own serialisation (base64 blobs, timestamps, pagination)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from typing import Any

from tests.api.test_aws_cli import aws


def test_cli_kinesis_session(server: Any, stream_name: str) -> None:
    name = stream_name
    aws(server, "kinesis", "create-stream", "--stream-name", name, "--shard-count", "2")
    aws(server, "kinesis", "wait", "stream-exists", "--stream-name", name)
    summary = aws(server, "kinesis", "describe-stream-summary", "--stream-name", name)
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 2
    put = aws(
        server,
        "kinesis",
        "put-record",
        "--stream-name",
        name,
        "--partition-key",
        "k",
        "--data",
        "hello",  # the CLI (v1) base64-encodes blob arguments itself
    )
    assert put["ShardId"].startswith("shardId-")
    out = aws(
        server,
        "kinesis",
        "put-records",
        "--stream-name",
        name,
        "--records",
        *[f"Data=r{i},PartitionKey=p{i}" for i in range(4)],
    )
    assert out["FailedRecordCount"] == 0
    listed = aws(server, "kinesis", "list-shards", "--stream-name", name)["Shards"]
    assert [s["ShardId"] for s in listed] == ["shardId-000000000000", "shardId-000000000001"]
    it = aws(
        server,
        "kinesis",
        "get-shard-iterator",
        "--stream-name",
        name,
        "--shard-id",
        put["ShardId"],
        "--shard-iterator-type",
        "AT_SEQUENCE_NUMBER",
        "--starting-sequence-number",
        put["SequenceNumber"],
    )["ShardIterator"]
    records = aws(server, "kinesis", "get-records", "--shard-iterator", it)["Records"]
    assert base64.b64decode(records[0]["Data"]) == b"hello"
    stamp = str(int(time.time()) - 60)
    it = aws(
        server,
        "kinesis",
        "get-shard-iterator",
        "--stream-name",
        name,
        "--shard-id",
        put["ShardId"],
        "--shard-iterator-type",
        "AT_TIMESTAMP",
        "--timestamp",
        stamp,
    )["ShardIterator"]
    assert aws(server, "kinesis", "get-records", "--shard-iterator", it, "--limit", "1")["Records"]
    aws(
        server,
        "kinesis",
        "split-shard",
        "--stream-name",
        name,
        "--shard-to-split",
        "shardId-000000000000",
        "--new-starting-hash-key",
        str(2**126),
    )
    aws(
        server,
        "kinesis",
        "merge-shards",
        "--stream-name",
        name,
        "--shard-to-merge",
        "shardId-000000000002",
        "--adjacent-shard-to-merge",
        "shardId-000000000003",
    )
    counted = aws(
        server,
        "kinesis",
        "update-shard-count",
        "--stream-name",
        name,
        "--target-shard-count",
        "3",
        "--scaling-type",
        "UNIFORM_SCALING",
    )
    assert counted["TargetShardCount"] == 3
    described = aws(server, "kinesis", "describe-stream", "--stream-name", name)["StreamDescription"]
    open_ = [s for s in described["Shards"] if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    assert len(open_) == 3
    aws(server, "kinesis", "add-tags-to-stream", "--stream-name", name, "--tags", "team=data")
    assert aws(server, "kinesis", "list-tags-for-stream", "--stream-name", name)["Tags"] == [
        {"Key": "team", "Value": "data"}
    ]
    aws(server, "kinesis", "remove-tags-from-stream", "--stream-name", name, "--tag-keys", "team")
    aws(
        server,
        "kinesis",
        "increase-stream-retention-period",
        "--stream-name",
        name,
        "--retention-period-hours",
        "48",
    )
    aws(
        server,
        "kinesis",
        "decrease-stream-retention-period",
        "--stream-name",
        name,
        "--retention-period-hours",
        "24",
    )
    assert name in aws(server, "kinesis", "list-streams")["StreamNames"]
    aws(server, "kinesis", "delete-stream", "--stream-name", name)
    aws(server, "kinesis", "wait", "stream-not-exists", "--stream-name", name)


def test_kinesis_tail_follows_shards_parents_first(server: Any, kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    kinesis.put_record(StreamName=stream_name, PartitionKey="a", Data=b"one")
    kinesis.split_shard(StreamName=stream_name, ShardToSplit="shardId-0", NewStartingHashKey=str(2**127))
    kinesis.put_record(StreamName=stream_name, PartitionKey="a", Data=b"two")
    kinesis.put_record(StreamName=stream_name, PartitionKey="b", Data=b"\xff\x00")
    base = [
        sys.executable,
        "-m",
        "headwater",
        "kinesis",
        "tail",
        stream_name,
        "--endpoint-url",
        server.endpoint,
    ]
    base += ["--from", "trim-horizon", "--exit-when-idle", "--interval", "0.2"]
    readable = subprocess.run(
        base, capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert len(readable) == 3
    assert readable[0].endswith(" a one") and " shardId-000000000000 " in readable[0]
    assert readable[1:] == sorted(readable[1:], key=lambda line: line.split()[1])
    assert any(line.endswith(" a two") for line in readable[1:])
    assert any(line.endswith(" b base64:/wA=") for line in readable[1:])
    lines = subprocess.run([*base, "--json"], capture_output=True, text=True, timeout=60, check=True).stdout
    parsed = [json.loads(line) for line in lines.splitlines()]
    assert base64.b64decode(parsed[0]["Data"]) == b"one" and parsed[0]["PartitionKey"] == "a"
    kinesis.delete_stream(StreamName=stream_name)
