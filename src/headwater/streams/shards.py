"""Shards derived from a stream's document and its boundary markers (pure).

Slot s of a stream with N slots holds the records of items with partition_hash % N == s. Each slot's
records are cut into generations by the ROLLOVER markers: generation g of slot s is one shard holding
the slot's records with lo < seq < hi, lo/hi being the sequence numbers of the boundaries around it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ..storage.base import StoredRecord
from .docs import StreamDoc
from .markers import CLOSE


@dataclass(frozen=True, slots=True)
class Shard:
    shard_id: str
    parent_id: str | None
    slot: int
    lo: int  # records of this shard have lo < seq ...
    hi: int | None  # ... and seq < hi; None while the shard is open
    created_at: float
    closed_at: float | None

    @property
    def starting(self) -> int:
        return self.lo + 1


def shard_id(stream_id: int, slot: int, lo: int, millis: int) -> str:
    """DynamoDB's form `shardId-<20 digits>-<8 hex>`; the time part keeps children after parents."""
    digest = hashlib.blake2b(b"%d:%d:%d" % (stream_id, slot, lo), digest_size=4).hexdigest()
    return f"shardId-{millis:020d}-{digest}"


def layout(doc: StreamDoc, markers: Sequence[StoredRecord]) -> list[Shard]:
    """Every shard of the stream, in (slot, generation) order. Markers after a CLOSE are ignored."""
    bounds: list[tuple[int, float]] = [(doc.start_seq, doc.created_at)]
    end: tuple[int, float] | None = None
    for m in markers:
        if m.payload == CLOSE:
            end = (m.seq, m.created_at)
            break
        bounds.append((m.seq, m.created_at))
    shards: list[Shard] = []
    for slot in range(doc.shards):
        parent: str | None = None
        last_ms = 0
        for g, (lo, opened) in enumerate(bounds):
            nxt = bounds[g + 1] if g + 1 < len(bounds) else end
            millis = max(int(opened * 1000), last_ms + 1)
            sid = shard_id(doc.stream_id, slot, lo, millis)
            shards.append(
                Shard(
                    sid,
                    parent,
                    slot,
                    lo,
                    None if nxt is None else nxt[0],
                    opened,
                    None if nxt is None else nxt[1],
                )
            )
            parent, last_ms = sid, millis
    return shards
