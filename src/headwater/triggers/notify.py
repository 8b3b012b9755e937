"""Waking idle shard pollers when the database commits stream records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol


class CommitFeed(Protocol):
    """The database's commit hook: calls `listener(last sequence number)`, from any thread, after every
    commit that added stream records; returns what unsubscribes it."""

    def on_commit(self, listener: Callable[[int], None]) -> Callable[[], None]: ...


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class ChangeNotifier:
    """Wakes idle shard pollers as soon as the database commits something new (no polling while idle;
    pollers still poll at least every `poll_interval` without it).

    `changed` may be called from any thread (the storage writer's): it hops into the loop at most once
    per loop turn, however many commits happen meanwhile; from the loop's own thread (the server's
    writer commits on it) without waking the loop through its self-pipe, a system call or two per
    commit that adds stream records."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()
        self._scheduled = False
        self._waiting = 0  # calls of `wait` under way (on the loop)

    def changed(self, _last_sequence: int = 0) -> None:
        if self._scheduled:
            return
        self._scheduled = True
        if _running_loop() is self._loop:
            self._loop.call_soon(self._wake)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._scheduled = False
        if not self._waiting:
            return  # nobody to wake: the event stays as it is (most commits, under steady writes)
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken by a commit, False after `timeout` seconds."""
        self._waiting += 1
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1
        return True
