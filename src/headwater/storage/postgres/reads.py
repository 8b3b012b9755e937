"""Reads: point gets, and partition/table range reads as lazy iterators fetched in growing chunks.

Each chunk is its own keyset-paginated SELECT (resuming after the last row seen, a row comparison the
primary key index answers), so a partition is never loaded whole and no snapshot stays open.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from headwater.storage.base import Row, SortBound, StoredRecord
from headwater.storage.postgres.pool import ReaderPool

FIRST_CHUNK = 32
MAX_CHUNK = 1024

GET_ITEM = "SELECT item FROM items WHERE table_id = %s AND h = %s AND pk = %s AND sk = %s"
META_GET = "SELECT value FROM meta WHERE kind = %s AND key = %s"
META_LIST = "SELECT key, value FROM meta WHERE kind = %s ORDER BY key"
COUNTERS = "SELECT item_count, size_bytes FROM counters WHERE table_id = %s AND index_id = %s"


@functools.lru_cache(maxsize=128)
def _query_sql(index: bool, lower: int, upper: int, cursor: bool, forward: bool) -> str:
    """lower/upper: 0 none, 1 inclusive, 2 exclusive."""
    direction = "ASC" if forward else "DESC"
    if index:
        sql = (
            "SELECT h, pk, sk, item, base_pk, base_sk FROM index_entries "
            "WHERE table_id = %s AND index_id = %s AND h = %s AND pk = %s"
        )
        order = f" ORDER BY sk {direction}, base_pk {direction}, base_sk {direction}"
        after = "(sk, base_pk, base_sk) {} (%s, %s, %s)"
    else:
        sql = "SELECT h, pk, sk, item FROM items WHERE table_id = %s AND h = %s AND pk = %s"
        order = f" ORDER BY sk {direction}"
        after = "sk {} %s"
    if lower:
        sql += " AND sk >= %s" if lower == 1 else " AND sk > %s"
    if upper:
        sql += " AND sk <= %s" if upper == 1 else " AND sk < %s"
    if cursor:
        sql += " AND " + after.format(">" if forward else "<")
    return sql + order + " LIMIT %s"


def _bound_code(bound: SortBound | None) -> int:
    if bound is None:
        return 0
    return 1 if bound.inclusive else 2


def _row(r: Any, index: bool) -> Row:
    if index:
        return Row(r[0], r[1], r[2], r[3], r[4], r[5])
    return Row(r[0], r[1], r[2], r[3])


def query(
    readers: ReaderPool,
    table_id: int,
    index_id: int,
    h: int,
    pk: bytes,
    lower: SortBound | None,
    upper: SortBound | None,
    forward: bool,
    start_after: tuple[bytes, bytes, bytes] | None,
) -> Iterator[Row]:
    index = index_id != 0
    prefix: list[Any] = [table_id, index_id, h, pk] if index else [table_id, h, pk]
    if lower is not None:
        prefix.append(lower.value)
    if upper is not None:
        prefix.append(upper.value)
    lower_code, upper_code = _bound_code(lower), _bound_code(upper)
    cursor: tuple[bytes, ...] | None = None
    if start_after is not None:
        cursor = start_after if index else (start_after[0],)
    chunk = FIRST_CHUNK
    while True:
        sql = _query_sql(index, lower_code, upper_code, cursor is not None, forward)
        params = prefix if cursor is None else [*prefix, *cursor]
        rows = readers.fetchall(sql, [*params, chunk])
        for r in rows:
            yield _row(r, index)
        if len(rows) < chunk:
            return
        last = rows[-1]
        cursor = (last[2], last[4], last[5]) if index else (last[2],)
        chunk = min(chunk * 2, MAX_CHUNK)


@functools.lru_cache(maxsize=8)
def _scan_sql(index: bool, cursor: bool) -> str:
    if index:
        sql = (
            "SELECT h, pk, sk, item, base_pk, base_sk FROM index_entries "
            "WHERE table_id = %s AND index_id = %s"
        )
        after = " AND (h, pk, sk, base_pk, base_sk) > (%s, %s, %s, %s, %s)"
        order = " ORDER BY h, pk, sk, base_pk, base_sk"
    else:
        sql = "SELECT h, pk, sk, item FROM items WHERE table_id = %s"
        after = " AND (h, pk, sk) > (%s, %s, %s)"
        order = " ORDER BY h, pk, sk"
    sql += after if cursor else " AND h >= %s"
    return sql + " AND h <= %s" + order + " LIMIT %s"


def scan(
    readers: ReaderPool,
    table_id: int,
    index_id: int,
    h_from: int,
    h_to: int,
    start_after: tuple[int, bytes, bytes, bytes, bytes] | None,
) -> Iterator[Row]:
    index = index_id != 0
    prefix: list[Any] = [table_id, index_id] if index else [table_id]
    cursor: tuple[Any, ...] | None = None
    if start_after is not None and start_after[0] >= h_from:
        cursor = start_after if index else start_after[:3]
    chunk = FIRST_CHUNK
    while True:
        params = [*prefix, h_from, h_to, chunk] if cursor is None else [*prefix, *cursor, h_to, chunk]
        rows = readers.fetchall(_scan_sql(index, cursor is not None), params)
        for r in rows:
            yield _row(r, index)
        if len(rows) < chunk:
            return
        last = rows[-1]
        cursor = (last[0], last[1], last[2], last[4], last[5]) if index else (last[0], last[1], last[2])
        chunk = min(chunk * 2, MAX_CHUNK)


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
