"""Per-shard throughput as Kinesis enforces it (in this process, over one-second windows): 5 GetRecords
calls a second per shard, and for provisioned streams 1,000 records and 1 MiB written a second per shard.
Turned off with `--kinesis-limits off`."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

READS_PER_SECOND = 5
RECORDS_PER_SECOND = 1000
BYTES_PER_SECOND = 1024 * 1024

ShardRef = tuple[int, int]  # (stream id, slot)


@dataclass(slots=True)
class _Window:
    start: float = 0.0
    records: int = 0
    size: int = 0


@dataclass(slots=True)
class Throttle:
    enabled: bool = True
    _reads: dict[ShardRef, deque[float]] = field(default_factory=dict)
    _writes: dict[ShardRef, _Window] = field(default_factory=dict)

    def read(self, shard: ShardRef, now: float) -> bool:
        """Whether one more GetRecords call on `shard` fits now (and count it if so)."""
        if not self.enabled:
            return True
        calls = self._reads.setdefault(shard, deque())
        while calls and calls[0] <= now - 1.0:
            calls.popleft()
        if len(calls) >= READS_PER_SECOND:
            return False
        calls.append(now)
        if len(self._reads) > 100_000:  # forget idle shards
            self._reads = {k: v for k, v in self._reads.items() if v and v[-1] > now - 1.0}
        return True

    def write(self, shard: ShardRef, size: int, now: float) -> bool:
        """Whether a record of `size` bytes fits in the shard's write throughput now (counted if so)."""
        if not self.enabled:
            return True
        window = self._writes.setdefault(shard, _Window(now))
        if now - window.start >= 1.0:
            window.start, window.records, window.size = now, 0, 0
        over = window.size + size > BYTES_PER_SECOND and window.records > 0  # one record always fits
        if window.records + 1 > RECORDS_PER_SECOND or over:
            return False
        window.records += 1
        window.size += size
        if len(self._writes) > 100_000:
            self._writes = {k: v for k, v in self._writes.items() if v.start > now - 1.0}
        return True
