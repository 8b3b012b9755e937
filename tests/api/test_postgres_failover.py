"""A PostgreSQL failover under writes from boto3: a primary with a synchronous streaming standby, the
primary's postmaster killed (`kill -9`) and the standby promoted, Headwater given both hosts in one URL.
Headwater finds the new primary by itself; meanwhile clients get only errors SDKs retry, never a wrong
success; afterwards every acknowledged write is there with exactly one stream record."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.postgres_server import PostgresPair, kill_postmaster, promote
from tests.server import Server

psycopg = pytest.importorskip("psycopg")

WRITERS = 4
DEADLINE = 60.0
TABLE = "failover"
# what every AWS SDK retries
RETRYABLE = {(500, "InternalServerError"), (503, "ServiceUnavailable"), (0, "ConnectionError")}
NOT_COMMITTED = "nothing was committed"
# what a client sees when the connection itself fails: the write may or may not have been applied, and
# every SDK retries it (botocore's standard mode does, for these)
CONNECTION_ERRORS = {"ConnectionClosedError", "ReadTimeoutError", "EndpointConnectionError"}


@dataclass
class Outcomes:
    """One writer thread's writes: puts of new keys and `ADD n :one` on its own counter item."""

    acknowledged_puts: list[str] = field(default_factory=list)
    failed_puts: list[tuple[str, ClientError | BotoCoreError]] = field(default_factory=list)
    acknowledged_adds: int = 0
    failed_adds: list[ClientError | BotoCoreError] = field(default_factory=list)


class Writers:
    """Threads writing one request at a time each, no SDK retries, every outcome recorded."""

    def __init__(self, ddb: Any) -> None:
        self.outcomes = [Outcomes() for _ in range(WRITERS)]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(ddb, n), daemon=True) for n in range(WRITERS)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, ddb: Any, n: int) -> None:
        mine = self.outcomes[n]
        i = 0
        while not self._stop.is_set():
            i += 1
            pk = f"p{n}-{i}"
            try:
                ddb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "v": {"N": str(i)}})
                mine.acknowledged_puts.append(pk)
            except (ClientError, BotoCoreError) as exc:  # a connection error must not end the thread
                mine.failed_puts.append((pk, exc))
            try:
                ddb.update_item(
                    TableName=TABLE,
                    Key={"pk": {"S": f"c{n}"}},
                    UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
                mine.acknowledged_adds += 1
            except (ClientError, BotoCoreError) as exc:
                mine.failed_adds.append(exc)

    def acknowledged(self) -> int:
        return sum(len(o.acknowledged_puts) + o.acknowledged_adds for o in self.outcomes)

    def wait_for(self, acknowledged: int) -> None:
        deadline = time.monotonic() + DEADLINE
        while self.acknowledged() < acknowledged:
            assert time.monotonic() < deadline, f"writes stalled at {self.acknowledged()} acknowledged"
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(DEADLINE)


def _stream_records(streams: Any, arn: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(sequence number, pk, new image) of every record of the stream, in sequence-number order."""
    out: list[tuple[int, str, dict[str, Any]]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            records = streams.get_records(ShardIterator=iterator, Limit=1000)
            out += [
                (
                    int(r["dynamodb"]["SequenceNumber"]),
                    r["dynamodb"]["Keys"]["pk"]["S"],
                    r["dynamodb"]["NewImage"],
                )
                for r in records["Records"]
            ]
            if not records["Records"]:
                break
            iterator = records.get("NextShardIterator")
    return sorted(out, key=lambda record: record[0])


def _retryable(error: ClientError | BotoCoreError) -> tuple[int, str]:
    if isinstance(error, BotoCoreError):
        return (0, "ConnectionError" if type(error).__name__ in CONNECTION_ERRORS else repr(error))
    return (error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"])


def _not_committed(error: ClientError | BotoCoreError) -> bool:
    """The server said the write was not applied (a connection error says nothing either way)."""
    return isinstance(error, ClientError) and NOT_COMMITTED in error.response["Error"]["Message"]


def test_a_failover_loses_no_acknowledged_write(
    postgres_pair: PostgresPair, tmp_server: Callable[..., Server]
) -> None:
    server = tmp_server("--storage-url", postgres_pair.url(postgres_pair.primary.new_database())).start()
    # no retries (botocore's `max_attempts` counts retries; the tests' default is one): a retried ADD whose
    # first attempt committed and answered 500 would apply twice with one acknowledgement
    writes: Any = server.client(retries={"total_max_attempts": 1})
    ddb: Any = server.client()
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    with psycopg.connect(postgres_pair.primary.url, autocommit=True) as conn:
        states = conn.execute("SELECT sync_state FROM pg_stat_replication").fetchall()
    assert states == [("sync",)]  # an acknowledged commit is on the standby's disk
    writers = Writers(writes)
    try:
        writers.wait_for(100)
        kill_postmaster(postgres_pair.primary)
        promote(postgres_pair.standby)
        promoted = writers.acknowledged()
        writers.wait_for(promoted + 100)  # Headwater found the new primary by itself
    finally:
        writers.stop()

    errors = [e for o in writers.outcomes for e in [*(e for _, e in o.failed_puts), *o.failed_adds]]
    assert {_retryable(e) for e in errors} <= RETRYABLE, [_retryable(e) for e in errors]
    records = _stream_records(
        server.client("dynamodbstreams"), ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    )
    assert len({seq for seq, _, _ in records}) == len(records)
    per_key = Counter(pk for _, pk, _ in records)
    for n, mine in enumerate(writers.outcomes):
        for pk in mine.acknowledged_puts:
            assert "Item" in ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True), pk
            assert per_key[pk] == 1, pk  # its record, once
        for pk, error in mine.failed_puts:
            if _not_committed(error):
                assert per_key[pk] == 0, pk
                assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True)
        # the counter: every committed ADD has its record, in order, once; every acknowledged one committed
        item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"c{n}"}}, ConsistentRead=True)["Item"]
        total = int(item["n"]["N"])
        seen = [int(image["n"]["N"]) for _, pk, image in records if pk == f"c{n}"]
        assert seen == list(range(1, total + 1))
        maybe = [e for e in mine.failed_adds if not _not_committed(e)]
        assert mine.acknowledged_adds <= total <= mine.acknowledged_adds + len(maybe), (
            mine.acknowledged_adds,
            total,
            [str(e) for e in mine.failed_adds],
        )
    server.stop()
