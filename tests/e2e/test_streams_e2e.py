"""Streams end to end on live servers: the AWS CLI session, kill -9 with no lost or duplicated records,
shard rollover, retention and the TTL sweeper with short configured periods."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.server import Server
from tests.waiting import wait_until

AWS = str(Path(sys.executable).with_name("aws"))


def aws(endpoint: str, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    out = subprocess.run(
        [AWS, "--endpoint-url", endpoint, "--output", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


def create(ddb: Any, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    arn: str = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


def read_all(streams: Any, arn: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shards, records of every shard in shard-list order, each shard read to its end)."""
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it)
            records.extend(page["Records"])
            if not page["Records"] and "EndingSequenceNumber" not in shard["SequenceNumberRange"]:
                break
            it = page.get("NextShardIterator")
    return shards, records


def test_aws_cli_session_verbatim(server: Server, ddb: Any) -> None:
    name = "ExampleTable"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    url = server.endpoint
    aws(
        url,
        "dynamodb",
        "update-table",
        "--table-name",
        name,
        "--stream-specification",
        '{"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}',
    )
    aws(
        url,
        "dynamodb",
        "put-item",
        "--table-name",
        name,
        "--item",
        '{"pk": {"S": "hello"}, "n": {"N": "42"}}',
    )
    listed = aws(url, "dynamodbstreams", "list-streams")
    arn = next(s["StreamArn"] for s in listed["Streams"] if s["TableName"] == name)
    described = aws(url, "dynamodbstreams", "describe-stream", "--stream-arn", arn)
    shard = described["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = aws(
        url,
        "dynamodbstreams",
        "get-shard-iterator",
        "--stream-arn",
        arn,
        "--shard-id",
        shard,
        "--shard-iterator-type",
        "TRIM_HORIZON",
    )["ShardIterator"]
    records = aws(url, "dynamodbstreams", "get-records", "--shard-iterator", iterator)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "hello"}, "n": {"N": "42"}}
    assert isinstance(records[0]["dynamodb"]["ApproximateCreationDateTime"], (int, float))


