"""Closed-loop load: N keep-alive clients, each sending its next request as soon as the last one answers.

A `Workload` hands every client a `Session` that renders requests and judges successful answers.  The
clients can be spread over several forked processes (`procs`) so one Python core is not the ceiling.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from array import array
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any, Protocol, TypeVar

import uvloop

from bench import cpu
from bench.lag import percentile
from bench.wire import UNKNOWN_OPERATION, Connection, Endpoint, error_type, now

MAX_ERROR_SAMPLES = 5
T = TypeVar("T")


class Session(Protocol):
    """One client's request stream."""

    def next_request(self) -> bytes: ...

    def on_success(self, body: bytes) -> int | str:
        """Items the answer covered, or the name of what was wrong with it (`ItemMissing`...)."""
        ...

    def on_failure(self) -> None: ...

    def report(self) -> dict[str, Any]:
        """Picklable state handed back to the phase (keys written, miss counters...)."""
        ...


class Workload(Protocol):
    def session(self, client_id: int) -> Session: ...


@dataclass(slots=True)
class LoadResult:
    duration: float
    ok: int = 0  # successful requests completed inside the measured window
    items: int = 0
    ok_total: int = 0  # including warm-up
    items_total: int = 0
    failed_total: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # by error __type, warm-up included
    error_samples: list[str] = field(default_factory=list)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    reports: list[dict[str, Any]] = field(default_factory=list)
    connects: int = 0
    unsupported: bool = False
    generator_cpu: float = 0.0  # CPU seconds of the generator process(es) in the measured window
    server_cpu: float | None = None  # of the server's process tree, when its pid is known

    def merge(self, other: LoadResult) -> None:
        self.ok += other.ok
        self.items += other.items
        self.ok_total += other.ok_total
        self.items_total += other.items_total
        self.failed_total += other.failed_total
        self.errors.update(other.errors)
        room = MAX_ERROR_SAMPLES - len(self.error_samples)
        self.error_samples.extend(other.error_samples[: max(0, room)])
        self.latencies.extend(other.latencies)
        self.reports.extend(other.reports)
        self.connects += other.connects
        self.unsupported = self.unsupported or other.unsupported
        self.generator_cpu += other.generator_cpu
        if other.server_cpu is not None:
            self.server_cpu = other.server_cpu

    @property
    def rate(self) -> float:
        return self.ok / self.duration if self.duration > 0 else 0.0

    @property
    def item_rate(self) -> float:
        return self.items / self.duration if self.duration > 0 else 0.0

    def cpu_us_per_request(self, seconds: float | None) -> float | None:
        return None if seconds is None or not self.ok else seconds / self.ok * 1e6

    def percentile_ms(self, q: float) -> float | None:
        value = percentile(sorted(self.latencies), q)
        return None if value is None else value * 1000.0


@dataclass(frozen=True, slots=True)
class Window:
    start: float  # monotonic; warm-up runs before it
    end: float


async def _client(
    endpoint: Endpoint, session: Session, window: Window, res: LoadResult, stop: asyncio.Event
) -> None:
    conn = Connection(endpoint)
    try:
        while not stop.is_set():
            t0 = now()
            if t0 >= window.end:
                break
            request = session.next_request()
            try:
                status, body = await conn.send(request)
            except OSError as exc:  # ConnectionError included: refused, reset, lost mid-request
                status, body = 0, repr(exc).encode()
            t1 = now()
            measured = window.start <= t1 < window.end
            if status == 200:
                items = session.on_success(body)
                if isinstance(items, int):
                    res.ok_total += 1
                    res.items_total += items
                    if measured:
                        res.ok += 1
                        res.items += items
                        res.latencies.append(t1 - t0)
                    continue
                kind = items
            else:
                session.on_failure()
                kind = "ConnectionError" if status == 0 else error_type(status, body)
            res.failed_total += 1
            res.errors[kind] += 1
            if len(res.error_samples) < MAX_ERROR_SAMPLES:
                res.error_samples.append(f"{kind}: {body[:240].decode('utf-8', 'replace')}")
            if kind == UNKNOWN_OPERATION and res.ok_total == 0:
                res.unsupported = True
                stop.set()
            elif status == 0:
                await asyncio.sleep(0.01)  # do not spin on a dead server
    finally:
        res.connects += conn.connects
        conn.close()


