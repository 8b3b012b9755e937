"""Shard uses counted in one process (SQLite's): a limit of calls at once, expiry, giving back, and
records that fit a write window."""

from __future__ import annotations

import asyncio

from headwater.storage.shard_uses import LocalShardUses, fitting


def test_calls_at_once_expire_or_are_given_back() -> None:
    uses = LocalShardUses()

    async def run() -> None:
        first = await uses.take("s", 0.0, 10.0, 2)
        second = await uses.take("s", 0.0, 10.0, 2)
        assert first is not None and second is not None and first != second
        assert await uses.take("s", 1.0, 11.0, 2) is None
        assert await uses.take("other", 1.0, 11.0, 2) is not None  # another shard's count
        await uses.give_back("s", first)
        assert await uses.take("s", 1.0, 11.0, 2) is not None
        assert await uses.take("s", 1.0, 11.0, 2) is None
        assert await uses.take("s", 10.0, 20.0, 2) is not None  # `second` stopped counting at 10

    asyncio.run(run())


def test_records_fit_by_count_and_bytes() -> None:
    assert fitting([5, 5, 5], 0, 0, 2, 100) == [True, True, False]
    assert fitting([200, 10], 0, 0, 10, 100) == [True, False]  # one record always fits, alone
    assert fitting([60, 50, 30], 0, 0, 10, 100) == [True, False, True]
    uses = LocalShardUses()

    async def run() -> None:
        assert await uses.take_records("w", 0.0, 1.0, [60, 50], 10, 100) == [True, False]
        assert await uses.take_records("w", 0.5, 1.5, [50, 40], 10, 100) == [False, True]
        assert await uses.take_records("w", 1.0, 2.0, [50], 10, 100) == [True]  # the first expired

    asyncio.run(run())
