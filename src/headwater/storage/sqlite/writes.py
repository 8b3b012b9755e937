"""Turning one WriteSet into SQL on the writer's connection (inside the writer's open transaction)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from headwater.storage import log_trim
from headwater.storage.base import CATALOG_KIND, TRIM_MARK_KIND, ItemKey, WriteSet

_GET_ITEM = "SELECT item FROM items WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?"
_PUT_ITEM = (
    "INSERT INTO items (table_id, h, pk, sk, item) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (table_id, h, pk, sk) DO UPDATE SET item = excluded.item"
)
_DELETE_ITEM = "DELETE FROM items WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?"
_PUT_INDEX = (
    "INSERT INTO index_entries (table_id, index_id, h, pk, sk, base_pk, base_sk, item) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (table_id, index_id, h, pk, sk, base_pk, base_sk) DO UPDATE SET item = excluded.item"
)
_DELETE_INDEX = (
    "DELETE FROM index_entries WHERE table_id = ? AND index_id = ? AND h = ? AND pk = ? AND sk = ? "
    "AND base_pk = ? AND base_sk = ?"
)
_ADD_COUNTERS = (
    "INSERT INTO counters (table_id, index_id, item_count, size_bytes) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (table_id, index_id) DO UPDATE SET item_count = item_count + excluded.item_count, "
    "size_bytes = size_bytes + excluded.size_bytes"
)
_PUT_META = (
    "INSERT INTO meta (kind, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value"
)
_DELETE_META = "DELETE FROM meta WHERE kind = ? AND key = ?"
_PUT_RECORD = "INSERT INTO stream_records (stream_id, slot, seq, created_at, payload) VALUES (?, ?, ?, ?, ?)"
_SET_SEQUENCE = "UPDATE sequence SET last = ? WHERE id = 0"


def load_catalog(conn: sqlite3.Connection) -> dict[str, bytes]:
    rows = conn.execute("SELECT key, value FROM meta WHERE kind = ?", (CATALOG_KIND,)).fetchall()
    return {key: bytes(value) for key, value in rows}


_UNREAD: Any = object()
KEPT_ROWS = 1024  # table id 0 rows the writer keeps between groups (beyond: it starts over)


class GroupReads:
    """The old values a group's operations read, in its transaction. Rows outside tables (ids <= 0: a
    Kinesis stream's document, an item collection's size) are read by many operations of a group (every
    put into a table with a Kinesis destination reads its stream's document): each is read once and
    then kept as the group's own writes leave it. Items are read every time (rarely twice a group).

    The rows of table id 0 (Kinesis streams' documents: few, small, read by every group of puts into a
    table with a destination) are kept between groups too, in the writer's `kept`: as the last commit
    left them (`committed`), so a group rolled back leaves it as it was."""

    def __init__(self, conn: sqlite3.Connection, kept: dict[ItemKey, bytes | None]) -> None:
        self._conn = conn
        self._kept = kept
        self._shared: dict[ItemKey, bytes | None] = {}

    def read(self, keys: Sequence[ItemKey]) -> list[bytes | None]:
        olds: list[bytes | None] = []
        shared = self._shared
        for key in keys:
            table_id = key.table_id
            if table_id <= 0:  # (one look-up each: an ItemKey hashes its fields every time)
                old = shared.get(key, _UNREAD)
                if old is _UNREAD and table_id == 0:
                    old = self._kept.get(key, _UNREAD)
                    if old is not _UNREAD:
                        shared[key] = old
                if old is not _UNREAD:
                    olds.append(old)
                    continue
            row = self._conn.execute(_GET_ITEM, (table_id, key.h, key.pk, key.sk)).fetchone()
            old = None if row is None else row[0]
            if table_id <= 0:
                shared[key] = old
            olds.append(old)
        return olds

    def wrote(self, ws: WriteSet) -> None:
        """After `ws` was written: what it wrote outside tables is what the next operation reads."""
        shared = self._shared
        for iw in ws.items:
            if iw.key.table_id <= 0:
                shared[iw.key] = iw.item
        if ws.drop_tables:
            self.forget()  # a dropped table's collection sizes go with it

    def forget(self) -> None:
        """Read every row from the database again (a writer task may change any)."""
        self._shared.clear()
        self._kept.clear()

    def committed(self) -> None:
        """After the group's COMMIT: the table id 0 rows it read or wrote are as it left them."""
        kept = self._kept
        for key, value in self._shared.items():
            if key.table_id == 0:
                kept[key] = value
        if len(kept) > KEPT_ROWS:
            kept.clear()


Counters = dict[tuple[int, int], list[int]]
Records = list[tuple[int, int, int, float, bytes]]  # (stream_id, slot, seq, created_at, payload)


def write_set(
    conn: sqlite3.Connection, ws: WriteSet, last_seq: int, counters: Counters, records: Records
) -> int:
    """Write everything of `ws`; returns the last sequence number used (stream records get the next ones).
    Counter deltas are added to `counters`, written once per group by `write_counters` (one statement per
    table instead of one per operation); stream records, numbered here, are added to `records`, inserted
    by `write_records` (once per group, before anything that deletes records: see the writer).

    Dropped tables go first, so a WriteSet may drop a table and write a fresh one with the same id.
    """
    for table_id in ws.drop_tables:
        for counted in [k for k in counters if k[0] == table_id]:
            del counters[counted]  # the table's counters are deleted with it
        conn.execute("DELETE FROM items WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM index_entries WHERE table_id = ?", (table_id,))
        conn.execute("DELETE FROM counters WHERE table_id = ?", (table_id,))
    for stream_id in ws.drop_streams:
        conn.execute("DELETE FROM stream_records WHERE stream_id = ?", (stream_id,))
        conn.execute(
            "DELETE FROM meta WHERE kind = ? AND key >= ? AND key < ?",
            (TRIM_MARK_KIND, f"{stream_id:012d}:", f"{stream_id:012d};"),
        )
    for iw in ws.items:
        k = iw.key
        if iw.item is None:
            conn.execute(_DELETE_ITEM, (k.table_id, k.h, k.pk, k.sk))
        else:
            conn.execute(_PUT_ITEM, (k.table_id, k.h, k.pk, k.sk, iw.item))
    for xw in ws.indexes:
        x = xw.key
        params = (x.table_id, x.index_id, x.h, x.pk, x.sk, x.base_pk, x.base_sk)
        if xw.item is None:
            conn.execute(_DELETE_INDEX, params)
        else:
            conn.execute(_PUT_INDEX, (*params, xw.item))
    for key, (count, size) in ws.counters.items():
        total = counters.get(key)
        if total is None:
            counters[key] = [count, size]
        else:
            total[0] += count
            total[1] += size
    for mw in ws.meta:
        if mw.value is None:
            conn.execute(_DELETE_META, (mw.kind, mw.key))
        else:
            conn.execute(_PUT_META, (mw.kind, mw.key, mw.value))
    for sw in ws.stream:
        last_seq += 1
        records.append((sw.stream_id, sw.slot, last_seq, sw.created_at, sw.payload))
    return last_seq


def write_records(conn: sqlite3.Connection, records: Records) -> None:
    """Insert (and forget) the stream records numbered so far: one statement for a group's records
    instead of one per record (a put into a table with a Kinesis destination writes one)."""
    if records:
        conn.executemany(_PUT_RECORD, records)
        records.clear()


def write_counters(conn: sqlite3.Connection, counters: Counters) -> None:
    for (table_id, index_id), (count, size) in counters.items():
        if count or size:
            conn.execute(_ADD_COUNTERS, (table_id, index_id, count, size))


def save_sequence(conn: sqlite3.Connection, last_seq: int) -> None:
    conn.execute(_SET_SEQUENCE, (last_seq,))


def load_sequence(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT last FROM sequence WHERE id = 0").fetchone()
    return 0 if row is None else int(row[0])


def trim(conn: sqlite3.Connection, stream_id: int, created_before: float) -> int:
    return log_trim.trim(conn, "?", stream_id, created_before)
