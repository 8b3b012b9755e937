"""A Kinesis stream's document: one row in the items store under a reserved table id, so that every write
operation that routes records by hash key (PutRecord(s), a table's Kinesis destination) or changes the
shards (SplitShard, MergeShards, UpdateShardCount) reads it in the single writer, in the same transaction
as its records and markers. A record can therefore never land in a shard a concurrent split has closed.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from ..model.keys import partition_hash
from ..model.namespace import Namespace
from ..shardlog.markers import SlotRange
from ..storage.base import ItemKey

STREAMS_TABLE_ID = 0  # table ids start at 1 and never repeat; collections use negated ids

ACTIVE_STATES = ("ACTIVE", "UPDATING")


@functools.lru_cache(maxsize=1024)
def doc_key(namespace: Namespace, name: str) -> ItemKey:
    """Where the document of a namespace's stream lives: partition key `<account>/<region>/<name>`, so
    streams of different namespaces with the same name are different streams. Kept: every write to a
    table with a Kinesis destination names its stream's document (the same object hashes at once)."""
    pk = (namespace.prefix + name).encode("utf-8")
    return ItemKey(STREAMS_TABLE_ID, partition_hash(pk), pk)


def _ranges(raw: list[list[Any]]) -> tuple[SlotRange, ...]:
    return tuple(SlotRange(r[0], int(r[1]), int(r[2]), tuple(r[3])) for r in raw)


def _raw(ranges: tuple[SlotRange, ...]) -> list[list[Any]]:
    return [[r.slot, str(r.start), str(r.end), list(r.parents)] for r in ranges]


@dataclass(frozen=True, slots=True)
class StreamDoc:
    name: str
    arn: str
    stream_id: int
    status: str
    mode: str  # PROVISIONED | ON_DEMAND
    created_at: float
    retention_hours: int
    start_seq: int  # every record of the stream has a greater sequence number
    first: tuple[SlotRange, ...]  # the shards it was created with
    open: tuple[SlotRange, ...]  # the open shards now, by starting hash key
    next_slot: int  # the slot (shard index) of the next shard to open
    tags: tuple[tuple[str, str], ...] = ()
    # the open shards' starting hash keys, for `route` (a document is decoded once and read by every
    # write that captures to its stream)
    starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", tuple(r.start for r in self.open))

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "name": self.name,
                "arn": self.arn,
                "stream_id": self.stream_id,
                "status": self.status,
                "mode": self.mode,
                "created_at": self.created_at,
                "retention_hours": self.retention_hours,
                "start_seq": self.start_seq,
                "first": _raw(self.first),
                "open": _raw(self.open),
                "next_slot": self.next_slot,
                "tags": [list(t) for t in self.tags],
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> StreamDoc:
        return _decode(data)

    def evolve(self, **changes: Any) -> StreamDoc:
        return replace(self, **changes)

    @property
    def retention_seconds(self) -> float:
        return self.retention_hours * 3600.0

    def route(self, hash_key: int) -> int:
        """The slot of the open shard whose hash-key range holds `hash_key`."""
        return self.open[bisect.bisect_right(self.starts, hash_key) - 1].slot

    def open_range(self, slot: int) -> SlotRange | None:
        return next((r for r in self.open if r.slot == slot), None)


@functools.lru_cache(maxsize=256)
def _decode(data: bytes) -> StreamDoc:
    doc = orjson.loads(data)
    return StreamDoc(
        name=doc["name"],
        arn=doc["arn"],
        stream_id=doc["stream_id"],
        status=doc["status"],
        mode=doc["mode"],
        created_at=doc["created_at"],
        retention_hours=doc["retention_hours"],
        start_seq=doc["start_seq"],
        first=_ranges(doc["first"]),
        open=_ranges(doc["open"]),
        next_slot=doc["next_slot"],
        tags=tuple((t[0], t[1]) for t in doc["tags"]),
    )
