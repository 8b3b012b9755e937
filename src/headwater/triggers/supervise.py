"""Keeps an event source mapping's runner alive. A runner that stops on an unexpected error would leave
its mapping "Enabled" and idle; instead the error is logged, the mapping's LastProcessingResult says
so, and the runner starts again after a delay that doubles while it keeps failing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

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
