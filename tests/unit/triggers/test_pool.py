"""The worker pool with real worker subprocesses: a crashed worker leaves no open pipe behind."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import uvloop

from headwater.clock import FakeClock
from headwater.triggers.pool import (
    InvocationResult,
    PoolFull,
    PoolLimits,
    ProcessBudget,
    WorkerPool,
    WorkerSpec,
)
from tests.waiting import wait_until_async

HANDLER = """
import os

def handler(event, context):
    if event.get("crash"):
        os._exit(7)
    return {"ok": True}
"""


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _spec(tmp_path: Path) -> WorkerSpec:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    return WorkerSpec(
        function_name="crashy",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:crashy",
        handler="app.handler",
        runtime="python3.11",
        code_dir=code,
        log_path=tmp_path / "crashy.log",
        timeout=30.0,
        memory_size=128,
        environment=(),
        key="1",
    )


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])  # the server runs on uvloop
def test_crashed_workers_leave_no_open_pipes(tmp_path: Path, loop: str) -> None:
    spec = _spec(tmp_path)

    async def scenario() -> None:
        pool = WorkerPool({"PATH": os.environ.get("PATH", "")}, sys.executable)
        ok = await pool.invoke(spec, b"{}")  # the loop's own fds exist before the baseline is taken
        assert ok.function_error is None
        pool.discard(spec.function_name)
        baseline = await _settled(lambda count: count >= 0)
        for _ in range(5):
            result = await pool.invoke(spec, b'{"crash": true}')
            assert result.function_error == "Unhandled"
            assert b"exit status 7" in result.payload
        # every crashed worker's pipes are closed (read side, write side): back to the baseline
        assert await _settled(lambda count: count <= baseline) <= baseline
        await pool.close()

    if loop == "uvloop":
        uvloop.run(scenario())
    else:
        asyncio.run(scenario())


async def _settled(done: Callable[[int], bool]) -> int:
    """The open-fd count once `done(count)` holds (closing a pipe transport takes a loop turn or two);
    the last count seen when it does not within the deadline."""
    deadline = time.monotonic() + 10.0
    count = _open_fds()
    while not done(count) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        count = _open_fds()
    return count


# Waits on a gate file named in the event, so a test holds an invocation as long as it needs.
GATED = """
import os, time

def handler(event, context):
    if event.get("started"):
        open(event["started"], "w").close()
    while event.get("gate") and not os.path.exists(event["gate"]):
        time.sleep(0.01)
    return {"pid": os.getpid()}
