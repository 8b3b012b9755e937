"""Shard uses (storage/shard_uses.py) behave the same on every backend: a limit of uses at once, uses
given back or expired, records fitting a write window. On PostgreSQL two handles on one schema (two
nodes) count the same uses."""

from __future__ import annotations

import asyncio

import pytest

from headwater.storage.base import Storage
from tests.storage.conftest import Backend


def test_uses_at_once_given_back_or_expired(storage: Storage) -> None:
    uses = storage.shard_uses()

    async def run() -> None:
        first = await uses.take("s", 100.0, 110.0, 2)
        second = await uses.take("s", 100.0, 110.0, 2)
        assert first is not None and second is not None and first != second
        assert await uses.take("s", 101.0, 111.0, 2) is None
        assert await uses.take("t", 101.0, 111.0, 2) is not None  # each shard its own count
        await uses.give_back("s", first)
        assert await uses.take("s", 101.0, 111.0, 2) is not None
        assert await uses.take("s", 101.0, 111.0, 2) is None
        assert await uses.take("s", 110.0, 120.0, 2) is not None  # `second` counted until 110
        assert await uses.while_held("u", 100.0, 110.0, 1, lambda: "read") == "read"
        assert await uses.take("u", 100.0, 110.0, 1) is not None  # given back after the work

    asyncio.run(run())


def test_records_fit_by_count_and_bytes(storage: Storage) -> None:
    uses = storage.shard_uses()

    async def run() -> None:
        assert await uses.take_records("w", 0.0, 1.0, [60, 50, 30], 10, 100) == [True, False, True]
        assert await uses.take_records("w", 0.5, 1.5, [5, 5], 3, 100) == [True, False]  # 3 records
        assert await uses.take_records("w", 1.0, 2.0, [80], 10, 100) == [True]  # the first expired
        assert await uses.take_records("big", 0.0, 1.0, [500], 10, 100) == [True]  # one always fits

    asyncio.run(run())


def test_two_postgres_nodes_count_the_same_uses(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("one node per database on SQLite")
    a, b = backend.make(), backend.make()
    a.open()
    b.open()
    try:

        async def run() -> None:
            held = await a.shard_uses().take("s", 0.0, 10.0, 2)
            assert held is not None
            assert await b.shard_uses().take("s", 0.0, 10.0, 2) is not None
            assert await a.shard_uses().take("s", 0.0, 10.0, 2) is None
            assert await b.shard_uses().take("s", 0.0, 10.0, 2) is None
            await a.shard_uses().give_back("s", held)
            assert await b.shard_uses().take("s", 0.0, 10.0, 2) is not None
            assert await a.shard_uses().take_records("w", 0.0, 1.0, [1] * 6, 10, 100) == [True] * 6
            assert (
                await b.shard_uses().take_records("w", 0.0, 1.0, [1] * 6, 10, 100) == [True] * 4 + [False] * 2
            )

        asyncio.run(run())
    finally:
        a.close()
        b.close()
