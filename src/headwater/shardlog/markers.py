"""Shard boundaries as control records. The single writer numbers a marker like any record, so a marker
splits a slot exactly: every record of the slot committed before it belongs to the closing shard, every
one after it to the shard that follows (no record in both, none in neither).

ROLLOVER closes every open shard and opens a child in the same slot (DynamoDB Streams' generations);
CLOSE ends every open shard for good (a disabled stream); RESHARD closes some slots and opens new ones
with their hash-key ranges and parents (Kinesis SplitShard, MergeShards, UpdateShardCount). Markers live
in the log's control slot, which retention never trims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ..storage.base import CONTROL_SLOT, CatalogView, ItemKey, StreamWrite, WriteSet

ROLLOVER = b'{"m":"rollover"}'
CLOSE = b'{"m":"close"}'


@dataclass(frozen=True, slots=True)
class SlotRange:
    """A slot opened by a marker (or when the log was created): its hash-key range, inclusive, and the
    slots of its parents (their shards open when the marker committed)."""

    slot: int
    start: int = 0
    end: int = 0
    parents: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Reshard:
    closed: tuple[int, ...]
    opened: tuple[SlotRange, ...]


Marker = bytes | Reshard  # ROLLOVER, CLOSE, or a Reshard


def reshard(closed: Sequence[int], opened: Sequence[SlotRange]) -> bytes:
    doc = {
        "m": "reshard",
        "close": list(closed),
        "open": [[o.slot, str(o.start), str(o.end), list(o.parents)] for o in opened],
    }
    return orjson.dumps(doc)


def decode(payload: bytes) -> Marker:
    if payload in (ROLLOVER, CLOSE):
        return payload
    doc = orjson.loads(payload)
    opened = tuple(SlotRange(o[0], int(o[1]), int(o[2]), tuple(o[3])) for o in doc["open"])
    return Reshard(tuple(doc["close"]), opened)


def closes(marker: Marker, slot: int) -> bool:
    """Whether `marker` ends the shard open in `slot` when it commits."""
    return not isinstance(marker, Reshard) or slot in marker.closed


def marker(stream_id: int, payload: bytes, now: float) -> StreamWrite:
    return StreamWrite(stream_id, CONTROL_SLOT, now, payload)


@dataclass(frozen=True, slots=True)
class RolloverOp:
    """Roll every open shard of one log over to a child shard (a WriteOperation)."""

    stream_id: int
    now: float

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> RolloverOp:
        return self  # no table definition involved

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(stream=[marker(self.stream_id, ROLLOVER, self.now)])
