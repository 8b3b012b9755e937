"""SplitShard, MergeShards and UpdateShardCount through boto3: parent/child lineage, hash-key ranges,
records read parents first across the boundary, ListShards filters and pages, errors."""

from __future__ import annotations

from typing import Any

from tests.api.kinesis_support import error, read_shard, shards

ACCOUNT = "000000000000"
HALF = 2**127


def lineage(kinesis: Any, stream: str) -> dict[str, tuple[str | None, str | None, int, int]]:
    return {
        s["ShardId"]: (
            s.get("ParentShardId"),
            s.get("AdjacentParentShardId"),
            int(s["HashKeyRange"]["StartingHashKey"]),
            int(s["HashKeyRange"]["EndingHashKey"]),
        )
        for s in shards(kinesis, stream)
    }


def test_split_then_merge_keeps_lineage_and_order(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    put = kinesis.put_record
    before = [put(StreamName=stream_name, PartitionKey=f"k{i}", Data=b"a%d" % i) for i in range(10)]
    kinesis.split_shard(
        StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HALF)
    )
    after_split = [put(StreamName=stream_name, PartitionKey=f"k{i}", Data=b"b%d" % i) for i in range(10)]
    assert lineage(kinesis, stream_name) == {
        "shardId-000000000000": (None, None, 0, 2**128 - 1),
        "shardId-000000000001": ("shardId-000000000000", None, 0, HALF - 1),
        "shardId-000000000002": ("shardId-000000000000", None, HALF, 2**128 - 1),
    }
    assert {r["ShardId"] for r in before} == {"shardId-000000000000"}
    assert {r["ShardId"] for r in after_split} == {"shardId-000000000001", "shardId-000000000002"}
    parent = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]["Shards"][0]
    assert parent["SequenceNumberRange"]["EndingSequenceNumber"] == before[-1]["SequenceNumber"]
    # the closed parent ends with its records, no NextShardIterator, and names its children
    it = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )
    page = kinesis.get_records(ShardIterator=it["ShardIterator"])
    assert [r["Data"] for r in page["Records"]] == [b"a%d" % i for i in range(10)]
    assert "NextShardIterator" not in page
    assert page["ChildShards"] == [
        {
            "ShardId": "shardId-000000000001",
            "ParentShards": ["shardId-000000000000"],
            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(HALF - 1)},
        },
        {
            "ShardId": "shardId-000000000002",
            "ParentShards": ["shardId-000000000000"],
            "HashKeyRange": {"StartingHashKey": str(HALF), "EndingHashKey": str(2**128 - 1)},
        },
    ]
    kinesis.merge_shards(
        StreamName=stream_name,
        ShardToMerge="shardId-000000000001",
        AdjacentShardToMerge="shardId-000000000002",
    )
    after_merge = [put(StreamName=stream_name, PartitionKey=f"k{i}", Data=b"c%d" % i) for i in range(10)]
    assert {r["ShardId"] for r in after_merge} == {"shardId-000000000003"}
    assert lineage(kinesis, stream_name)["shardId-000000000003"] == (
        "shardId-000000000001",
        "shardId-000000000002",
        0,
        2**128 - 1,
    )
    # per key, parents before children: a0, b0, c0 for k0 whatever the shards
    seen: dict[bytes, list[bytes]] = {}
    for shard_id in (
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
        "shardId-000000000003",
    ):
        for record in read_shard(kinesis, stream_name, shard_id):
            seen.setdefault(record["PartitionKey"].encode(), []).append(record["Data"][:1])
    assert all(v == [b"a", b"b", b"c"] for v in seen.values()) and len(seen) == 10
    assert [s["ShardId"] for s in shards(kinesis, stream_name, ShardFilter={"Type": "AT_LATEST"})] == [
        "shardId-000000000003"
    ]
    kinesis.delete_stream(StreamName=stream_name)


