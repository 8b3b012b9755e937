"""Storage contract: a table snapshot is one committed state, read while the writer goes on."""

from __future__ import annotations

from headwater.storage.base import Storage, StreamWrite

from .ops import Put, key


def test_snapshot_sees_one_commit_and_its_sequence_number(storage: Storage) -> None:
    for i in range(300):  # more than one chunk of the lazy read
        storage.write_sync(Put(key(b"k%03d" % i), b"v%d" % i))
    storage.write_sync(Put(key(b"other", table_id=2), b"x"))
    record = StreamWrite(stream_id=5, slot=0, created_at=1.0, payload=b"r")
    storage.write_sync(Put(key(b"k000"), b"changed", stream=(record,)))
    seq_at = storage.last_sequence()
    with storage.snapshot(1) as snap:
        first = next(snap.rows)
        # commits after the snapshot began: a new item, a change, a delete, a numbered record
        storage.write_sync(Put(key(b"new"), b"n", stream=(record,)))
        storage.write_sync(Put(key(b"k001"), b"changed again"))
        storage.write_sync(Put(key(b"k002"), None))
        rows = [first, *snap.rows]
        assert snap.seq == seq_at
    assert storage.last_sequence() == seq_at + 1
    found = {r.pk: r.item for r in rows}
    assert len(found) == 300
    assert found[b"k000"] == b"changed"
    assert found[b"k001"] == b"v1"
    assert found[b"k002"] == b"v2"
    assert b"new" not in found and b"other" not in found
    assert [(r.h, r.pk, r.sk) for r in rows] == sorted((r.h, r.pk, r.sk) for r in rows)


def test_snapshot_of_an_empty_table(storage: Storage) -> None:
    with storage.snapshot(42) as snap:
        assert list(snap.rows) == []
        assert snap.seq == storage.last_sequence()
