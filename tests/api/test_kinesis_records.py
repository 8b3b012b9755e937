"""Kinesis records through boto3: PutRecord, PutRecords, GetShardIterator (all five kinds) and
GetRecords, hash-key routing, sequence numbers, limits and errors."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from tests.api.kinesis_support import error, read_shard, shards

ACCOUNT = "000000000000"


def shard_for(kinesis: Any, stream: str, key: str) -> str:
    """The shard whose hash-key range holds MD5(key), computed from ListShards (as Kinesis routes)."""
    value = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
    for shard in shards(kinesis, stream, ShardFilter={"Type": "AT_LATEST"}):
        r = shard["HashKeyRange"]
        if int(r["StartingHashKey"]) <= value <= int(r["EndingHashKey"]):
            return str(shard["ShardId"])
    raise AssertionError(key)


def test_put_and_read_back_in_order(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=4)
    keys = [f"key-{i}" for i in range(20)]
    sent: dict[str, list[bytes]] = {}
    for round_ in range(3):
        for key in keys:
            data = f"{key}/{round_}".encode()
            out = kinesis.put_record(StreamName=stream_name, PartitionKey=key, Data=data)
            assert out["ShardId"] == shard_for(kinesis, stream_name, key)
            assert len(out["SequenceNumber"]) == 56
            sent.setdefault(out["ShardId"], []).append(data)
    for shard_id, datas in sent.items():
        records = read_shard(kinesis, stream_name, shard_id)
        assert [r["Data"] for r in records] == datas
        seqs = [int(r["SequenceNumber"]) for r in records]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert all(r["PartitionKey"] in keys for r in records)
    kinesis.delete_stream(StreamName=stream_name)


def test_put_records_answers_in_request_order(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=3)
    entries = [{"Data": b"d%d" % i, "PartitionKey": f"p{i}"} for i in range(50)]
    out = kinesis.put_records(StreamName=stream_name, Records=entries)
    assert out["FailedRecordCount"] == 0 and len(out["Records"]) == 50
    by_seq = {
        r["SequenceNumber"]: (r["ShardId"], e["Data"]) for r, e in zip(out["Records"], entries, strict=True)
    }
    for shard in shards(kinesis, stream_name):
        for record in read_shard(kinesis, stream_name, shard["ShardId"]):
            assert by_seq.pop(record["SequenceNumber"]) == (shard["ShardId"], record["Data"])
    assert by_seq == {}
    kinesis.delete_stream(StreamName=stream_name)


def test_explicit_hash_key_routes(kinesis: Any, kinesis_unchecked: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=2)
    top = str(2**128 - 1)
    assert (
        kinesis.put_record(StreamName=stream_name, PartitionKey="a", Data=b"x", ExplicitHashKey="0")[
            "ShardId"
        ]
        == "shardId-000000000000"
    )
    assert (
        kinesis.put_record(StreamName=stream_name, PartitionKey="a", Data=b"x", ExplicitHashKey=top)[
            "ShardId"
        ]
        == "shardId-000000000001"
    )
    too_big = str(2**128)
    assert error(
        kinesis.put_record, StreamName=stream_name, PartitionKey="a", Data=b"x", ExplicitHashKey=too_big
    ) == (
        "InvalidArgumentException",
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        f"Specified value was {too_big}",
    )
    code, message = error(
        kinesis_unchecked.put_record,
        StreamName=stream_name,
        PartitionKey="a",
        Data=b"x",
        ExplicitHashKey="-1",
    )
    assert code == "ValidationException" and "explicitHashKey" in message
    kinesis.delete_stream(StreamName=stream_name)


def test_record_size_and_shape_limits(kinesis: Any, kinesis_unchecked: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    kinesis.put_record(StreamName=stream_name, PartitionKey="a", Data=b"x" * (1024 * 1024))
    code, message = error(
        kinesis.put_record, StreamName=stream_name, PartitionKey="a", Data=b"x" * (1024 * 1024 + 1)
    )
    assert code == "ValidationException"
    assert message.endswith(
        "at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576"
    )
    code, message = error(kinesis_unchecked.put_record, StreamName=stream_name, PartitionKey="", Data=b"x")
    assert (code, message) == (
        "ValidationException",
        "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )
    code, _ = error(kinesis_unchecked.put_records, StreamName=stream_name, Records=[])
    assert code == "ValidationException"
    code, _ = error(kinesis_unchecked.put_record, StreamName=stream_name, PartitionKey=5, Data=b"x")
    assert code == "SerializationException"
    assert error(kinesis.put_record, StreamName=stream_name + "x", PartitionKey="a", Data=b"x") == (
        "ResourceNotFoundException",
        f"Stream {stream_name}x under account {ACCOUNT} not found.",
    )
    kinesis.delete_stream(StreamName=stream_name)


def test_iterator_kinds(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    shard = "shardId-000000000000"
    first = [kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"%d" % i) for i in range(3)]
    # boto3 sends whole seconds: start the second batch in the next second (setting up, not asserting)
    middle = int(time.time()) + 1
    time.sleep(max(0.0, middle - time.time()) + 0.01)
    later = [
        kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"%d" % i) for i in range(3, 5)
    ]
    seqs = [r["SequenceNumber"] for r in first + later]

    def data(kind: str, **extra: Any) -> list[bytes]:
        it = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard, ShardIteratorType=kind, **extra
        )
        return [r["Data"] for r in kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]]

    assert data("TRIM_HORIZON") == [b"0", b"1", b"2", b"3", b"4"]
    assert data("AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1]) == [b"1", b"2", b"3", b"4"]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1]) == [b"2", b"3", b"4"]
    assert data("AT_TIMESTAMP", Timestamp=middle) == [b"3", b"4"]
    assert data("AT_TIMESTAMP", Timestamp=0) == [b"0", b"1", b"2", b"3", b"4"]
    it = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="LATEST")
    assert kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"] == []
    kinesis.put_record(StreamName=stream_name, PartitionKey="k", Data=b"new")
    page = kinesis.get_records(ShardIterator=it["ShardIterator"])
    assert [r["Data"] for r in page["Records"]] == [b"new"]
    assert page["MillisBehindLatest"] == 0
    assert "ChildShards" not in page and page["NextShardIterator"]
    # loose shard ids resolve like Kinesis's (the number after the last '-')
    assert kinesis.get_shard_iterator(StreamName=stream_name, ShardId="shard-0", ShardIteratorType="LATEST")
    kinesis.delete_stream(StreamName=stream_name)


def test_iterator_errors(kinesis: Any, kinesis_unchecked: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=2)
    seq = kinesis.put_record(StreamName=stream_name, PartitionKey="a", Data=b"x", ExplicitHashKey="0")[
        "SequenceNumber"
    ]
    call = kinesis.get_shard_iterator
    assert error(
        call, StreamName=stream_name, ShardId="shardId-000000000000", ShardIteratorType="AT_SEQUENCE_NUMBER"
    ) == (
        "InvalidArgumentException",
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
        "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
        "Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
    )
    assert (
        error(
            call,
            StreamName=stream_name,
            ShardId="shardId-000000000000",
            ShardIteratorType="LATEST",
            StartingSequenceNumber=seq,
        )[0]
        == "InvalidArgumentException"
    )
    assert error(
        call,
        StreamName=stream_name,
        ShardId="shardId-000000000001",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=seq,
    ) == (
        "InvalidArgumentException",
        "Invalid StartingSequenceNumber. It encodes shardId-000000000000, "
        "while it was used in a call to a shard with shardId-000000000001",
    )
    assert error(
        call, StreamName=stream_name, ShardId="shardId-000000000000", ShardIteratorType="AT_TIMESTAMP"
    ) == (
        "InvalidArgumentException",
        "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
        "Current request has no timestamp parameter.",
    )
    assert error(
        call, StreamName=stream_name, ShardId="shardId-000000000007", ShardIteratorType="LATEST"
    ) == (
        "ResourceNotFoundException",
        f"Shard shardId-000000000007 in stream {stream_name} under account {ACCOUNT} does not exist",
    )
    assert error(call, StreamName=stream_name, ShardId="nonumber", ShardIteratorType="LATEST") == (
        "ResourceNotFoundException",
        f"Could not find shard nonumber in stream {stream_name} under account {ACCOUNT}.",
    )
    code, _ = error(
        kinesis_unchecked.get_shard_iterator,
        StreamName=stream_name,
        ShardId="shardId-0",
        ShardIteratorType="NOPE",
    )
    assert code == "ValidationException"
    assert error(kinesis.get_records, ShardIterator="AAAAAAAAAAE=") == (
        "InvalidArgumentException",
        "Invalid ShardIterator.",
    )
    code, _ = error(kinesis_unchecked.get_records, ShardIterator="x", Limit=10001)
    assert code == "ValidationException"
    it = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId="shardId-0", ShardIteratorType="TRIM_HORIZON"
    )
    kinesis.delete_stream(StreamName=stream_name)
    assert error(kinesis.get_records, ShardIterator=it["ShardIterator"]) == (
        "ResourceNotFoundException",
        f"Shard shardId-000000000000 in stream {stream_name} under account {ACCOUNT} does not exist",
    )


def test_limit_pages_and_millis_behind(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    kinesis.put_records(
        StreamName=stream_name, Records=[{"Data": b"%d" % i, "PartitionKey": "k"} for i in range(10)]
    )
    it = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId="shardId-0", ShardIteratorType="TRIM_HORIZON"
    )
    page = kinesis.get_records(ShardIterator=it["ShardIterator"], Limit=4)
    assert [r["Data"] for r in page["Records"]] == [b"0", b"1", b"2", b"3"]
    assert page["MillisBehindLatest"] >= 0
    rest = kinesis.get_records(ShardIterator=page["NextShardIterator"])
    assert [r["Data"] for r in rest["Records"]] == [b"%d" % i for i in range(4, 10)]
    assert rest["MillisBehindLatest"] == 0
    kinesis.delete_stream(StreamName=stream_name)