def test_kill_9_loses_and_duplicates_no_acknowledged_record(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--stream-shards", "2").start()
    ddb = srv.client("dynamodb")
    arn = create(ddb, "durable", "NEW_IMAGE")
    acked: dict[str, list[int]] = {}
    stop = threading.Event()

    def writer(w: int) -> None:
        client = srv.client("dynamodb")
        pk = f"w{w}"
        acked[pk] = []
        n = 0
        while not stop.is_set():
            try:
                client.put_item(TableName="durable", Item={"pk": {"S": pk}, "n": {"N": str(n)}})
            except Exception:
                return
            acked[pk].append(n)
            n += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    wait_until(lambda: sum(map(len, list(acked.values()))) > 50, what="50 acknowledged writes")
    srv.kill()
    stop.set()
    for t in threads:
        t.join()
    srv.start()
    _, records = read_all(srv.client("dynamodbstreams"), arn)
    per_item: dict[str, list[int]] = {}
    for r in records:
        per_item.setdefault(r["dynamodb"]["Keys"]["pk"]["S"], []).append(
            int(r["dynamodb"]["NewImage"]["n"]["N"])
        )
    assert sum(map(len, acked.values())) > 50
    for pk, numbers in acked.items():
        got = per_item.get(pk, [])
        # in order, once each, every acknowledged write (at most one unacknowledged one more)
        assert got == list(range(len(got)))
        assert len(numbers) <= len(got) <= len(numbers) + 1


def test_rollover_lineage_on_a_live_server(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--shard-rollover", "0.6").start()
    ddb, streams = srv.client("dynamodb"), srv.client("dynamodbstreams")
    arn = create(ddb, "rolling", "KEYS_ONLY")

    def shard_count() -> int:
        return len(streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"])

    def wait_for_rollover() -> None:
        before = shard_count()
        wait_until(lambda: shard_count() > before, what="a rollover")

    for i in range(12):
        ddb.put_item(TableName="rolling", Item={"pk": {"S": f"k{i}"}})
        if i % 4 == 3:  # four records to a shard at least
            wait_for_rollover()
    shards, records = read_all(streams, arn)
    assert len(shards) >= 4
    assert [s["ShardId"] for s in shards] == sorted(s["ShardId"] for s in shards)
    for parent, child in itertools.pairwise(shards):
        assert child["ParentShardId"] == parent["ShardId"]
        assert int(child["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
            parent["SequenceNumberRange"]["EndingSequenceNumber"]
        )
    # every record exactly once, in write order, across the lineage
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == [f"k{i}" for i in range(12)]
    # a closed shard ends at exactly its last record (when it has one)
    ends = {r["dynamodb"]["SequenceNumber"] for r in records}
    closed = [s for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]]
    assert closed and any(s["SequenceNumberRange"]["EndingSequenceNumber"] in ends for s in closed)


def test_retention_on_a_live_server(tmp_server: Callable[..., Server]) -> None:
    """With a 1-second retention the record goes, and an iterator at it is TrimmedDataAccessException.
    (Its sequence number is taken from the shard, not read from the record: on a loaded machine the
    record may be gone before a first read.)"""
    srv = tmp_server("--stream-retention", "1").start()
    ddb, streams = srv.client("dynamodb"), srv.client("dynamodbstreams")
    arn = create(ddb, "expiring")
    ddb.put_item(TableName="expiring", Item={"pk": {"S": "early"}})
    (described,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    shard, first = described["ShardId"], described["SequenceNumberRange"]["StartingSequenceNumber"]

    def trimmed() -> str | None:
        try:
            streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first
            )
        except ClientError as err:
            return str(err.response["Error"]["Code"])
        return None

    assert wait_until(trimmed, what="the record to pass the retention period") == "TrimmedDataAccessException"


def test_ttl_deletes_on_a_live_server(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--ttl-sweep-interval", "0.2").start()
    ddb, streams = srv.client("dynamodb"), srv.client("dynamodbstreams")
    arn = create(ddb, "expiring")
    ddb.update_time_to_live(
        TableName="expiring", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    ddb.put_item(TableName="expiring", Item={"pk": {"S": "gone"}, "ttl": {"N": str(int(time.time()) - 5)}})
    ddb.put_item(TableName="expiring", Item={"pk": {"S": "kept"}, "ttl": {"S": "soon"}})
    wait_until(
        lambda: "Item" not in ddb.get_item(TableName="expiring", Key={"pk": {"S": "gone"}}),
        what="the TTL sweeper",
    )
    assert "Item" in ddb.get_item(TableName="expiring", Key={"pk": {"S": "kept"}})
    _, records = read_all(streams, arn)
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    assert len(removes) == 1
    assert removes[0]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert removes[0]["dynamodb"]["OldImage"]["pk"] == {"S": "gone"}


def test_streams_tail_prints_records_readable_and_json(server: Server, ddb: Any) -> None:
    create(ddb, "tailed")
    ddb.put_item(TableName="tailed", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.delete_item(TableName="tailed", Key={"pk": {"S": "a"}})
    base = [sys.executable, "-m", "headwater", "streams", "tail", "tailed", "--endpoint-url", server.endpoint]
    base += ["--from", "trim-horizon", "--exit-when-idle"]
    readable = subprocess.run(
        base, capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert len(readable) == 2
    assert " INSERT " in readable[0] and '{"pk":{"S":"a"}}' in readable[0] and 'new={"pk"' in readable[0]
    assert " REMOVE " in readable[1]
    lines = subprocess.run([*base, "--json"], capture_output=True, text=True, timeout=60, check=True).stdout
    parsed = [json.loads(line) for line in lines.splitlines()]
    assert [r["eventName"] for r in parsed] == ["INSERT", "REMOVE"]
    assert parsed[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
