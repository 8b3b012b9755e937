"""Per-shard limits across three `headwater serve` nodes on one PostgreSQL database: DynamoDB Streams' two
readers of a shard at once, and Kinesis' 5 GetRecords calls and 1,000 records written a second per
shard, count every node's calls as one node would count its own. The nodes run on a test clock (moved
only when told), so the one-second windows are tested without waiting."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.multinode_support import Cluster, create_table, start_cluster, unique
from tests.postgres_server import PostgresServer
from tests.server import Server
from tests.waiting import wait_until

psycopg = pytest.importorskip("psycopg")

START = 1_800_000_000.0


@pytest.fixture(scope="module")
def cluster(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("multinode-limits")
    started = start_cluster(postgres_server, root, 3, env={"HEADWATER_TEST_CLOCK": str(START)})
    yield started
    for node in started.nodes:
        if node.process is not None:
            node.stop()


def advance_every_clock(cluster: Cluster, seconds: float) -> None:
    for node in cluster.nodes:
        status, _, body = node.request(
            "POST", "/_headwater/clock/advance", json.dumps({"Seconds": seconds}).encode(), service="dynamodb"
        )
        assert status == 200, body


def readers_counted(url: str) -> int:
    """DynamoDB Streams readers under way, as the nodes count them in the database."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM shard_use WHERE shard LIKE 'ddb/%'").fetchone()
    return int(row[0]) if row is not None else 0


def test_two_readers_of_a_shard_at_once_across_nodes(cluster: Cluster) -> None:
    """Two GetRecords calls under way through A and B (held up in the database: their shard's records
    are locked) fill the shard's two reader places, so a third through C, or through A, is refused with
    LimitExceededException as on one node; once the two finish, C reads."""
    a, b, c = cluster.nodes
    ddb: Any = a.client("dynamodb")
    table = create_table(ddb, stream=True)
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}})
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams: Any = a.client("dynamodbstreams")
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    results: list[Any] = []

    def read(node: Server) -> None:
        try:
            results.append(node.client("dynamodbstreams").get_records(ShardIterator=iterator)["Records"])
        except BaseException as exc:
            results.append(exc)

    with psycopg.connect(cluster.url) as blocker:
        blocker.execute("LOCK TABLE stream_records IN ACCESS EXCLUSIVE MODE")
        held = [threading.Thread(target=read, args=(node,)) for node in (a, b)]
        for thread in held:
            thread.start()
        wait_until(lambda: readers_counted(cluster.url) == 2, what="two readers under way")
        for node in (c, a):
            third: Any = node.client("dynamodbstreams")
            with pytest.raises(third.exceptions.LimitExceededException) as info:
                third.get_records(ShardIterator=iterator)
            assert "at most 2 readers may poll a shard" in info.value.response["Error"]["Message"]
        blocker.rollback()
    for thread in held:
        thread.join(timeout=60)
    assert [len(r) if isinstance(r, list) else r for r in results] == [1, 1]
    assert readers_counted(cluster.url) == 0  # given back when the calls ended
    assert len(c.client("dynamodbstreams").get_records(ShardIterator=iterator)["Records"]) == 1


def kinesis_iterator(kinesis: Any, name: str) -> str:
    out: str = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return out


def test_kinesis_five_reads_a_second_per_shard_across_nodes(cluster: Cluster) -> None:
    a, b, c = cluster.nodes
    name = unique("kread")
    a.client("kinesis").create_stream(StreamName=name, ShardCount=1)
    iterator = kinesis_iterator(a.client("kinesis"), name)
    for node in (a, b, c, a, b):
        node.client("kinesis").get_records(ShardIterator=iterator)
    for node in (c, a):
        sixth: Any = node.client("kinesis")
        with pytest.raises(sixth.exceptions.ProvisionedThroughputExceededException) as info:
            sixth.get_records(ShardIterator=iterator)
        assert info.value.response["Error"]["Message"] == (
            f"Rate exceeded for shard shardId-000000000000 in stream {name} under account 000000000000."
        )
    advance_every_clock(cluster, 1.0)
    c.client("kinesis").get_records(ShardIterator=iterator)


def put_many(node: Server, name: str, count: int) -> dict[str, Any]:
    records = [{"Data": base64.b64encode(b"x" * 10), "PartitionKey": "k"} for _ in range(count)]
    out: dict[str, Any] = node.client("kinesis").put_records(StreamName=name, Records=records)
    return out


def test_kinesis_thousand_records_a_second_per_shard_across_nodes(cluster: Cluster) -> None:
    a, b, c = cluster.nodes
    name = unique("kwrite")
    a.client("kinesis").create_stream(StreamName=name, ShardCount=1)
    assert put_many(a, name, 500)["FailedRecordCount"] == 0
    assert put_many(b, name, 500)["FailedRecordCount"] == 0
    over = put_many(c, name, 10)
    assert over["FailedRecordCount"] == 10
    assert over["Records"][0]["ErrorCode"] == "ProvisionedThroughputExceededException"
    advance_every_clock(cluster, 1.0)
    assert put_many(c, name, 10)["FailedRecordCount"] == 0
