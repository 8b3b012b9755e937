"""The Streams operations called in-process on a database with a fake clock: expiry, rollover, retention,
TTL, reader limits, layout and iterator tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from headwater.api.registry import DYNAMODB_OPERATIONS, STREAMS_OPERATIONS
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.database import Database
from headwater.core.ttl import expired, sweep
from headwater.errors import (
    ExpiredIteratorException,
    LimitExceededException,
    TrimmedDataAccessException,
    ValidationException,
)
from headwater.shardlog.markers import RolloverOp
from headwater.shardlog.tokens import Position
from headwater.storage.base import CONTROL_SLOT, Storage, StoredRecord
from headwater.storage.sqlite import SqliteStorage
from headwater.streams import iterators
from headwater.streams.background import enforce_retention, force_rollover, rollover_due
from headwater.streams.records import event_id
from headwater.streams.sequence import format_seq, parse_seq


class Env:
    def __init__(self, storage: Storage | None = None, **settings: Any) -> None:
        self.clock = FakeClock()
        self.db = Database(Settings(in_memory=True, **settings), storage or SqliteStorage(None), self.clock)
        self.loop = asyncio.new_event_loop()
        self.db.open()
        self.run(self.db.streams.start())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def ddb(self, op: str, **request: Any) -> Any:
        out = self.run(DYNAMODB_OPERATIONS[op](self.db, request))
        return orjson.loads(out) if isinstance(out, bytes) else out

    def streams(self, op: str, **request: Any) -> Any:
        out = self.run(STREAMS_OPERATIONS[op](self.db, request))
        return orjson.loads(out) if isinstance(out, bytes) else out

    def table(self, name: str = "ttt", view: str = "NEW_AND_OLD_IMAGES") -> str:
        self.ddb(
            "CreateTable",
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
        arn: str = self.ddb("DescribeTable", TableName=name)["Table"]["LatestStreamArn"]
        return arn

    def put(self, pk: str, **attrs: Any) -> None:
        self.ddb("PutItem", TableName="ttt", Item={"pk": {"S": pk}, **attrs})

    def shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = self.streams("DescribeStream", StreamArn=arn)["StreamDescription"][
            "Shards"
        ]
        return shards

    def iterator(self, arn: str, shard: str, kind: str = "TRIM_HORIZON", seq: str | None = None) -> str:
        request: dict[str, Any] = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind}
        if seq is not None:
            request["SequenceNumber"] = seq
        it: str = self.streams("GetShardIterator", **request)["ShardIterator"]
        return it

    def close(self) -> None:
        self.run(self.db.close())
        self.loop.close()


@pytest.fixture
def env() -> Iterator[Env]:
    e = Env()
    yield e
    e.close()


def test_iterator_expires_after_15_minutes_of_the_clock(env: Env) -> None:
    arn = env.table()
    env.put("a")
    it = env.iterator(arn, env.shards(arn)[0]["ShardId"])
    env.clock.advance(899)
    page = env.streams("GetRecords", ShardIterator=it)
    assert len(page["Records"]) == 1
    env.clock.advance(2)
    with pytest.raises(ExpiredIteratorException):
        env.streams("GetRecords", ShardIterator=it)
    # the NextShardIterator was issued later and still works
    assert env.streams("GetRecords", ShardIterator=page["NextShardIterator"])["Records"] == []


def test_forced_rollover_splits_exactly_with_lineage(env: Env) -> None:
    arn = env.table()
    env.put("a", v={"N": "1"})
    env.put("a", v={"N": "2"})
    stream_id = env.db.streams.find(arn).stream_id
    env.clock.advance(1)
    env.run(force_rollover(env.db.streams, stream_id))
    env.put("a", v={"N": "3"})
    parent, child = env.shards(arn)
    assert parent["ShardId"] < child["ShardId"]
    assert child["ParentShardId"] == parent["ShardId"]
    assert "ParentShardId" not in parent
    first = env.streams("GetRecords", ShardIterator=env.iterator(arn, parent["ShardId"]))
    assert [r["dynamodb"]["NewImage"]["v"]["N"] for r in first["Records"]] == ["1", "2"]
    assert (
        parent["SequenceNumberRange"]["EndingSequenceNumber"]
        == first["Records"][-1]["dynamodb"]["SequenceNumber"]
    )
    assert "NextShardIterator" not in first  # closed and exhausted
    second = env.streams("GetRecords", ShardIterator=env.iterator(arn, child["ShardId"]))
    assert [r["dynamodb"]["NewImage"]["v"]["N"] for r in second["Records"]] == ["3"]
    assert "EndingSequenceNumber" not in child["SequenceNumberRange"]
    assert "NextShardIterator" in second
    # CHILD_SHARDS filter
    described = env.streams(
        "DescribeStream", StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parent["ShardId"]}
    )
    assert [s["ShardId"] for s in described["StreamDescription"]["Shards"]] == [child["ShardId"]]


def test_periodic_rollover_is_due_by_age(env: Env) -> None:
    arn = env.table()
    service = env.db.streams
    assert env.run(rollover_due(service, 60.0, env.clock.now() + 59)) == 0
    assert env.run(rollover_due(service, 60.0, env.clock.now() + 60)) == 1
    assert len(env.shards(arn)) == 2


def test_retention_trims_and_old_positions_are_trimmed(env: Env) -> None:
    arn = env.table()
    env.put("a", v={"N": "1"})
    shard = env.shards(arn)[0]["ShardId"]
    old_it = env.iterator(arn, shard)
    first_seq = env.streams("GetRecords", ShardIterator=old_it)["Records"][0]["dynamodb"]["SequenceNumber"]
    env.clock.advance(100)
    env.put("a", v={"N": "2"})
    service = env.db.streams
    assert env.run(enforce_retention(service, 50.0, env.clock.now())) == 1
    with pytest.raises(TrimmedDataAccessException):
        env.streams("GetRecords", ShardIterator=old_it)
    with pytest.raises(TrimmedDataAccessException):
        env.iterator(arn, shard, "AT_SEQUENCE_NUMBER", first_seq)
    horizon = env.streams("GetRecords", ShardIterator=env.iterator(arn, shard))
    assert [r["dynamodb"]["NewImage"]["v"]["N"] for r in horizon["Records"]] == ["2"]


def test_disabled_stream_is_dropped_after_retention(env: Env) -> None:
    arn = env.table()
    env.put("a")
    env.ddb("UpdateTable", TableName="ttt", StreamSpecification={"StreamEnabled": False})
    service = env.db.streams
    env.clock.advance(10)
    env.run(enforce_retention(service, 50.0, env.clock.now()))
    assert env.streams("DescribeStream", StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    env.clock.advance(50)
    env.run(enforce_retention(service, 50.0, env.clock.now()))
    assert env.streams("ListStreams")["Streams"] == []


def test_ttl_sweep_deletes_expired_numbers_only(env: Env) -> None:
    arn = env.table()
    env.ddb(
        "UpdateTimeToLive", TableName="ttt", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    now = env.clock.now()
    env.put("old", exp={"N": str(int(now) - 10)})
    env.put("future", exp={"N": str(int(now) + 1000)})
    env.put("string", exp={"S": "1"})
    env.put("ancient", exp={"N": str(int(now) - 6 * 365 * 86400)})
    # expired items stay readable until swept
    assert "Item" in env.ddb("GetItem", TableName="ttt", Key={"pk": {"S": "old"}})
    assert env.run(sweep(env.db)) == 1
    assert "Item" not in env.ddb("GetItem", TableName="ttt", Key={"pk": {"S": "old"}})
    assert "Item" in env.ddb("GetItem", TableName="ttt", Key={"pk": {"S": "future"}})
    records = env.streams("GetRecords", ShardIterator=env.iterator(arn, env.shards(arn)[0]["ShardId"]))[
        "Records"
    ]
    remove = records[-1]
    assert remove["eventName"] == "REMOVE"
    assert remove["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert remove["dynamodb"]["OldImage"]["pk"] == {"S": "old"}
    assert all("userIdentity" not in r for r in records[:-1])


def test_expired_rule() -> None:
    assert expired({"e": {"N": "99"}}, "e", 100.0)
    assert not expired({"e": {"N": "100"}}, "e", 100.0)
    assert not expired({"e": {"S": "1"}}, "e", 100.0)
    assert not expired({}, "e", 100.0)


def test_more_than_two_concurrent_readers_of_a_shard(env: Env) -> None:
    arn = env.table()
    it = env.iterator(arn, env.shards(arn)[0]["ShardId"])
    service = env.db.streams

    async def three() -> list[Any]:
        return await asyncio.gather(*(service.get_records(it, 10) for _ in range(3)), return_exceptions=True)

    outcomes = env.run(three())
    assert sum(isinstance(o, LimitExceededException) for o in outcomes) == 1
    assert sum(isinstance(o, bytes) for o in outcomes) == 2


def test_replication_links_are_not_counted_among_a_shards_readers(env: Env) -> None:
    """Two readers hold a shard; the replication links of a three-region global table still read it
    (AWS does not count its replication against the limit), and do not take a reader's place."""
    arn = env.table()
    it = env.iterator(arn, env.shards(arn)[0]["ShardId"])
    service = env.db.streams

    async def two_readers_and_two_links() -> list[Any]:
        reads = [service.get_records(it, 10) for _ in range(2)]
        links = [service.get_records(it, 10, stamps=True) for _ in range(2)]
        return await asyncio.gather(*reads, *links, return_exceptions=True)

    outcomes = env.run(two_readers_and_two_links())
    assert all(isinstance(o, bytes) for o in outcomes), outcomes


