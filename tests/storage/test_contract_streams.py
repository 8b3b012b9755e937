"""Storage contract for what streams rely on: control slots, trim marks, last_stream_seq, drop_streams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from headwater.storage.base import (
    CONTROL_SLOT,
    TRIM_MARK_KIND,
    CatalogView,
    ItemKey,
    MetaWrite,
    Storage,
    StreamWrite,
    WriteSet,
    trim_mark_key,
)

from .ops import Raw


@dataclass(frozen=True, slots=True)
class DropStreams:
    stream_ids: tuple[int, ...]

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> DropStreams:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(drop_streams=list(self.stream_ids), meta=[MetaWrite("stream", "1", None)])


def rec(payload: bytes, *, stream_id: int = 1, slot: int = 0, created_at: float = 1000.0) -> StreamWrite:
    return StreamWrite(stream_id, slot, created_at, payload)


def test_a_control_record_is_an_exact_boundary_between_slots_records(storage: Storage) -> None:
    storage.write_sync(Raw(WriteSet(stream=[rec(b"a"), rec(b"b", slot=1)])))
    storage.write_sync(Raw(WriteSet(stream=[rec(b"marker", slot=CONTROL_SLOT)])))
    storage.write_sync(Raw(WriteSet(stream=[rec(b"c"), rec(b"d", slot=1)])))
    (marker,) = storage.stream_records(1, CONTROL_SLOT, 0, None, 10)
    before = [r.payload for s in (0, 1) for r in storage.stream_records(1, s, 0, marker.seq - 1, 10)]
    after = [r.payload for s in (0, 1) for r in storage.stream_records(1, s, marker.seq + 1, None, 10)]
    assert sorted(before) == [b"a", b"b"]
    assert sorted(after) == [b"c", b"d"]


def test_last_stream_seq(storage: Storage) -> None:
    storage.write_sync(
        Raw(WriteSet(stream=[rec(b"a"), rec(b"b", slot=1), rec(b"c"), rec(b"x", stream_id=2)]))
    )
    assert storage.last_stream_seq(1, 0, 0, None) == 3
    assert storage.last_stream_seq(1, 0, 0, 2) == 1
    assert storage.last_stream_seq(1, 1, 0, None) == 2
    assert storage.last_stream_seq(1, 0, 4, None) is None
    assert storage.last_stream_seq(3, 0, 0, None) is None


def test_trim_spares_control_slots_and_leaves_trim_marks(storage: Storage) -> None:
    ws = WriteSet(
        stream=[
            rec(b"old0", created_at=1.0),
            rec(b"old1", slot=1, created_at=2.0),
            rec(b"ctl", slot=CONTROL_SLOT, created_at=1.0),
            rec(b"new0", created_at=9.0),
            rec(b"old-other", stream_id=2, created_at=3.0),
        ]
    )
    storage.write_sync(Raw(ws))
    assert storage.trim_stream_records(1, 5.0) == 2  # one log at a time, with its own cut-off
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(2, 0)) is None
    assert storage.trim_stream_records(2, 5.0) == 1
    assert [r.payload for r in storage.stream_records(1, CONTROL_SLOT, 0, None, 10)] == [b"ctl"]
    assert [r.payload for r in storage.stream_records(1, 0, 0, None, 10)] == [b"new0"]
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) == b"1"
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 1)) == b"2"
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(2, 0)) == b"5"
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, CONTROL_SLOT)) is None
    # a later trim moves the mark forward, an empty one leaves it
    assert storage.trim_stream_records(1, 5.0) == 0
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) == b"1"
    assert storage.trim_stream_records(1, 10.0) == 1
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) == b"4"


def test_trim_leaves_a_suffix_of_each_slot(storage: Storage) -> None:
    """A record a little older than the one before it (it waited for its group) goes with a later pass:
    what a trim leaves of a slot is everything after its trim mark."""
    ws = WriteSet(
        stream=[
            rec(b"old", created_at=1.0),
            rec(b"young", created_at=9.0),
            rec(b"older-behind", created_at=2.0),
            rec(b"youngest", created_at=12.0),
        ]
    )
    storage.write_sync(Raw(ws))
    assert storage.trim_stream_records(1, 5.0) == 1
    assert [r.payload for r in storage.stream_records(1, 0, 0, None, 10)] == [
        b"young",
        b"older-behind",
        b"youngest",
    ]
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) == b"1"
    assert storage.trim_stream_records(1, 10.0) == 2
    assert [r.payload for r in storage.stream_records(1, 0, 0, None, 10)] == [b"youngest"]
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) == b"3"
    assert storage.trim_stream_records(1, 100.0) == 1  # all of a slot can go
    assert storage.stream_records(1, 0, 0, None, 10) == []
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) == b"4"


def test_drop_streams_removes_records_and_marks_of_that_stream_only(storage: Storage) -> None:
    ws = WriteSet(
        stream=[
            rec(b"a", created_at=1.0),
            rec(b"ctl", slot=CONTROL_SLOT),
            rec(b"b", stream_id=2),
            rec(b"c", stream_id=12),
        ]
    )
    storage.write_sync(Raw(ws))
    for stream_id in (1, 2, 12):
        storage.trim_stream_records(stream_id, 5.0)
    storage.write_sync(DropStreams((1,)))
    assert storage.stream_records(1, 0, 0, None, 10) == []
    assert storage.stream_records(1, CONTROL_SLOT, 0, None, 10) == []
    assert storage.meta_get(TRIM_MARK_KIND, trim_mark_key(1, 0)) is None
    assert [r.payload for r in storage.stream_records(2, 0, 0, None, 10)] == [b"b"]
    assert [r.payload for r in storage.stream_records(12, 0, 0, None, 10)] == [b"c"]


def test_first_stream_seq_at_finds_the_first_record_at_or_after_a_time(storage: Storage) -> None:
    ws = WriteSet(
        stream=[
            rec(b"a", created_at=1.0),
            rec(b"other-slot", slot=1, created_at=5.0),
            rec(b"b", created_at=5.0),
            rec(b"c", created_at=7.0),
        ]
    )
    storage.write_sync(Raw(ws))
    assert storage.first_stream_seq_at(1, 0, 0.0, 0, None) == 1
    assert storage.first_stream_seq_at(1, 0, 5.0, 0, None) == 3
    assert storage.first_stream_seq_at(1, 0, 6.0, 0, None) == 4
    assert storage.first_stream_seq_at(1, 0, 6.0, 0, 3) is None
    assert storage.first_stream_seq_at(1, 0, 8.0, 0, None) is None
    assert storage.first_stream_seq_at(1, 1, 0.0, 3, None) is None
