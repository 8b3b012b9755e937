"""Uses of a stream shard that its per-shard limits count: DynamoDB Streams' two GetRecords calls under way
at once, Kinesis' five GetRecords calls a second and its 1,000 records / 1 MiB written a second.

A use counts from when it is taken until `until` (epoch seconds, the server's clock), or until it is
given back. A limit is "fewer than N uses count now" (calls) or "these records' counts and bytes fit
beside those counting now" (writes). The storage decides where uses are kept: `LocalShardUses` in this
process (one node), storage/postgres/shard_uses.py in the database, so every node on it counts the same
uses."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

T = TypeVar("T")

IDLE_SHARDS_KEPT = 100_000  # past it, shards with nothing counting are forgotten


class ShardUses(Protocol):
    async def take(self, shard: str, now: float, until: float, at_most: int) -> int | None:
        """Count one more use of `shard` until `until`, if fewer than `at_most` count at `now`: its
        ticket (for `give_back`), or None when the limit is reached."""
        ...

    async def give_back(self, shard: str, ticket: int) -> None:
        """The use ends now (a call that was under way finished)."""
        ...

    async def while_held(
        self, shard: str, now: float, until: float, at_most: int, work: Callable[[], T]
    ) -> T | None:
        """`work()` (blocking: run in a thread) while one more use of `shard` counts, given back when it
        ends; None, without running it, when `at_most` uses count already."""
        ...

    async def take_records(
        self, shard: str, now: float, until: float, sizes: Sequence[int], records: int, size: int
    ) -> list[bool]:
        """Which of the records of `sizes` bytes (in order) fit beside what counts at `now`: at most
        `records` records and `size` bytes, though one record always fits when nothing else counts. Those
        that fit count until `until`."""
        ...


def fitting(sizes: Sequence[int], used_records: int, used_size: int, records: int, size: int) -> list[bool]:
    """Which records fit, in order, beside `used_records` records of `used_size` bytes."""
    out = []
    for one in sizes:
        over = used_size + one > size and used_records > 0  # one record always fits
        fits = used_records + 1 <= records and not over
        if fits:
            used_records += 1
            used_size += one
        out.append(fits)
    return out


@dataclass(slots=True)
class _Use:
    ticket: int
    until: float
    records: int = 0
    size: int = 0


@dataclass(slots=True)
class LocalShardUses:
    """The uses taken in this process (one node on SQLite). Nothing here awaits, so a take and the check
    before it happen in one step of the event loop."""

    _uses: dict[str, list[_Use]] = field(default_factory=dict)
    _tickets: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _live(self, shard: str, now: float) -> list[_Use]:
        uses = [use for use in self._uses.get(shard, ()) if use.until > now]
        self._uses[shard] = uses
        if len(self._uses) > IDLE_SHARDS_KEPT:
            self._uses = {k: v for k, v in self._uses.items() if any(use.until > now for use in v)}
            self._uses[shard] = uses
        return uses

    async def take(self, shard: str, now: float, until: float, at_most: int) -> int | None:
        uses = self._live(shard, now)
        if len(uses) >= at_most:
            return None
        ticket = next(self._tickets)
        uses.append(_Use(ticket, until))
        return ticket

    async def give_back(self, shard: str, ticket: int) -> None:
        uses = self._uses.get(shard)
        if uses is not None:
            self._uses[shard] = [use for use in uses if use.ticket != ticket]

    async def while_held(
        self, shard: str, now: float, until: float, at_most: int, work: Callable[[], T]
    ) -> T | None:
        ticket = await self.take(shard, now, until, at_most)
        if ticket is None:
            return None
        try:
            return await asyncio.to_thread(work)
        finally:
            await self.give_back(shard, ticket)

    async def take_records(
        self, shard: str, now: float, until: float, sizes: Sequence[int], records: int, size: int
    ) -> list[bool]:
        uses = self._live(shard, now)
        fits = fitting(sizes, sum(u.records for u in uses), sum(u.size for u in uses), records, size)
        taken = [one for one, fit in zip(sizes, fits, strict=True) if fit]
        if taken:
            uses.append(_Use(next(self._tickets), until, len(taken), sum(taken)))
        return fits