def test_iterator_tokens_are_signed_and_short() -> None:
    secret = b"s" * 32
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/" + "t" * 255 + "/stream/2024-01-01T00:00:00.000"
    position = Position(7, 3, 100, 105, 1_700_000_000_000)
    token = iterators.encode(secret, arn, position)
    assert len(token) <= 2048
    assert iterators.decode(secret, token, 1_700_000_000.0) == (arn, position)
    with pytest.raises(ValidationException, match="Invalid ShardIterator"):
        iterators.decode(b"x" * 32, token, 1_700_000_000.0)
    forged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ValidationException, match="Invalid ShardIterator"):
        iterators.decode(secret, forged, 1_700_000_000.0)
    with pytest.raises(ExpiredIteratorException):
        iterators.decode(secret, token, 1_700_000_000.0 + 901)


def test_sequence_numbers_and_event_ids() -> None:
    assert format_seq(1) == "100000000000000000001"
    assert len(format_seq(1)) == 21
    assert parse_seq(format_seq(12345)) == 12345
    assert int(format_seq(9)) < int(format_seq(10))
    with pytest.raises(ValidationException):
        parse_seq("x" * 21)
    assert event_id(1, 2) == event_id(1, 2) != event_id(1, 3)
    assert len(event_id(1, 2)) == 32


