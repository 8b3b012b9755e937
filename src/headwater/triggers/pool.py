"""Warm handler workers: one subprocess per concurrent invocation of a function, reused between
invocations, killed on timeout, replaced after a crash or when the code or configuration changes.

At most `max_workers` processes live at once (`--max-workers`, counted over every namespace's pool by
their shared `ProcessBudget`): a new one first stops the longest-idle worker of any function of any
pool; when every worker is busy, a caller that may wait (an asynchronous invocation, an event source
mapping) waits for one, and a synchronous Invoke is refused (`PoolFull`, a throttle). A
worker idle for `idle_timeout` seconds of the clock (`--worker-idle-timeout`) exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..clock import Clock, SystemClock
from ..config import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_WORKERS
from .worker_process import Worker, WorkerSpec, start_worker
from .worker_user import WorkerUser

log = logging.getLogger(__name__)

MAX_IDLE_PER_FUNCTION: Final = 8

__all__ = ["InvocationResult", "PoolFull", "PoolLimits", "WorkerPool", "WorkerSpec", "code_fingerprint"]


@dataclass(frozen=True, slots=True)
class PoolLimits:
    max_workers: int = DEFAULT_MAX_WORKERS
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT


@dataclass(frozen=True, slots=True)
class InvocationResult:
    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the handler raised, timed out or crashed
    log_tail: str | None
    duration_ms: float
    throttled: bool = False  # never ran: no concurrency for it within the caller's patience


class PoolFull(Exception):
    """Every one of the `max_workers` processes is busy and the caller would not wait."""


class ProcessBudget:
    """The server-wide cap on handler processes, shared by the pools of every namespace: how many live,
    the pools that hold them (to stop the longest-idle one of any pool), and a wake-up for waiters."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self.live = 0
        self.pools: list[WorkerPool] = []
        self.freed = asyncio.Event()

    def wake(self) -> None:
        """Callers waiting for a worker, in any pool, look again (one was freed, or became idle)."""
        event, self.freed = self.freed, asyncio.Event()
        event.set()

    def longest_idle(self) -> tuple[WorkerPool, Worker] | None:
        idle = [(pool, w) for pool in self.pools for workers in pool._idle.values() for w in workers]
        return min(idle, key=lambda entry: entry[1].idle_since) if idle else None


