"""`headwater admin` against a live server: forced shard rollover and TTL sweep."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HEADWATER = str(Path(sys.executable).with_name("headwater"))


def admin(server: Any, *args: str) -> str:
    out = subprocess.run(
        [HEADWATER, "admin", *args, "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def records(streams: Any, arn: str, shard_id: str) -> list[dict[str, Any]]:
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    return list(streams.get_records(ShardIterator=iterator)["Records"])


def test_forced_rollover_gives_a_child_shard(ddb: Any, streams: Any, server: Any, make_table: Any) -> None:
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "before"}})
    assert "rolled over" in admin(server, "rollover", name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "after"}})
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 2
    parent, child = shards
    assert child["ParentShardId"] == parent["ShardId"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(streams, arn, parent["ShardId"])] == ["before"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records(streams, arn, child["ShardId"])] == ["after"]


def test_forced_ttl_sweep_writes_service_remove(ddb: Any, streams: Any, server: Any, make_table: Any) -> None:
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    past = str(int(time.time()) - 10)
    ddb.put_item(TableName=name, Item={"pk": {"S": "old"}, "exp": {"N": past}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "text"}, "exp": {"S": past}})  # not a number: ignored
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "old"}})  # expired but not yet swept
    admin(server, "sweep-ttl")
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "old"}})
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "text"}})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    removes = [r for r in records(streams, arn, shard) if r["eventName"] == "REMOVE"]
    assert len(removes) == 1
    assert removes[0]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert removes[0]["dynamodb"]["OldImage"]["pk"] == {"S": "old"}


def test_admin_errors(server: Any) -> None:
    out = subprocess.run(
        [HEADWATER, "admin", "rollover", "no_such_table", "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode != 0
    assert "ResourceNotFoundException" in out.stderr