def test_a_shards_starting_sequence_number_is_a_valid_position(env: Env) -> None:
    """AT/AFTER_SEQUENCE_NUMBER with the StartingSequenceNumber DescribeStream reports, before any record
    has that number: in an open shard, a child shard and an empty closed shard."""
    arn = env.table()
    shard = env.shards(arn)[0]
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    at = env.iterator(arn, shard["ShardId"], "AT_SEQUENCE_NUMBER", start)
    after = env.iterator(arn, shard["ShardId"], "AFTER_SEQUENCE_NUMBER", start)
    env.put("a")
    assert [
        r["dynamodb"]["Keys"]["pk"]["S"] for r in env.streams("GetRecords", ShardIterator=at)["Records"]
    ] == ["a"]
    assert env.streams("GetRecords", ShardIterator=after)["Records"] == []  # "a" has the starting number
    stream_id = env.db.streams.find(arn).stream_id
    env.run(force_rollover(env.db.streams, stream_id))
    env.run(force_rollover(env.db.streams, stream_id))
    _, empty, child = env.shards(arn)
    for closed_or_open in (empty, child):
        first = closed_or_open["SequenceNumberRange"]["StartingSequenceNumber"]
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            page = env.streams(
                "GetRecords", ShardIterator=env.iterator(arn, closed_or_open["ShardId"], kind, first)
            )
            assert page["Records"] == []
            assert ("NextShardIterator" in page) == (closed_or_open is child)
    with pytest.raises(ValidationException, match="Invalid SequenceNumber"):
        env.iterator(arn, child["ShardId"], "AT_SEQUENCE_NUMBER", format_seq(parse_seq(first) + 1))


class RolloverBetweenReads(SqliteStorage):
    """Storage with a one-shot hook run right after a read of a stream's boundary markers."""

    hook: Callable[[], None] | None = None

    def stream_records(
        self, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
    ) -> list[StoredRecord]:
        out = super().stream_records(stream_id, slot, seq_from, seq_to, limit)
        if slot == CONTROL_SLOT and self.hook is not None:
            hook, self.hook = self.hook, None
            hook()
        return out


def test_get_records_never_returns_a_child_shards_record_when_the_shard_rolls_over_mid_read() -> None:
    """A rollover and a child record committed between GetRecords' read of the boundary markers and its
    read of the records: the parent's page stops at the commit ceiling read first, so the child's record
    is delivered once, by the child shard."""
    storage = RolloverBetweenReads(None)
    env = Env(storage=storage)
    try:
        arn = env.table()
        env.put("a", v={"N": "1"})
        parent = env.shards(arn)[0]["ShardId"]
        it = env.iterator(arn, parent)
        stream_id = env.db.streams.find(arn).stream_id
        loop = env.loop

        async def put() -> None:
            await DYNAMODB_OPERATIONS["PutItem"](
                env.db, {"TableName": "ttt", "Item": {"pk": {"S": "a"}, "v": {"N": "2"}}}
            )

        def roll_over_and_write() -> None:  # runs in GetRecords' worker thread, the loop waiting on it
            storage.write_sync(RolloverOp(stream_id, env.clock.now()))
            asyncio.run_coroutine_threadsafe(put(), loop).result()

        storage.hook = roll_over_and_write
        page = env.streams("GetRecords", ShardIterator=it)
        assert storage.hook is None  # the interleaving happened
        parent_values = [r["dynamodb"]["NewImage"]["v"]["N"] for r in page["Records"]]
        while "NextShardIterator" in page and page["Records"]:
            page = env.streams("GetRecords", ShardIterator=page["NextShardIterator"])
            parent_values += [r["dynamodb"]["NewImage"]["v"]["N"] for r in page["Records"]]
        assert parent_values == ["1"]
        child = env.shards(arn)[1]
        assert child["ParentShardId"] == parent
        records = env.streams("GetRecords", ShardIterator=env.iterator(arn, child["ShardId"]))["Records"]
        assert [r["dynamodb"]["NewImage"]["v"]["N"] for r in records] == ["2"]
    finally:
        env.close()
