"""Shard boundaries as control records: the single writer gives a marker its sequence number in the same
order as every record, so a marker splits each slot exactly (no record in both shards, none in neither).

A ROLLOVER marker closes every open shard of the stream and opens their children; a CLOSE marker (the
stream is disabled) closes them for good. Markers live in the stream's control slot, never trimmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..storage.base import (
    CLOSE_MARKER,
    CONTROL_SLOT,
    ROLLOVER_MARKER,
    CatalogView,
    ItemKey,
    StreamWrite,
    WriteSet,
)

ROLLOVER = ROLLOVER_MARKER
CLOSE = CLOSE_MARKER


def marker(stream_id: int, payload: bytes, now: float) -> StreamWrite:
    return StreamWrite(stream_id, CONTROL_SLOT, now, payload)


@dataclass(frozen=True, slots=True)
class RolloverOp:
    """Roll every open shard of one stream over to a child shard (a WriteOperation)."""

    stream_id: int
    now: float

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> RolloverOp:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(stream=[marker(self.stream_id, ROLLOVER, self.now)])
