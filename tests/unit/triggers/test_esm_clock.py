"""Time in the mapping runner comes from the project's clock: batching windows, tumbling-window
boundaries and the maximum record age, tested with a fake clock that moves only when told to.

No test sleeps. "Nothing happened yet" is checked after the runner provably looked again: each
GetRecords call starts a new pass of the shard loop, and a pass invokes before it fetches again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from headwater.clock import FakeClock
from headwater.triggers.esm import MappingRunner
from headwater.triggers.model import MappingConfig
from headwater.triggers.state import MemoryStateStore
from tests.waiting import wait_until_async

from .fakes import FakeStreams
from .test_esm_runner import FAST, Invoker, mapping

W = 1_700_000_010.0  # a multiple of 30: the start of a 30-second tumbling window (2023-11-14T22:13:30Z)


@asynccontextmanager
async def running(
    config: MappingConfig, fake: FakeStreams, invoker: Invoker, clock: FakeClock
) -> AsyncIterator[list[dict[str, Any]]]:
    """The runner at work for the block; yields the failure records it discards."""
    discarded: list[dict[str, Any]] = []

    async def discard(mapping: MappingConfig, record: dict[str, Any]) -> None:
        discarded.append(record)

    runner = MappingRunner(
        config,
        transport=fake,
        state=MemoryStateStore(),
        invoke=invoker,
        discard=discard,
        function_arn=lambda name: f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        settings=FAST,
        clock=clock,
    )
    task = asyncio.get_running_loop().create_task(runner.run())
    try:
        yield discarded
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def looked_again(fake: FakeStreams, passes: int = 2) -> None:
    """Returns once the runner has made `passes` more GetRecords calls: every decision the clock's
    current time calls for (an invocation included) has been taken by then."""
    target = fake.calls.count("GetRecords") + passes
    await wait_until_async(lambda: fake.calls.count("GetRecords") >= target, what="the runner's next polls")


def test_batching_window_holds_records_until_it_elapses_on_the_clock() -> None:
    clock = FakeClock(W)
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "a", created=W)
    fake.write("shardId-1", "b", created=W)
    invoker = Invoker()

    async def main() -> None:
        async with running(mapping(batch_size=100, maximum_batching_window=300), fake, invoker, clock):
            await wait_until_async(lambda: fake.calls.count("GetRecords") >= 1, what="the first read")
            await looked_again(fake)
            fake.write("shardId-1", "c", created=W)
            clock.advance(299.5)
            await looked_again(fake)
            assert invoker.batches == []  # 299.5 s into a 300 s window: still collecting
            clock.advance(0.5)
            await wait_until_async(lambda: invoker.batches, what="the window's batch")
            await looked_again(fake)
            assert invoker.batches == [["a", "b", "c"]]

    asyncio.run(main())


def test_batching_window_restarts_with_the_first_record_after_a_batch() -> None:
    clock = FakeClock(W)
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "a", created=W)
    invoker = Invoker()

    async def main() -> None:
        async with running(mapping(batch_size=100, maximum_batching_window=100), fake, invoker, clock):
            await looked_again(fake)
            clock.advance(100)
            await wait_until_async(lambda: invoker.batches == [["a"]], what="the first batch")
            clock.advance(70)
            fake.write("shardId-1", "b", created=clock.now())
            await looked_again(fake)
            clock.advance(50)  # 120 s after the first window ended, 50 s after b arrived
            await looked_again(fake)
            assert invoker.batches == [["a"]]
            clock.advance(50)
            await wait_until_async(lambda: invoker.batches == [["a"], ["b"]], what="the second batch")

    asyncio.run(main())


def test_a_full_batch_does_not_wait_for_the_window() -> None:
    clock = FakeClock(W)
    fake = FakeStreams()
    fake.shard("shardId-1")
    for pk in ("a", "b", "c"):
        fake.write("shardId-1", pk, created=W)
    invoker = Invoker()

    async def main() -> None:
        async with running(mapping(batch_size=2, maximum_batching_window=300), fake, invoker, clock):
            await wait_until_async(lambda: invoker.batches == [["a", "b"]], what="the full batch")
            await looked_again(fake)
            assert invoker.batches == [["a", "b"]]  # c waits for its window
            clock.advance(300)
            await wait_until_async(lambda: invoker.batches == [["a", "b"], ["c"]], what="the rest")

    asyncio.run(main())


def window(event: dict[str, Any]) -> tuple[list[str], str, str, bool]:
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    return keys, event["window"]["start"], event["window"]["end"], event["isFinalInvokeForWindow"]


def test_tumbling_windows_split_records_by_their_creation_time() -> None:
    clock = FakeClock(W + 30)
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "first", created=W)
    fake.write("shardId-1", "last", created=W + 29)
    fake.write("shardId-1", "next", created=W + 30)  # a window's end belongs to the next window
    invoker = Invoker()

    async def main() -> None:
        async with running(mapping(tumbling_window=30), fake, invoker, clock):
            await wait_until_async(lambda: len(invoker.events) >= 3, what="three invocations")
            await looked_again(fake)
            assert [window(e) for e in invoker.events] == [
                (["first", "last"], "2023-11-14T22:13:30Z", "2023-11-14T22:14:00Z", False),
                ([], "2023-11-14T22:13:30Z", "2023-11-14T22:14:00Z", True),
                (["next"], "2023-11-14T22:14:00Z", "2023-11-14T22:14:30Z", False),
            ]

    asyncio.run(main())


def test_a_tumbling_window_closes_when_the_clock_reaches_its_end() -> None:
    clock = FakeClock(W + 5)
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "a", created=W + 5)
    invoker = Invoker()

    async def main() -> None:
        async with running(mapping(tumbling_window=30), fake, invoker, clock):
            await wait_until_async(lambda: invoker.batches == [["a"]], what="the window's records")
            clock.set(W + 29.5)
            await looked_again(fake)
            assert [e["isFinalInvokeForWindow"] for e in invoker.events] == [False]
            clock.set(W + 30)
            await wait_until_async(lambda: len(invoker.events) == 2, what="the final invocation")
            final = invoker.events[1]
            assert window(final) == ([], "2023-11-14T22:13:30Z", "2023-11-14T22:14:00Z", True)
            assert final["isWindowTerminatedEarly"] is False
            await looked_again(fake)
            assert len(invoker.events) == 2  # one final invocation per window

    asyncio.run(main())


def test_records_older_than_the_maximum_age_are_discarded_at_the_boundary() -> None:
    clock = FakeClock(W)
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "too-old", created=W - 61)
    fake.write("shardId-1", "just-in-time", created=W - 60)
    invoker = Invoker()

    async def main() -> list[dict[str, Any]]:
        async with running(mapping(maximum_record_age=60), fake, invoker, clock) as discarded:
            await wait_until_async(lambda: invoker.batches and discarded, what="a batch and a discard")
            return discarded

    discarded = asyncio.run(main())
    assert invoker.batches == [["just-in-time"]]
    assert [r["DDBStreamBatchInfo"]["batchSize"] for r in discarded] == [1]
    assert discarded[0]["requestContext"]["condition"] == "RecordAgeExceeded"
    assert discarded[0]["requestContext"]["approximateInvokeCount"] == 0


def test_a_retried_record_ages_out_when_the_clock_passes_the_maximum_age() -> None:
    clock = FakeClock(W)
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "stuck", created=W)
    invoker = Invoker(lambda pks: True)  # fails every time; retried forever (MaximumRetryAttempts -1)

    async def main() -> list[dict[str, Any]]:
        async with running(mapping(maximum_record_age=60), fake, invoker, clock) as discarded:
            await wait_until_async(lambda: len(invoker.batches) >= 3, what="a few retries")
            assert discarded == []
            clock.advance(60)  # exactly the maximum age: still young enough
            attempts = len(invoker.batches)
            await wait_until_async(lambda: len(invoker.batches) >= attempts + 2, what="more retries")
            assert discarded == []
            clock.advance(1)
            await wait_until_async(lambda: discarded, what="the aged-out record")
            return discarded

    discarded = asyncio.run(main())
    context = discarded[0]["requestContext"]
    assert context["condition"] == "RecordAgeExceeded"
    assert context["approximateInvokeCount"] == len(invoker.batches)
    assert discarded[0]["responseContext"]["functionError"] == "Unhandled"
