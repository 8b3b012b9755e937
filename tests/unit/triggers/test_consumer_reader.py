from __future__ import annotations

import asyncio

from headwater.consumer import (
    MemoryCheckpoints,
    Shard,
    ShardCheckpoint,
    ShardCursor,
    StreamReader,
    ready_shards,
    resolve_latest,
)

from .fakes import ARN, FakeStreams


def pks(records: list[tuple[str, dict[str, object]]]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for _, r in records]  # type: ignore[index]


async def read_all(reader: StreamReader) -> list[tuple[str, dict[str, object]]]:
    return [pair async for pair in reader.records(follow=False)]


def test_parents_are_read_before_children_in_lexicographic_order() -> None:
    fake = FakeStreams()
    parent = fake.shard("shardId-0001")
    child_b = fake.shard("shardId-0003", parent="shardId-0001")
    child_a = fake.shard("shardId-0002", parent="shardId-0001")
    fake.write("shardId-0001", "p1")
    fake.write("shardId-0001", "p2")
    parent.closed = True
    fake.write("shardId-0003", "b1")
    fake.write("shardId-0002", "a1")
    child_a.closed = child_b.closed = True
    reader = StreamReader(fake, ARN, MemoryCheckpoints())
    got = asyncio.run(read_all(reader))
    assert pks(got) == ["p1", "p2", "a1", "b1"]
    assert [shard for shard, _ in got] == ["shardId-0001", "shardId-0001", "shardId-0002", "shardId-0003"]


def test_ready_shards_waits_for_unfinished_parents_and_ignores_trimmed_ones() -> None:
    shards = [
        Shard("shardId-2", "shardId-1", "0", None),
        Shard("shardId-1", None, "0", "9"),
        Shard("shardId-4", "shardId-gone", "0", None),
    ]
    assert [s.shard_id for s in ready_shards(shards, {})] == ["shardId-1", "shardId-4"]
    done = {"shardId-1": ShardCheckpoint("9", finished=True)}
    assert [s.shard_id for s in ready_shards(shards, done)] == ["shardId-2", "shardId-4"]


def test_checkpoints_resume_after_the_last_record() -> None:
    fake = FakeStreams()
    fake.shard("shardId-1")
    for pk in ("a", "b"):
        fake.write("shardId-1", pk)
    checkpoints = MemoryCheckpoints()
    assert pks(asyncio.run(read_all(StreamReader(fake, ARN, checkpoints)))) == ["a", "b"]
    fake.write("shardId-1", "c")
    assert pks(asyncio.run(read_all(StreamReader(fake, ARN, checkpoints)))) == ["c"]


def test_expired_iterator_is_reacquired_after_the_last_sequence_number() -> None:
    fake = FakeStreams()
    fake.shard("shardId-1")
    first = fake.write("shardId-1", "a")

    async def scenario() -> list[str]:
        cursor = ShardCursor(fake, ARN, "shardId-1", ShardCheckpoint())
        page = await cursor.next_page()
        assert cursor.last_sequence == first
        fake.write("shardId-1", "b")
        fake.expire_next = 1
        page2 = await cursor.next_page()
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in page.records + page2.records]

    assert asyncio.run(scenario()) == ["a", "b"]
    assert "GetShardIterator:AFTER_SEQUENCE_NUMBER" in fake.calls


def test_trimmed_position_restarts_at_trim_horizon_and_says_so() -> None:
    fake = FakeStreams()
    shard = fake.shard("shardId-1")
    old = fake.write("shardId-1", "old")
    fake.write("shardId-1", "kept")
    shard.trimmed_below = int(old) + 1

    async def scenario() -> tuple[list[str], bool]:
        cursor = ShardCursor(fake, ARN, "shardId-1", ShardCheckpoint(sequence_number=str(int(old) - 5)))
        page = await cursor.next_page()
        return [r["dynamodb"]["Keys"]["pk"]["S"] for r in page.records], page.trimmed

    assert asyncio.run(scenario()) == (["kept"], True)


def test_closed_shard_ends_the_cursor() -> None:
    fake = FakeStreams()
    shard = fake.shard("shardId-1")
    fake.write("shardId-1", "a")
    shard.closed = True

    async def scenario() -> tuple[bool, bool]:
        cursor = ShardCursor(fake, ARN, "shardId-1", ShardCheckpoint())
        page = await cursor.next_page()
        return page.ended, cursor.ended

    assert asyncio.run(scenario()) == (True, True)


def test_resolve_latest_marks_closed_shards_done_and_pins_open_ones() -> None:
    fake = FakeStreams()
    closed = fake.shard("shardId-1")
    fake.write("shardId-1", "old")
    closed.closed = True
    fake.shard("shardId-2", parent="shardId-1")
    fake.write("shardId-2", "before")

    async def scenario() -> list[str]:
        checkpoints = await resolve_latest(fake, ARN)
        assert checkpoints["shardId-1"].finished
        fake.write("shardId-2", "after")
        store = MemoryCheckpoints()
        for shard_id, cp in checkpoints.items():
            await store.save(ARN, shard_id, cp)
        return pks(await read_all(StreamReader(fake, ARN, store)))

    assert asyncio.run(scenario()) == ["after"]
