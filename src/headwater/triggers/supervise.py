"""Keeps an event source mapping's runner alive. A runner that stops on an unexpected error would leave
its mapping "Enabled" and idle; instead the error is logged, the mapping's LastProcessingResult says
so, and the runner starts again after a delay that doubles while it keeps failing. `Supervised` holds the
running ones by key, each in its task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ..clock import Clock, SystemClock

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Runner(Protocol):
    last_result: str

    @property
    def name(self) -> str: ...

    async def run(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float = 1.0
    longest: float = 60.0

    def after(self, previous: float | None) -> float:
        return self.first if previous is None else min(previous * 2, self.longest)


async def supervise(
    runner: Runner, *, backoff: Backoff = Backoff(), clock: Clock | None = None, sleep: Sleep = asyncio.sleep
) -> None:
    """Run `runner` until it is cancelled (or returns), restarting it after each crash. A runner that
    ran longer than the longest delay before crashing starts over from the first delay."""
    clock = clock or SystemClock()
    delay: float | None = None
    while True:
        started = clock.now()
        try:
            await runner.run()
            return
        except Exception as exc:  # a cancellation is not an Exception: stopping the mapping ends this
            if clock.now() - started > backoff.longest:
                delay = None
            delay = backoff.after(delay)
            log.exception("event source mapping %s failed; restarting it in %.1f s", runner.name, delay)
            runner.last_result = f"PROBLEM: Internal error: {exc or type(exc).__name__}. Restarting."
        await sleep(delay)


R = TypeVar("R", bound=Runner)


class Supervised(Generic[R]):
    """Runners by key, each run by `supervise` in a task named `<kind>-<key>`."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._running: dict[str, tuple[R, asyncio.Task[None]]] = {}

    def start(self, key: str, runner: R) -> None:
        task = asyncio.get_running_loop().create_task(supervise(runner), name=f"{self.kind}-{key}")
        self._running[key] = (runner, task)

    def get(self, key: str) -> R | None:
        entry = self._running.get(key)
        return entry[0] if entry is not None else None

    def runners(self) -> list[R]:
        return [runner for runner, _ in self._running.values()]

    async def stop(self, key: str) -> None:
        entry = self._running.pop(key, None)
        if entry is None:
            return
        entry[1].cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await entry[1]

    async def stop_all(self) -> None:
        for key in list(self._running):
            await self.stop(key)