def _sample_cpu(window: Window, res: LoadResult, server_pid: int | None) -> None:
    """At the window's start and end, read this process's CPU time and the server tree's: their
    differences are what the measured requests cost each side."""
    loop = asyncio.get_running_loop()
    started: list[float] = []

    def sample() -> tuple[float, float]:
        return time.process_time(), (cpu.tree_seconds(server_pid) if server_pid is not None else 0.0)

    def start() -> None:
        started.extend(sample())

    def end() -> None:
        if not started:
            return
        generator, server = sample()
        res.generator_cpu = generator - started[0]
        if server_pid is not None:
            res.server_cpu = server - started[1]

    loop.call_later(max(0.0, window.start - now()), start)
    loop.call_later(max(0.0, window.end - now()), end)


async def _run_clients(
    endpoint: Endpoint,
    workload: Workload,
    client_ids: list[int],
    window: Window,
    server_pid: int | None = None,
) -> LoadResult:
    res = LoadResult(duration=window.end - window.start)
    sessions = [workload.session(cid) for cid in client_ids]
    _sample_cpu(window, res, server_pid)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_client(endpoint, s, window, res, stop)) for s in sessions]
    grace = max(0.0, window.end - now()) + 30.0
    done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
        res.errors["ClientTimeout"] += 1
    for task in done:
        exc = task.exception()
        if exc is not None:
            res.errors[f"GeneratorCrash:{type(exc).__name__}"] += 1
            res.error_samples.append(repr(exc))
    res.reports = [s.report() for s in sessions]
    return res


def _child(
    endpoint: Endpoint,
    workload: Workload,
    client_ids: list[int],
    window: Window,
    server_pid: int | None,
    pipe: Pipe,
) -> None:
    try:
        pipe.send(uvloop.run(_run_clients(endpoint, workload, client_ids, window, server_pid)))
    except BaseException as exc:
        pipe.send(exc)
    finally:
        pipe.close()


def run_load(
    endpoint: Endpoint,
    workload: Workload,
    *,
    clients: int,
    procs: int,
    warmup: float,
    duration: float,
    server_pid: int | None = None,
) -> LoadResult:
    """Warm up, then measure for `duration` seconds; blocks until every client has finished. With
    `server_pid`, the server tree's CPU time over the window is measured too (by the first generator)."""
    procs = max(1, min(procs, clients))
    window = Window(now() + 0.2 + warmup, now() + 0.2 + warmup + duration)
    groups = [list(range(p, clients, procs)) for p in range(procs)]
    if procs == 1:
        return uvloop.run(_run_clients(endpoint, workload, groups[0], window, server_pid))
    ctx = multiprocessing.get_context("fork")  # workloads are closures over the parent's state
    children: list[tuple[Any, Pipe]] = []
    for n, group in enumerate(groups):
        parent_end, child_end = ctx.Pipe(duplex=False)
        pid = server_pid if n == 0 else None
        proc = ctx.Process(
            target=_child, args=(endpoint, workload, group, window, pid, child_end), daemon=True
        )
        proc.start()
        child_end.close()
        children.append((proc, parent_end))
    total = LoadResult(duration=duration)
    for proc, pipe in children:
        got = pipe.recv()
        proc.join()
        if isinstance(got, BaseException):
            raise RuntimeError(f"generator process failed: {got!r}") from got
        total.merge(got)
    return total


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh uvloop loop (setup, verification, draining)."""
    return uvloop.run(coro)