"""


def _function(tmp_path: Path, name: str, code: str = GATED) -> WorkerSpec:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "app.py").write_text(code)
    return WorkerSpec(
        function_name=name,
        function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        handler="app.handler",
        runtime="python3.11",
        code_dir=folder,
        log_path=tmp_path / f"{name}.log",
        timeout=60.0,
        memory_size=128,
        environment=(),
        key="1",
    )


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _pid(result: InvocationResult) -> int:
    assert result.function_error is None, result.payload
    pid: int = json.loads(result.payload)["pid"]
    return pid


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks processes up in /proc")
def test_the_cap_evicts_idle_workers_and_makes_busy_ones_wait(tmp_path: Path) -> None:
    first, second = _function(tmp_path, "first"), _function(tmp_path, "second")
    gate = tmp_path / "gate"

    async def scenario() -> None:
        pool = WorkerPool({"PATH": os.environ.get("PATH", "")}, limits=PoolLimits(max_workers=1))
        idle_pid = _pid(await pool.invoke(first, b"{}"))
        # the cap is reached by an idle worker: it makes way for another function's
        other_pid = _pid(await pool.invoke(second, b"{}"))
        assert pool.live == 1
        await wait_until_async(lambda: not _alive(idle_pid), what="the evicted worker gone")
        # the only worker busy: a caller that will not wait is refused, one that will waits for it
        started = tmp_path / "started"
        event = json.dumps({"gate": str(gate), "started": str(started)}).encode()
        held = asyncio.ensure_future(pool.invoke(second, event))
        await wait_until_async(started.exists, what="the handler running")
        with pytest.raises(PoolFull):
            await pool.invoke(first, b"{}", wait=False)
        waiting = asyncio.ensure_future(pool.invoke(first, b"{}"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert not waiting.done()  # it found no worker and waits for one
        gate.touch()
        assert _pid(await held) == other_pid
        _pid(await waiting)
        assert pool.live == 1
        await pool.close()

    asyncio.run(scenario())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks processes up in /proc")
def test_the_cap_counts_the_processes_of_every_namespace_pool(tmp_path: Path) -> None:
    """Two namespaces' pools share one budget: a worker of one counts against the other's starts, an
    idle one makes way for the other pool's, and a busy one makes the other's callers wait."""
    first, second = _function(tmp_path, "first"), _function(tmp_path, "second")
    gate = tmp_path / "gate"

    async def scenario() -> None:
        budget = ProcessBudget(1)
        env = {"PATH": os.environ.get("PATH", "")}
        east = WorkerPool(env, limits=PoolLimits(max_workers=1), budget=budget)
        west = WorkerPool(env, limits=PoolLimits(max_workers=1), budget=budget)
        idle_pid = _pid(await east.invoke(first, b"{}"))
        other_pid = _pid(await west.invoke(second, b"{}"))
        await wait_until_async(lambda: not _alive(idle_pid), what="the other pool's idle worker gone")
        assert (east.live, west.live, budget.live) == (0, 1, 1)
        started = tmp_path / "started"
        event = json.dumps({"gate": str(gate), "started": str(started)}).encode()
        held = asyncio.ensure_future(west.invoke(second, event))
        await wait_until_async(started.exists, what="the handler running")
        with pytest.raises(PoolFull):
            await east.invoke(first, b"{}", wait=False)
        waiting = asyncio.ensure_future(east.invoke(first, b"{}"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert not waiting.done()  # the other pool's worker is busy: it waits for it to be freed
        gate.touch()
        assert _pid(await held) == other_pid
        _pid(await waiting)
        assert budget.live == 1
        await east.close()
        await west.close()
        assert budget.pools == []

    asyncio.run(scenario())


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="looks processes up in /proc")
def test_idle_workers_exit_after_the_idle_timeout_of_the_clock(tmp_path: Path) -> None:
    spec = _function(tmp_path, "idle")
    clock = FakeClock()

    async def scenario() -> None:
        pool = WorkerPool(
            {"PATH": os.environ.get("PATH", "")}, limits=PoolLimits(idle_timeout=300.0), clock=clock
        )
        pid = _pid(await pool.invoke(spec, b"{}"))
        clock.advance(299.0)
        assert pool.reap_idle() == 0
        assert _pid(await pool.invoke(spec, b"{}")) == pid  # used again: idle from now on
        clock.advance(299.0)
        assert pool.reap_idle() == 0 and _alive(pid)
        clock.advance(1.0)
        assert pool.reap_idle() == 1
        assert pool.live == 0
        await wait_until_async(lambda: not _alive(pid), what="the idle worker gone")
        assert _pid(await pool.invoke(spec, b"{}")) != pid  # a fresh one
        await pool.close()

    asyncio.run(scenario())


def test_a_code_directory_is_in_use_while_a_worker_or_an_invocation_needs_it(tmp_path: Path) -> None:
    spec = _function(tmp_path, "using")
    gate = tmp_path / "gate"
    changes: list[int] = []

    async def scenario() -> None:
        pool = WorkerPool({"PATH": os.environ.get("PATH", "")}, on_change=lambda: changes.append(1))
        assert not pool.uses(spec.code_dir)
        held = asyncio.ensure_future(pool.invoke(spec, json.dumps({"gate": str(gate)}).encode()))
        await wait_until_async(lambda: pool.uses(spec.code_dir), what="in use")
        pool.discard("using")  # replaced: the busy worker stops once it is done
        assert pool.uses(spec.code_dir)
        gate.touch()
        await held
        await wait_until_async(lambda: not pool.uses(spec.code_dir), what="no longer used")
        assert changes  # whoever waits to delete the directory was told
        await pool.close()

    asyncio.run(scenario())
