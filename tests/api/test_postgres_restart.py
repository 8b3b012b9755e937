"""PostgreSQL restarts under a steady stream of writes from boto3 (`pg_ctl restart -m fast`, which ends
every session). In-flight requests get an error SDKs retry (500 InternalServerError), never a wrong
success: every acknowledged write is there with its stream record, a write reported as not committed
is not there, no sequence number is used twice, and writes work again without restarting Headwater."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.postgres_server import PostgresServer, restart_postgres, start_postgres, stop_postgres
from tests.server import Server

psycopg = pytest.importorskip("psycopg")

WRITERS = 4
DEADLINE = 60.0


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of its own: it is restarted under the test."""
    try:
        server = start_postgres()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"cannot start a throwaway PostgreSQL server: {exc}")
    try:
        yield server
    finally:
        stop_postgres(server)


class Writers:
    """Threads putting items with unique keys, one request at a time each, no SDK retries."""

    def __init__(self, make_client: Callable[[], Any]) -> None:
        self.acknowledged: list[str] = []
        self.failed: list[tuple[str, ClientError]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(make_client(), n), daemon=True) for n in range(WRITERS)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, ddb: Any, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            pk = f"w{n}-{i}"
            i += 1
            try:
                ddb.put_item(TableName="restarts", Item={"pk": {"S": pk}})
            except ClientError as exc:
                with self._lock:
                    self.failed.append((pk, exc))
                time.sleep(0.01)  # a client backing off
                continue
            with self._lock:
                self.acknowledged.append(pk)

    def wait_for(self, acknowledged: int) -> None:
        deadline = time.monotonic() + DEADLINE
        while len(self.acknowledged) < acknowledged:
            assert time.monotonic() < deadline, f"writes stalled at {len(self.acknowledged)}"
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(DEADLINE)


def _stream_keys(streams: Any, arn: str) -> list[tuple[int, str]]:
    """(sequence number, pk) of every record of the stream, shard by shard."""
    out: list[tuple[int, str]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = page["Records"]
            out += [
                (int(r["dynamodb"]["SequenceNumber"]), r["dynamodb"]["Keys"]["pk"]["S"])
                for r in page["Records"]
            ]
            if not records:
                break
            iterator = page.get("NextShardIterator")
    return out


def test_a_postgres_restart_under_writes_never_gives_a_wrong_success(
    own_postgres: PostgresServer, tmp_server: Callable[..., Server]
) -> None:
    server = tmp_server("--storage-url", own_postgres.create_database()).start()
    ddb: Any = server.client()
    ddb.create_table(
        TableName="restarts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    writers = Writers(server.client)
    try:
        writers.wait_for(200)
        restart_postgres(own_postgres)
        before = len(writers.acknowledged)
        writers.wait_for(before + 200)  # Headwater found its way back by itself
    finally:
        writers.stop()
    for _, error in writers.failed:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 500  # retried by every SDK
        assert error.response["Error"]["Code"] == "InternalServerError"
    for pk in writers.acknowledged:
        assert "Item" in ddb.get_item(TableName="restarts", Key={"pk": {"S": pk}}), pk
    for pk, error in writers.failed:
        if "nothing was committed" in error.response["Error"]["Message"]:
            assert "Item" not in ddb.get_item(TableName="restarts", Key={"pk": {"S": pk}}), pk
    arn = ddb.describe_table(TableName="restarts")["Table"]["LatestStreamArn"]
    records = _stream_keys(server.client("dynamodbstreams"), arn)
    sequence_numbers = [seq for seq, _ in records]
    assert len(set(sequence_numbers)) == len(sequence_numbers)
    assert set(writers.acknowledged) <= {pk for _, pk in records}
    server.stop()
