"""Reading one shard: the records of a slot between a position and the shard's end, as committed.

The shard's commit ceiling is read first (`Storage.shard_ceiling`): a marker committed after it (and the
next shard's records behind it) may already be visible to the reads that follow, so neither the marker
nor a record past the ceiling may count. Every record of the slot and every marker at or below the
ceiling was committed before it was read, and nothing numbered at or below it can commit later.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..storage.base import CONTROL_SLOT, Storage, StoredRecord
from .markers import closes, decode

_MARKER_CHUNK = 64


class ReadCount:
    """Records a dialect's GetRecords has returned, every namespace's together (for /metrics). Reads
    run on worker threads, hence the lock (one GetRecords, not one record, takes it)."""

    def __init__(self) -> None:
        self.records = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.records += count


@dataclass(frozen=True, slots=True)
class Page:
    records: list[StoredRecord]
    hi: int | None  # the shard's end, when it closed at or below the ceiling
    ceiling: int  # the shard's commit ceiling when the read began

    @property
    def exhausted(self) -> bool:
        """No record will ever follow this page's records in the shard (when the page was read whole)."""
        return self.hi is not None


def shard_end(storage: Storage, stream_id: int, slot: int, lo: int, ceiling: int) -> int | None:
    """The sequence number of the marker that closed the shard (slot, lo), if committed by `ceiling`."""
    after = lo + 1
    while after <= ceiling:
        markers = storage.stream_records(stream_id, CONTROL_SLOT, after, ceiling, _MARKER_CHUNK)
        for m in markers:
            if closes(decode(m.payload), slot):
                return m.seq
        if len(markers) < _MARKER_CHUNK:
            return None
        after = markers[-1].seq + 1
    return None


def read(storage: Storage, stream_id: int, slot: int, lo: int, pos: int, limit: int) -> Page:
    """Up to `limit` records of the shard (slot, lo) from sequence number `pos` on."""
    ceiling = storage.shard_ceiling(stream_id, slot)
    hi = shard_end(storage, stream_id, slot, lo, ceiling)
    upto = ceiling if hi is None else hi - 1
    return Page(storage.stream_records(stream_id, slot, pos, upto, limit), hi, ceiling)
