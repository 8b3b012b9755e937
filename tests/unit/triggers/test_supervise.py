"""A mapping runner that crashes is logged, says so in LastProcessingResult and starts again after a
growing delay (the delays go through an injected sleep: nothing here waits for real)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from headwater.clock import FakeClock, SystemClock
from headwater.triggers.esm import MappingRunner, RunnerSettings
from headwater.triggers.model import MappingConfig
from headwater.triggers.pool import InvocationResult
from headwater.triggers.state import MemoryStateStore
from headwater.triggers.supervise import Backoff, supervise

from .fakes import ARN, FakeStreams


class BrokenStreams(FakeStreams):
    """DescribeStream hits a bug (not a Streams error) the first `failures` times."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def describe_stream(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("a bug in the poller")
        return await super().describe_stream(request)


def _runner(transport: FakeStreams, invoked: asyncio.Event) -> MappingRunner:
    async def invoke(function_name: str, payload: bytes) -> InvocationResult:
        invoked.set()
        return InvocationResult("req-1", b"null", None, None, 1.0)

    async def discard(mapping: MappingConfig, record: dict[str, Any]) -> None:
        raise AssertionError("nothing is discarded")

    config = MappingConfig(
        uuid="m-1", function_name="f", event_source_arn=ARN, starting_position="TRIM_HORIZON"
    )
    return MappingRunner(
        config,
        transport=transport,
        state=MemoryStateStore(),
        invoke=invoke,
        discard=discard,
        function_arn=lambda name: f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        settings=RunnerSettings(poll_interval=0.005, shard_refresh=0.01),
        clock=SystemClock(),
    )


def test_a_crashed_runner_is_restarted_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    fake = BrokenStreams(failures=4)
    fake.shard("shardId-1")
    fake.write("shardId-1", "a")
    delays: list[float] = []
    results: list[str] = []

    async def scenario() -> None:
        invoked = asyncio.Event()
        runner = _runner(fake, invoked)

        async def sleep(seconds: float) -> None:
            delays.append(seconds)
            results.append(runner.last_result)

        task = asyncio.ensure_future(
            supervise(runner, backoff=Backoff(1.0, 3.0), clock=FakeClock(), sleep=sleep)
        )
        await asyncio.wait_for(invoked.wait(), 30)  # it got going after the crashes
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with caplog.at_level(logging.ERROR, logger="headwater.triggers.supervise"):
        asyncio.run(scenario())
    assert delays == [1.0, 2.0, 3.0, 3.0]
    assert results == ["PROBLEM: Internal error: a bug in the poller. Restarting."] * 4
    assert [r.message for r in caplog.records].count(
        "event source mapping m-1 failed; restarting it in 3.0 s"
    ) == 2


def test_a_runner_that_ran_long_before_crashing_starts_over_from_the_first_delay() -> None:
    clock = FakeClock()
    delays: list[float] = []

    class Flaky:
        name = "m-2"
        last_result = "OK"
        runs = 0

        async def run(self) -> None:
            self.runs += 1
            if self.runs == 3:
                clock.advance(120)  # a long healthy stretch before the next crash
            if self.runs == 4:
                return
            raise ValueError("boom")

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    asyncio.run(supervise(Flaky(), backoff=Backoff(1.0, 60.0), clock=clock, sleep=sleep))
    assert delays == [1.0, 2.0, 1.0]
