"""The mapping runner against an in-memory stream and a fake invoker (no subprocesses)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from headwater.clock import Clock, SystemClock
from headwater.triggers.esm import MappingRunner, RunnerSettings
from headwater.triggers.model import MappingConfig
from headwater.triggers.pool import InvocationResult
from headwater.triggers.state import CHECKPOINT_KIND, MemoryStateStore
from tests.waiting import wait_until_async

from .fakes import ARN, FakeStreams

FAST = RunnerSettings(poll_interval=0.005, retry_delay=0.001, max_retry_delay=0.01, shard_refresh=0.01)


class Invoker:
    def __init__(self, fail_when: Any = None) -> None:
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []  # whole payloads: tumbling-window fields
        self.fail_when = fail_when

    async def __call__(self, function_name: str, payload: bytes) -> InvocationResult:
        event = orjson.loads(payload)
        pks = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        self.batches.append(pks)
        self.events.append(event)
        failed = self.fail_when is not None and self.fail_when(pks)
        return InvocationResult(
            f"req-{len(self.batches)}", b"null", "Unhandled" if failed else None, None, 1.0
        )


async def run_until(
    config: MappingConfig,
    fake: FakeStreams,
    invoker: Invoker,
    done: Any,
    state: MemoryStateStore | None = None,
    clock: Clock | None = None,
) -> list[dict[str, Any]]:
    discarded: list[dict[str, Any]] = []

    async def discard(mapping: MappingConfig, record: dict[str, Any]) -> None:
        discarded.append(record)

    runner = MappingRunner(
        config,
        transport=fake,
        state=state or MemoryStateStore(),
        invoke=invoker,
        discard=discard,
        function_arn=lambda name: f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        settings=FAST,
        clock=clock or SystemClock(),
    )
    task = asyncio.get_running_loop().create_task(runner.run())
    try:
        await wait_until_async(lambda: done(invoker, discarded), what="the expected invocations")
    except AssertionError as err:
        raise AssertionError(f"{err}: batches {invoker.batches}, discarded {discarded}") from None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return discarded


def mapping(**extra: Any) -> MappingConfig:
    return MappingConfig(
        uuid="m-1", function_name="f", event_source_arn=ARN, starting_position="TRIM_HORIZON", **extra
    )


def test_records_older_than_the_maximum_age_are_discarded_without_invoking() -> None:
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "ancient", created=time.time() - 3600)
    fake.write("shardId-1", "fresh")
    invoker = Invoker()
    discarded = asyncio.run(
        run_until(mapping(maximum_record_age=60), fake, invoker, lambda inv, d: inv.batches and d)
    )
    assert invoker.batches == [["fresh"]]
    assert discarded[0]["requestContext"]["condition"] == "RecordAgeExceeded"
    assert discarded[0]["requestContext"]["approximateInvokeCount"] == 0
    assert discarded[0]["DDBStreamBatchInfo"]["batchSize"] == 1
    assert "responseContext" not in discarded[0]


def test_retries_are_counted_per_batch_and_the_shard_moves_on() -> None:
    fake = FakeStreams()
    fake.shard("shardId-1")
    for pk in ("a", "bad", "c"):
        fake.write("shardId-1", pk)
    invoker = Invoker(lambda pks: "bad" in pks)
    discarded = asyncio.run(
        run_until(
            mapping(batch_size=1, maximum_retry_attempts=3),
            fake,
            invoker,
            lambda inv, d: ["c"] in inv.batches,
        )
    )
    assert invoker.batches == [["a"], ["bad"], ["bad"], ["bad"], ["bad"], ["c"]]
    assert discarded[0]["requestContext"]["approximateInvokeCount"] == 4


def test_checkpoint_lands_after_the_last_successful_batch_and_past_filtered_records() -> None:
    fake = FakeStreams()
    fake.shard("shardId-1")
    fake.write("shardId-1", "a")
    last = fake.write("shardId-1", "skipped")
    state = MemoryStateStore()
    config = mapping(filters=('{"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}',))
    invoker = Invoker()

    def done(inv: Invoker, _: Any) -> bool:
        return (
            bool(inv.batches) and state._docs.get((CHECKPOINT_KIND, "m-1/shardId-1"), {}).get("seq") == last
        )

    asyncio.run(run_until(config, fake, invoker, done, state))
    assert invoker.batches == [["a"]]


def test_closed_parent_is_finished_before_the_child_is_read() -> None:
    fake = FakeStreams()
    parent = fake.shard("shardId-1")
    fake.write("shardId-1", "p")
    parent.closed = True
    fake.shard("shardId-2", parent="shardId-1")
    fake.write("shardId-2", "c")
    invoker = Invoker()
    asyncio.run(run_until(mapping(), fake, invoker, lambda inv, d: len(inv.batches) == 2))
    assert invoker.batches == [["p"], ["c"]]