def test_reshard_errors(kinesis: Any, kinesis_unchecked: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=3)
    assert error(
        kinesis.split_shard,
        StreamName=stream_name,
        ShardToSplit="shardId-000000000000",
        NewStartingHashKey="1",
    ) == (
        "InvalidArgumentException",
        "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream "
        f"{stream_name} under account {ACCOUNT} is not both greater than one plus the shard's "
        "StartingHashKey 0 and less than the shard's EndingHashKey 113427455640312821154458202477256070484.",
    )
    assert error(
        kinesis.split_shard,
        StreamName=stream_name,
        ShardToSplit="shardId-000000000009",
        NewStartingHashKey="5",
    ) == (
        "ResourceNotFoundException",
        f"Could not find shard shardId-000000000009 in stream {stream_name} under account {ACCOUNT}.",
    )
    assert error(
        kinesis.merge_shards,
        StreamName=stream_name,
        ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000002",
    ) == (
        "InvalidArgumentException",
        f"Shards shardId-000000000000 and shardId-000000000002 in stream {stream_name} under account "
        f"{ACCOUNT} are not an adjacent pair of shards eligible for merging",
    )
    code, _ = error(
        kinesis_unchecked.split_shard,
        StreamName=stream_name,
        ShardToSplit="shardId-0",
        NewStartingHashKey="x",
    )
    assert code == "ValidationException"
    assert (
        error(
            kinesis.update_shard_count,
            StreamName=stream_name,
            TargetShardCount=7,
            ScalingType="UNIFORM_SCALING",
        )[0]
        == "InvalidArgumentException"
    )
    kinesis.split_shard(StreamName=stream_name, ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    # a closed shard cannot be split again
    assert (
        error(
            kinesis.split_shard,
            StreamName=stream_name,
            ShardToSplit="shardId-000000000000",
            NewStartingHashKey="3",
        )[0]
        == "ResourceNotFoundException"
    )
    kinesis.delete_stream(StreamName=stream_name)


def test_update_shard_count_up_and_down(kinesis: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=2)
    keys = [f"key{i}" for i in range(40)]
    for key in keys:
        kinesis.put_record(StreamName=stream_name, PartitionKey=key, Data=b"1")
    out = kinesis.update_shard_count(
        StreamName=stream_name, TargetShardCount=3, ScalingType="UNIFORM_SCALING"
    )
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (2, 3)
    for key in keys:
        kinesis.put_record(StreamName=stream_name, PartitionKey=key, Data=b"2")
    kinesis.update_shard_count(StreamName=stream_name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    for key in keys:
        kinesis.put_record(StreamName=stream_name, PartitionKey=key, Data=b"3")
    all_shards = shards(kinesis, stream_name)
    open_ = [s for s in all_shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    assert len(open_) == 2
    edges = sorted(
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in open_
    )
    assert edges[0][0] == 0 and edges[0][1] + 1 == edges[1][0] and edges[1][1] == 2**128 - 1
    # every child has at most two parents, and a key's records come out in order reading parents first
    by_id = {s["ShardId"]: s for s in all_shards}
    done: set[str] = set()
    seen: dict[str, list[bytes]] = {}
    while len(done) < len(by_id):
        for shard_id, shard in sorted(by_id.items()):
            parents = {shard.get("ParentShardId"), shard.get("AdjacentParentShardId")} - {None}
            if shard_id in done or not parents <= done:
                continue
            for record in read_shard(kinesis, stream_name, shard_id):
                seen.setdefault(record["PartitionKey"], []).append(record["Data"])
            done.add(shard_id)
    assert seen == {key: [b"1", b"2", b"3"] for key in keys}
    kinesis.delete_stream(StreamName=stream_name)


def test_list_shards_filters_and_pages(kinesis: Any, kinesis_unchecked: Any, stream_name: str) -> None:
    kinesis.create_stream(StreamName=stream_name, ShardCount=3)
    kinesis.split_shard(
        StreamName=stream_name, ShardToSplit="shardId-000000000001", NewStartingHashKey=str(HALF)
    )
    page = kinesis.list_shards(StreamName=stream_name, MaxResults=2)
    assert [s["ShardId"] for s in page["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    rest = kinesis.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"] for s in rest["Shards"]] == [f"shardId-00000000000{i}" for i in (2, 3, 4)]
    assert "NextToken" not in rest
    assert error(kinesis.list_shards, StreamName=stream_name, NextToken=page["NextToken"]) == (
        "InvalidArgumentException",
        "NextToken and StreamName cannot be provided together.",
    )
    after = shards(
        kinesis, stream_name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000002"}
    )
    assert [s["ShardId"] for s in after] == ["shardId-000000000003", "shardId-000000000004"]
    latest = shards(kinesis, stream_name, ShardFilter={"Type": "AT_LATEST"})
    assert [s["ShardId"] for s in latest] == [f"shardId-00000000000{i}" for i in (0, 2, 3, 4)]
    assert len(shards(kinesis, stream_name, ShardFilter={"Type": "FROM_TRIM_HORIZON"})) == 5
    at_horizon = shards(kinesis, stream_name, ShardFilter={"Type": "AT_TRIM_HORIZON"})
    assert [s["ShardId"] for s in at_horizon] == [f"shardId-00000000000{i}" for i in (0, 1, 2)]
    assert error(kinesis.list_shards, StreamName=stream_name, ShardFilter={"Type": "AT_TIMESTAMP"})[0] == (
        "InvalidArgumentException"
    )
    code, _ = error(kinesis_unchecked.list_shards, StreamName=stream_name, ShardFilter={"Type": "NOPE"})
    assert code == "ValidationException"
    assert error(kinesis.list_shards, NextToken="garbage")[0] == "InvalidArgumentException"
    kinesis.delete_stream(StreamName=stream_name)
