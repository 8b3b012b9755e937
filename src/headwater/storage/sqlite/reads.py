"""Reads: point gets, stream records (range reads of items and index entries: storage/keyset.py)."""

from __future__ import annotations

from typing import Any

from headwater.storage.base import StoredRecord
from headwater.storage.sqlite.connections import ReadConnections

GET_ITEM = "SELECT item FROM items WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?"


def stream_records(
    readers: ReadConnections, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
) -> list[StoredRecord]:
    if limit <= 0:
        return []
    if seq_to is None:
        sql = (
            "SELECT seq, created_at, payload FROM stream_records "
            "WHERE stream_id = ? AND slot = ? AND seq >= ? ORDER BY seq LIMIT ?"
        )
        params: list[Any] = [stream_id, slot, seq_from, limit]
    else:
        sql = (
            "SELECT seq, created_at, payload FROM stream_records "
            "WHERE stream_id = ? AND slot = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?"
        )
        params = [stream_id, slot, seq_from, seq_to, limit]
    return [StoredRecord(r[0], r[1], r[2]) for r in readers.fetchall(sql, params)]


def last_stream_seq(
    readers: ReadConnections, stream_id: int, slot: int, seq_from: int, seq_to: int | None
) -> int | None:
    sql = "SELECT MAX(seq) FROM stream_records WHERE stream_id = ? AND slot = ? AND seq >= ?"
    params: list[Any] = [stream_id, slot, seq_from]
    if seq_to is not None:
        sql += " AND seq <= ?"
        params.append(seq_to)
    rows = readers.fetchall(sql, params)
    return None if not rows or rows[0][0] is None else int(rows[0][0])
