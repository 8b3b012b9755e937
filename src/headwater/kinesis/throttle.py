"""Per-shard throughput as Kinesis enforces it, over the last second: 5 GetRecords calls a second per
shard, and for provisioned streams 1,000 records and 1 MiB written a second per shard. Counted where the
storage keeps shard uses (storage/shard_uses.py: this process, or the database every node shares).
Turned off with `--kinesis-limits off`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..storage.shard_uses import ShardUses

READS_PER_SECOND = 5
RECORDS_PER_SECOND = 1000
BYTES_PER_SECOND = 1024 * 1024
WINDOW_SECONDS = 1.0

ShardRef = tuple[int, int]  # (stream id, slot)


@dataclass(frozen=True, slots=True)
class Throttle:
    uses: Callable[[], ShardUses]  # the storage's (it is opened after the services are made)
    enabled: bool = True

    async def read(self, shard: ShardRef, now: float) -> bool:
        """Whether one more GetRecords call on `shard` fits now (and count it if so)."""
        if not self.enabled:
            return True
        ticket = await self.uses().take(_name("r", shard), now, now + WINDOW_SECONDS, READS_PER_SECOND)
        return ticket is not None

    async def write(self, shard: ShardRef, sizes: Sequence[int], now: float) -> list[bool]:
        """Which records of `sizes` bytes (in order) fit in the shard's write throughput now (those that
        fit are counted)."""
        if not self.enabled:
            return [True] * len(sizes)
        return await self.uses().take_records(
            _name("w", shard), now, now + WINDOW_SECONDS, sizes, RECORDS_PER_SECOND, BYTES_PER_SECOND
        )


def _name(kind: str, shard: ShardRef) -> str:
    return f"kinesis/{kind}/{shard[0]}/{shard[1]}"
