"""The worker pool with real worker subprocesses: a crashed worker leaves no open pipe behind."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import uvloop

from headwater.triggers.pool import WorkerPool, WorkerSpec

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
