"""Reads: point gets, stream records (range reads of items and index entries: storage/keyset.py)."""

from __future__ import annotations

from typing import Any

from headwater.storage.base import StoredRecord
from headwater.storage.postgres.pool import ReaderPool

GET_ITEM = "SELECT item FROM items WHERE table_id = %s AND h = %s AND pk = %s AND sk = %s"
META_GET = "SELECT value FROM meta WHERE kind = %s AND key = %s"
META_LIST = "SELECT key, value FROM meta WHERE kind = %s ORDER BY key"
COUNTERS = "SELECT item_count, size_bytes FROM counters WHERE table_id = %s AND index_id = %s"


def stream_records(
    readers: ReaderPool, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
) -> list[StoredRecord]:
    if limit <= 0:
        return []
    if seq_to is None:
        sql = (
            "SELECT seq, created_at, payload FROM stream_records "
            "WHERE stream_id = %s AND slot = %s AND seq >= %s ORDER BY seq LIMIT %s"
        )
        params: list[Any] = [stream_id, slot, seq_from, limit]
    else:
        sql = (
            "SELECT seq, created_at, payload FROM stream_records "
            "WHERE stream_id = %s AND slot = %s AND seq >= %s AND seq <= %s ORDER BY seq LIMIT %s"
        )
        params = [stream_id, slot, seq_from, seq_to, limit]
    return [StoredRecord(r[0], r[1], r[2]) for r in readers.fetchall(sql, params)]


def last_stream_seq(
    readers: ReaderPool, stream_id: int, slot: int, seq_from: int, seq_to: int | None
) -> int | None:
    sql = "SELECT max(seq) FROM stream_records WHERE stream_id = %s AND slot = %s AND seq >= %s"
    params: list[Any] = [stream_id, slot, seq_from]
    if seq_to is not None:
        sql += " AND seq <= %s"
        params.append(seq_to)
    rows = readers.fetchall(sql, params)
    return None if not rows or rows[0][0] is None else int(rows[0][0])
