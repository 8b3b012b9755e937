"""The background work (TTL, retention, rollover, triggers' mappings, sinks, replication) runs on one node
at a time: the one holding the storage's lease (`Storage.background_lease`). A node alone (SQLite) holds
it from the start; nodes sharing a PostgreSQL database try for it every `every` seconds, so when the
holder dies (its session ends with it) another takes over within about that long, and the work resumes
from its durable checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .storage.base import Lease

log = logging.getLogger(__name__)

LEASE_EVERY = 1.0  # seconds between tries for the lease (and checks that it is still held)


class Background:
    """`lead()` when this node comes to hold the lease, `follow()` when it loses it, `tick()` every
    `every` seconds either way (picking up what other nodes changed)."""

    def __init__(
        self,
        lease: Lease | None,
        lead: Callable[[], Awaitable[None]],
        follow: Callable[[], Awaitable[None]],
        tick: Callable[[], Awaitable[None]],
        every: float = LEASE_EVERY,
    ) -> None:
        self._lease = lease
        self._lead = lead
        self._follow = follow
        self._tick = tick
        self._every = every
        self.leading = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._lease is None:
            await self._become(True)  # alone: at once, before the node answers requests
            return
        await self._step(self._lease)
        self._task = asyncio.get_running_loop().create_task(self._run(self._lease), name="background-lease")

    async def _run(self, lease: Lease) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self._step(lease)
                await self._tick()
            except Exception:
                log.exception("background lease: a step failed; trying again")

    async def _step(self, lease: Lease) -> None:
        held = await asyncio.to_thread(lease.take)
        if held != self.leading:
            await self._become(held)

    async def _become(self, leading: bool) -> None:
        if leading:
            log.info("this node runs the background work now (TTL, retention, rollover, triggers, sinks)")
            self.leading = True
            await self._lead()
        else:
            log.warning("this node no longer holds the background lease; another node runs that work")
            self.leading = False
            await self._follow()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.leading:
            self.leading = False
            await self._follow()
        if self._lease is not None:
            await asyncio.to_thread(self._lease.release)