class WorkerPool:
    def __init__(
        self,
        base_env: dict[str, str],
        python: str = sys.executable,
        *,
        limits: PoolLimits | None = None,
        clock: Clock | None = None,
        user: WorkerUser | None = None,
        on_change: Callable[[], None] | None = None,
        budget: ProcessBudget | None = None,
    ) -> None:
        self._python = python
        self._base_env = base_env
        self.limits = limits or PoolLimits()
        self._clock = clock or SystemClock()
        self._user = user
        self._on_change = on_change  # a worker exited or an invocation ended (code directories freed)
        self._idle: dict[str, list[Worker]] = {}
        self._busy: set[Worker] = set()
        self._live = 0  # this pool's processes: starting, idle and busy
        self._budget = budget or ProcessBudget(self.limits.max_workers)
        self._budget.pools.append(self)
        self._generations: dict[str, int] = {}
        self._using: Counter[Path] = Counter()  # code directories of invocations and starts under way
        self._waiters: set[asyncio.Task[None]] = set()
        self._starting: dict[tuple[str, str], asyncio.Task[Worker]] = {}
        self._reaper: asyncio.Task[None] | None = None

    # capacity -----------------------------------------------------------------------------------

    @property
    def live(self) -> int:
        return self._live

    def workers(self) -> list[Worker]:
        """Every started worker, idle or busy."""
        return [*self._busy, *(w for idle in self._idle.values() for w in idle)]

    def uses(self, code_dir: Path) -> bool:
        """Whether a worker, or an invocation or start under way, needs this code directory."""
        return self._using[code_dir] > 0 or any(w.spec.code_dir == code_dir for w in self.workers())

    def _room(self) -> None:
        """Count one more process: below the cap, or in the place of the longest-idle worker; PoolFull
        when every worker is busy."""
        budget = self._budget
        while budget.live >= budget.max_workers:
            found = budget.longest_idle()
            if found is None:
                raise PoolFull()
            pool, oldest = found
            pool._idle[oldest.spec.function_name].remove(oldest)
            pool._reap(oldest)
        self._live += 1
        budget.live += 1

    def _free(self) -> None:
        self._live -= 1
        self._budget.live -= 1
        self._wake()

    def _wake(self) -> None:
        self._budget.wake()

    async def _spawn(self, spec: WorkerSpec) -> Worker:
        self._room()
        generation = self._generations.get(spec.function_name, 0)
        self._using[spec.code_dir] += 1
        try:
            return await start_worker(spec, self._python, self._base_env, self._user, generation)
        except BaseException:
            self._free()
            raise
        finally:
            self._unuse(spec.code_dir)

    def _unuse(self, code_dir: Path) -> None:
        self._using[code_dir] -= 1
        if self._using[code_dir] <= 0:
            del self._using[code_dir]
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # idle workers -------------------------------------------------------------------------------

    def _take_idle(self, spec: WorkerSpec) -> Worker | None:
        idle = self._idle.get(spec.function_name, [])
        while idle:
            worker = idle.pop()
            if worker.alive and worker.key == spec.key:
                return worker
            self._reap(worker)
        return None

    def _reap(self, worker: Worker) -> None:
        """The worker is done for (killed now); it no longer counts against the cap."""
        worker.kill()
        if not worker.gone:
            worker.gone = True
            self._free()
            self._later(worker.wait())

    def _retire(self, worker: Worker) -> None:
        """An idle worker past its idle timeout: asked to exit, killed if it lingers."""
        if not worker.gone:
            worker.gone = True
            self._free()
            self._later(worker.stop())

    def _later(self, waiting: Coroutine[Any, Any, object]) -> None:
        async def run() -> None:
            with contextlib.suppress(Exception):
                await waiting
            self._changed()

        task = asyncio.get_running_loop().create_task(run())
        self._waiters.add(task)
        task.add_done_callback(self._waiters.discard)

    def _release(self, spec: WorkerSpec, worker: Worker) -> None:
        self._busy.discard(worker)
        idle = self._idle.setdefault(spec.function_name, [])
        current = worker.generation == self._generations.get(spec.function_name, 0)
        if worker.alive and current and len(idle) < MAX_IDLE_PER_FUNCTION:
            worker.idle_since = self._clock.now()
            idle.append(worker)
            self._wake()
        else:
            self._reap(worker)

    def reap_idle(self) -> int:
        """Stop every worker idle for `idle_timeout` or longer; how many."""
        deadline = self._clock.now() - self.limits.idle_timeout
        stopped = 0
        for name, idle in list(self._idle.items()):
            keep = [w for w in idle if w.idle_since > deadline and w.alive]
            for worker in idle:
                if worker not in keep:
                    self._retire(worker)
                    stopped += 1
            if keep:
                self._idle[name] = keep
            else:
                del self._idle[name]
        return stopped

    def start(self) -> None:
        """Run the idle reaper (the event loop must be running)."""
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        # often enough that a worker outlives its timeout by a quarter of it at most (30 s at most)
        interval = max(0.05, min(self.limits.idle_timeout / 4, 30.0))
        while True:
            await asyncio.sleep(interval)
            try:
                self.reap_idle()
            except Exception:
                log.exception("stopping idle workers failed")

    # invocations --------------------------------------------------------------------------------

    async def prewarm(self, spec: WorkerSpec) -> None:
        """Start a worker ahead of the first invocation (mappings do, so the first batch is not cold);
        an invocation arriving meanwhile takes this worker instead of starting another. Nothing happens
        when every worker is busy."""
        idle = self._idle.setdefault(spec.function_name, [])
        slot = (spec.function_name, spec.key)
        if any(w.alive and w.key == spec.key for w in idle) or slot in self._starting:
            return
        task = asyncio.get_running_loop().create_task(self._spawn(spec))
        self._starting[slot] = task
        try:
            worker = await asyncio.shield(task)
        except (OSError, PoolFull):
            self._starting.pop(slot, None)
            return
        if self._starting.get(slot) is task:  # nobody took it while it started: it waits idle
            del self._starting[slot]
            self._release(spec, worker)

    async def _acquire(self, spec: WorkerSpec, wait: bool) -> Worker:
        while True:
            worker = self._take_idle(spec)
            if worker is not None:
                return worker
            starting = self._starting.pop((spec.function_name, spec.key), None)
            if starting is not None:
                with contextlib.suppress(OSError, PoolFull):
                    return await asyncio.shield(starting)
                continue
            try:
                return await self._spawn(spec)
            except PoolFull:
                if not wait:
                    raise
            await self._budget.freed.wait()  # nothing awaited since the check: no wake-up can be missed

    def discard(self, function_name: str) -> None:
        """The function's code or configuration changed, or it was deleted: its idle workers stop now,
        its busy and starting ones when they finish."""
        self._generations[function_name] = self._generations.get(function_name, 0) + 1
        for worker in self._idle.pop(function_name, []):
            self._reap(worker)

    async def invoke(
        self,
        spec: WorkerSpec,
        payload: bytes,
        *,
        request_id: str | None = None,
        tail: bool = False,
        wait: bool = True,
    ) -> InvocationResult:
        """Run one invocation. `wait=False`: PoolFull rather than waiting for a worker."""
        self._using[spec.code_dir] += 1
        try:
            return await self._invoke(spec, payload, request_id or str(uuid.uuid4()), tail, wait)
        finally:
            self._unuse(spec.code_dir)

    async def _invoke(
        self, spec: WorkerSpec, payload: bytes, request_id: str, tail: bool, wait: bool
    ) -> InvocationResult:
        started = time.monotonic()
        worker = self._take_idle(spec)
        if worker is None:
            try:
                worker = await self._acquire(spec, wait)
            except OSError as exc:
                failure = ("Runtime.ExitError", f"Runtime exited without providing a reason: {exc}")
                return self._failed(spec, request_id, started, failure, tail)
            started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + spec.timeout * 1000)
        self._busy.add(worker)
        header = {"id": request_id, "deadline_ms": deadline_ms, "arn": spec.function_arn, "tail": tail}
        header["len"] = len(payload)
        try:
            response, body = await asyncio.wait_for(
                self._exchange(worker, json.dumps(header).encode() + b"\n" + payload), spec.timeout
            )
        except TimeoutError:
            self._busy.discard(worker)
            self._reap(worker)
            return self._failed(spec, request_id, started, _timeout_error(spec), tail)
        except (OSError, EOFError, asyncio.IncompleteReadError, ValueError):
            self._busy.discard(worker)
            code = await worker.wait(2.0)
            self._reap(worker)
            return self._failed(spec, request_id, started, _exit_error(code), tail)
        self._release(spec, worker)
        duration = (time.monotonic() - started) * 1000
        error = "Unhandled" if response.get("error") else None
        tail_text = response.get("log")
        return InvocationResult(
            request_id, body, error, tail_text if isinstance(tail_text, str) else None, duration
        )

    @staticmethod
    async def _exchange(worker: Worker, message: bytes) -> tuple[dict[str, object], bytes]:
        worker.writer.write(message)
        await worker.writer.drain()
        line = await worker.reader.readline()
        if not line:
            raise EOFError
        response = json.loads(line)
        body = await worker.reader.readexactly(int(response["len"]))
        return response, body

    def _failed(
        self, spec: WorkerSpec, request_id: str, started: float, message: tuple[str, str], tail: bool
    ) -> InvocationResult:
        kind, text = message
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        duration = (time.monotonic() - started) * 1000
        lines = (
            f"{stamp} {request_id} {text}\n"
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: "
            f"{max(1, int(duration + 0.999))} ms\tMemory Size: {spec.memory_size} MB\tMax Memory Used: 0 MB\n"
        )
        with contextlib.suppress(OSError), open(spec.log_path, "a", encoding="utf-8") as out:
            out.write(lines)
        body = json.dumps({"errorType": kind, "errorMessage": f"RequestId: {request_id} Error: {text}"})
        return InvocationResult(request_id, body.encode(), "Unhandled", lines if tail else None, duration)

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        for name in list(self._idle):
            self.discard(name)
        for worker in list(self._busy):
            self._busy.discard(worker)
            self._reap(worker)
        while self._waiters:
            await asyncio.gather(*self._waiters, return_exceptions=True)
        if self in self._budget.pools:
            self._budget.pools.remove(self)


def _timeout_error(spec: WorkerSpec) -> tuple[str, str]:
    return "Sandbox.Timedout", f"Task timed out after {spec.timeout:.2f} seconds"


def _exit_error(code: int | None) -> tuple[str, str]:
    if code is not None and code < 0:
        return "Runtime.ExitError", f"Runtime exited with error: signal: {-code}"
    return "Runtime.ExitError", f"Runtime exited with error: exit status {code if code is not None else 1}"


def code_fingerprint(directory: Path, limit: int = 5000) -> str:
    """Changes whenever a file under `directory` changes (hot reload of local-directory functions)."""
    import hashlib
    import os

    parts: list[str] = []
    stack = [str(directory)]
    seen = 0
    while stack and seen < limit:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if entry.name in ("__pycache__", ".git", ".venv", "node_modules") or entry.name.startswith(".#"):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    st = entry.stat()
                    parts.append(f"{entry.path}:{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                continue
    parts.sort()
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()
