"""Idle shard pollers are woken by the storage writer's commits (no polling while idle)."""

from __future__ import annotations

import asyncio

import pytest

from headwater.storage.base import StreamWrite, WriteSet
from headwater.storage.sqlite import SqliteStorage
from headwater.triggers.notify import ChangeNotifier
from tests.storage.ops import Raw


@pytest.mark.parametrize("on_loop", [False, True], ids=["writer-thread", "writer-on-the-loop"])
def test_a_commit_with_stream_records_wakes_the_waiters(on_loop: bool) -> None:
    """From the writer's thread, or from the loop itself (the server's writer commits on its loop)."""

    async def scenario() -> None:
        storage = SqliteStorage(None, on_loop=on_loop)
        storage.open()
        try:
            notifier = ChangeNotifier(asyncio.get_running_loop())
            unsubscribe = storage.on_commit(notifier.changed)
            waiters = [asyncio.ensure_future(notifier.wait(600)) for _ in range(3)]
            await storage.write(Raw(WriteSet(stream=[StreamWrite(1, 0, 1000.0, b"r")])))
            assert await asyncio.gather(*waiters) == [True, True, True]  # woken, not timed out
            unsubscribe()
            assert await notifier.wait(0.01) is False  # nothing else woke it
        finally:
            storage.close()

    asyncio.run(scenario())


def test_a_commit_without_stream_records_does_not_wake_anyone() -> None:
    async def scenario() -> None:
        storage = SqliteStorage(None)
        storage.open()
        try:
            woken: list[int] = []
            storage.on_commit(woken.append)
            await storage.write(Raw(WriteSet()))
            await storage.write(Raw(WriteSet(stream=[StreamWrite(1, 0, 1000.0, b"r")])))
            assert woken == [1]  # called on the writer thread, before the caller is woken
        finally:
            storage.close()

    asyncio.run(scenario())


def test_a_closed_loop_is_not_an_error() -> None:
    loop = asyncio.new_event_loop()
    notifier = ChangeNotifier(loop)
    loop.close()
    notifier.changed(1)
