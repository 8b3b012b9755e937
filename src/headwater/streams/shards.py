"""DynamoDB Streams' shards over the log layer: slot s of a stream with N slots holds the records of items
with partition_hash % N == s, and each ROLLOVER marker starts a new generation of every slot."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ..shardlog.layout import Shard as LogShard
from ..shardlog.layout import replay
from ..shardlog.markers import SlotRange
from ..storage.base import StoredRecord
from .docs import StreamDoc


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_id: str | None
    log: LogShard

    @property
    def slot(self) -> int:
        return self.log.slot

    @property
    def lo(self) -> int:
        return self.log.lo

    @property
    def hi(self) -> int | None:
        return self.log.hi

    @property
    def starting(self) -> int:
        return self.log.starting

    @property
    def closed_at(self) -> float | None:
        return self.log.closed_at


def shard_id(stream_id: int, slot: int, lo: int, millis: int) -> str:
    """DynamoDB's form `shardId-<20 digits>-<8 hex>`; the time part keeps children after parents."""
    digest = hashlib.blake2b(b"%d:%d:%d" % (stream_id, slot, lo), digest_size=4).hexdigest()
    return f"shardId-{millis:020d}-{digest}"


def layout(doc: StreamDoc, markers: Sequence[StoredRecord]) -> list[Shard]:
    """Every shard of the stream, in (slot, generation) order."""
    first = [SlotRange(slot) for slot in range(doc.shards)]
    shards = sorted(replay(doc.start_seq, doc.created_at, first, markers), key=lambda s: (s.slot, s.lo))
    names: dict[tuple[int, int], str] = {}
    last_ms: dict[int, int] = {}
    out: list[Shard] = []
    for shard in shards:
        millis = max(int(shard.created_at * 1000), last_ms.get(shard.slot, 0) + 1)
        last_ms[shard.slot] = millis
        name = names[shard.key] = shard_id(doc.stream_id, shard.slot, shard.lo, millis)
        parent = names.get(shard.parents[0]) if shard.parents else None
        out.append(Shard(name, parent, shard))
    return out
