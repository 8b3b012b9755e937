"""Shards derived from a log's first slots and its boundary markers (pure).

A shard is one slot's records between two boundaries: lo < seq < hi, lo and hi being the sequence numbers
of the markers around it (lo is the log's start for the first shards). Replaying the markers in order
gives every shard the log ever had, with its parents; the dialects name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..storage.base import StoredRecord
from .markers import CLOSE, ROLLOVER, Reshard, SlotRange, decode

ShardKey = tuple[int, int]  # (slot, lo): identifies a shard within its log


@dataclass(frozen=True, slots=True)
class Shard:
    slot: int
    lo: int  # records of this shard have lo < seq ...
    hi: int | None  # ... and seq < hi; None while the shard is open
    created_at: float
    closed_at: float | None
    parents: tuple[ShardKey, ...]
    start: int = 0  # hash-key range, inclusive (Kinesis)
    end: int = 0

    @property
    def key(self) -> ShardKey:
        return (self.slot, self.lo)

    @property
    def starting(self) -> int:
        return self.lo + 1

    @property
    def closed(self) -> bool:
        return self.hi is not None

    def closed_by(self, seq: int, at: float) -> Shard:
        return Shard(self.slot, self.lo, seq, self.created_at, at, self.parents, self.start, self.end)


def replay(
    start_seq: int, created_at: float, first: Sequence[SlotRange], markers: Sequence[StoredRecord]
) -> list[Shard]:
    """Every shard of the log, in the order they opened (slot order among shards opened together).
    Markers after a CLOSE are ignored."""
    done: list[Shard] = []
    open_: dict[int, Shard] = {
        s.slot: Shard(s.slot, start_seq, None, created_at, None, (), s.start, s.end) for s in first
    }
    order: list[ShardKey] = [(s.slot, start_seq) for s in first]
    for record in markers:
        m = decode(record.payload)
        if m == CLOSE:
            done += [s.closed_by(record.seq, record.created_at) for s in open_.values()]
            open_ = {}
            break
        if m == ROLLOVER:
            children = {}
            for slot, shard in open_.items():
                done.append(shard.closed_by(record.seq, record.created_at))
                child = Shard(
                    slot, record.seq, None, record.created_at, None, (shard.key,), shard.start, shard.end
                )
                children[slot] = child
                order.append(child.key)
            open_ = children
        elif isinstance(m, Reshard):
            parents = {slot: open_[slot].key for slot in m.closed if slot in open_}
            for slot in m.closed:
                if slot in open_:
                    done.append(open_.pop(slot).closed_by(record.seq, record.created_at))
            for o in m.opened:
                keys = tuple(parents[p] for p in o.parents if p in parents)
                open_[o.slot] = Shard(o.slot, record.seq, None, record.created_at, None, keys, o.start, o.end)
                order.append((o.slot, record.seq))
    by_key = {s.key: s for s in (*done, *open_.values())}
    return [by_key[k] for k in order]
