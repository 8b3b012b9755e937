"""Kinesis operations called in-process on a database with a fake clock: throughput limits (reads and
partial PutRecords failures), iterator expiry, retention per stream, and the layout replay."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import orjson
import pytest

from headwater.api.registry import KINESIS_OPERATIONS
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.database import Database
from headwater.kinesis.errors import ExpiredIteratorException, ProvisionedThroughputExceededException
from headwater.shardlog import retention
from headwater.shardlog.layout import replay
from headwater.shardlog.markers import CLOSE, ROLLOVER, SlotRange, reshard
from headwater.shardlog.retention import Retained
from headwater.storage.base import StoredRecord
from headwater.storage.sqlite import SqliteStorage


class Env:
    def __init__(self, **settings: Any) -> None:
        self.clock = FakeClock()
        self.db = Database(Settings(in_memory=True, **settings), SqliteStorage(None), self.clock)
        self.loop = asyncio.new_event_loop()
        self.db.open()
        self.loop.run_until_complete(self.db.iterator_secret.start())

    def call(self, op: str, **request: Any) -> Any:
        out = self.loop.run_until_complete(KINESIS_OPERATIONS[op](self.db, request))
        return orjson.loads(out) if isinstance(out, bytes) else out

    def close(self) -> None:
        self.loop.run_until_complete(self.db.close())
        self.loop.close()


@pytest.fixture
def env() -> Any:
    e = Env()
    yield e
    e.close()


def put_many(env: Env, count: int, size: int = 10) -> dict[str, Any]:
    records = [{"Data": base64.b64encode(b"x" * size).decode(), "PartitionKey": "k"} for _ in range(count)]
    out: dict[str, Any] = env.call("PutRecords", StreamName="s", Records=records)
    return out


def iterator(env: Env, kind: str = "TRIM_HORIZON") -> str:
    out: str = env.call("GetShardIterator", StreamName="s", ShardId="shardId-0", ShardIteratorType=kind)[
        "ShardIterator"
    ]
    return out


def test_get_records_is_throttled_at_five_calls_a_second(env: Env) -> None:
    env.call("CreateStream", StreamName="s", ShardCount=1)
    it = iterator(env)
    for _ in range(5):
        env.call("GetRecords", ShardIterator=it)
    with pytest.raises(ProvisionedThroughputExceededException) as info:
        env.call("GetRecords", ShardIterator=it)
    assert (
        info.value.message
        == "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
    )
    env.clock.advance(1.0)
    env.call("GetRecords", ShardIterator=it)


def test_put_records_fails_records_over_the_shard_write_rate(env: Env) -> None:
    env.call("CreateStream", StreamName="s", ShardCount=1)
    first = put_many(env, 500)
    second = put_many(env, 500)
    third = put_many(env, 10)
    assert first["FailedRecordCount"] == second["FailedRecordCount"] == 0
    assert third["FailedRecordCount"] == 10
    assert third["Records"][0] == {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream s under account "
        "000000000000.",
    }
    env.clock.advance(1.0)
    assert put_many(env, 10)["FailedRecordCount"] == 0
    # bytes too: 1 MiB a second, though one record of 1 MiB always fits
    env.clock.advance(1.0)
    mixed = put_many(env, 3, size=500 * 1024)
    assert [("ErrorCode" in r) for r in mixed["Records"]] == [False, False, True]


def test_on_demand_and_limits_off_do_not_throttle_writes() -> None:
    for settings, request in (
        ({}, {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
        ({"kinesis_limits": False}, {"ShardCount": 1}),
    ):
        env = Env(**settings)
        try:
            env.call("CreateStream", StreamName="s", **request)
            assert sum(put_many(env, 500)["FailedRecordCount"] for _ in range(3)) == 0
        finally:
            env.close()


def test_iterators_expire_after_five_minutes(env: Env) -> None:
    env.call("CreateStream", StreamName="s", ShardCount=1)
    it = iterator(env)
    env.clock.advance(301)
    with pytest.raises(ExpiredIteratorException) as info:
        env.call("GetRecords", ShardIterator=it)
    assert "which is further in the future than the tolerated delay of 300000 milliseconds." in str(
        info.value
    )


def test_retention_trims_each_stream_by_its_own_period(env: Env) -> None:
    env.call("CreateStream", StreamName="s", ShardCount=1)
    env.call("IncreaseStreamRetentionPeriod", StreamName="s", RetentionPeriodHours=48)
    put_many(env, 3)
    env.clock.advance(30 * 3600)
    docs = env.db.kinesis.docs()
    sources = [Retained(d.stream_id, d.retention_seconds) for d in docs]
    assert env.loop.run_until_complete(retention.enforce(env.db.storage, sources, env.clock.now())) == 0
    env.clock.advance(20 * 3600)
    assert env.loop.run_until_complete(retention.enforce(env.db.storage, sources, env.clock.now())) == 3
    # a reader behind the horizon reads from it (Kinesis has no TrimmedDataAccessException)
    page = env.call("GetRecords", ShardIterator=iterator(env))
    assert page["Records"] == []
    put_many(env, 1)
    env.clock.advance(1.0)
    assert len(env.call("GetRecords", ShardIterator=iterator(env))["Records"]) == 1


def marker(seq: int, payload: bytes, at: float = 0.0) -> StoredRecord:
    return StoredRecord(seq, at, payload)


def test_replay_rollover_close_and_reshard() -> None:
    first = [SlotRange(0, 0, 9), SlotRange(1, 10, 19)]
    markers = [
        marker(5, reshard((0,), (SlotRange(2, 0, 4, (0,)), SlotRange(3, 5, 9, (0,))))),
        marker(8, reshard((2, 3), (SlotRange(4, 0, 9, (2, 3)),))),
        marker(9, ROLLOVER),
        marker(12, CLOSE),
        marker(15, ROLLOVER),  # after CLOSE: ignored
    ]
    shards = replay(1, 0.0, first, markers)
    table = {(s.slot, s.lo): (s.hi, s.parents, s.start, s.end) for s in shards}
    assert table == {
        (0, 1): (5, (), 0, 9),
        (1, 1): (9, (), 10, 19),
        (2, 5): (8, ((0, 1),), 0, 4),
        (3, 5): (8, ((0, 1),), 5, 9),
        (4, 8): (9, ((2, 5), (3, 5)), 0, 9),
        (1, 9): (12, ((1, 1),), 10, 19),
        (4, 9): (12, ((4, 8),), 0, 9),
    }
