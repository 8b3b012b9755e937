"""The Storage protocol's reads, shared by the SQL backends (SQLite, PostgreSQL).

A backend mixes in `SqlReads` and supplies `_fetch` (run one SELECT on a reader connection) and `_mark`
(its parameter placeholder). Partition and table range reads are lazy iterators fetched in chunks: each
chunk is its own keyset-paginated SELECT that resumes after the last row seen (a comparison the primary
key index answers), so a partition is never loaded whole, no statement or snapshot stays open between
chunks, and rows come back in key order without any sorting. The first chunk is sized to what the caller
expects to read (a page's Limit).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from .base import CATALOG_KIND, ItemKey, PairedRow, Row, SortBound, StoredRecord, TableSnapshot

FIRST_CHUNK = 32
MAX_CHUNK = 1024

Fetch = Callable[[str, Sequence[Any]], list[Any]]


@functools.lru_cache(maxsize=256)
def query_sql(index: bool, lower: int, upper: int, cursor: bool, forward: bool, mark: str) -> str:
    """lower/upper: 0 none, 1 inclusive, 2 exclusive; `mark` is the driver's placeholder."""
    direction = "ASC" if forward else "DESC"
    if index:
        sql = (
            "SELECT h, pk, sk, item, base_pk, base_sk FROM index_entries "
            f"WHERE table_id = {mark} AND index_id = {mark} AND h = {mark} AND pk = {mark}"
        )
        order = f" ORDER BY sk {direction}, base_pk {direction}, base_sk {direction}"
        after = f"(sk, base_pk, base_sk) {{}} ({mark}, {mark}, {mark})"
    else:
        sql = f"SELECT h, pk, sk, item FROM items WHERE table_id = {mark} AND h = {mark} AND pk = {mark}"
        order = f" ORDER BY sk {direction}"
        after = f"sk {{}} {mark}"
    if lower:
        sql += f" AND sk >= {mark}" if lower == 1 else f" AND sk > {mark}"
    if upper:
        sql += f" AND sk <= {mark}" if upper == 1 else f" AND sk < {mark}"
    if cursor:
        sql += " AND " + after.format(">" if forward else "<")
    return sql + order + f" LIMIT {mark}"


@functools.lru_cache(maxsize=16)
def scan_sql(index: bool, cursor: bool, mark: str) -> str:
    if index:
        sql = (
            "SELECT h, pk, sk, item, base_pk, base_sk FROM index_entries "
            f"WHERE table_id = {mark} AND index_id = {mark}"
        )
        after = f" AND (h, pk, sk, base_pk, base_sk) > ({mark}, {mark}, {mark}, {mark}, {mark})"
        order = " ORDER BY h, pk, sk, base_pk, base_sk"
    else:
        sql = f"SELECT h, pk, sk, item FROM items WHERE table_id = {mark}"
        after = f" AND (h, pk, sk) > ({mark}, {mark}, {mark})"
        order = " ORDER BY h, pk, sk"
    sql += after if cursor else f" AND h >= {mark}"
    return sql + f" AND h <= {mark}" + order + f" LIMIT {mark}"


@functools.lru_cache(maxsize=4)
def paired_sql(mark: str) -> str:
    """The first keys after a cursor of two tables' items taken together (the first `limit` of each
    suffice: a key among the first `limit` of both is among the first `limit` of either), each with its
    row in both, as ONE statement: one snapshot, so the two rows of a key are from one instant."""
    m = mark
    after = f"(h, pk, sk) > ({m}, {m}, {m})"
    first = f"SELECT h, pk, sk, item FROM items WHERE table_id = {m} AND {after} ORDER BY h, pk, sk LIMIT {m}"
    same = "o.h = a.h AND o.pk = a.pk AND o.sk = a.sk"
    return (
        "SELECT h, pk, sk, item, other FROM ("
        f"SELECT a.h AS h, a.pk AS pk, a.sk AS sk, a.item AS item, o.item AS other FROM ({first}) a"
        f" LEFT JOIN items o ON o.table_id = {m} AND {same}"
        f" UNION ALL SELECT a.h, a.pk, a.sk, NULL, a.item FROM ({first}) a"
        f" WHERE NOT EXISTS (SELECT 1 FROM items o WHERE o.table_id = {m} AND {same})"
        f") paired ORDER BY h, pk, sk LIMIT {m}"
    )


def _bound_code(bound: SortBound | None) -> int:
    if bound is None:
        return 0
    return 1 if bound.inclusive else 2


def _row(r: Any, index: bool) -> Row:
    if index:
        return Row(r[0], r[1], r[2], r[3], r[4], r[5])
    return Row(r[0], r[1], r[2], r[3])


def _first_chunk(expected: int | None) -> int:
    # a caller that knows how many rows it wants (a page's Limit) gets them in one statement
    return FIRST_CHUNK if expected is None else max(1, min(expected, MAX_CHUNK))


def query(
    fetch: Fetch,
    mark: str,
    table_id: int,
    index_id: int,
    h: int,
    pk: bytes,
    lower: SortBound | None,
    upper: SortBound | None,
    forward: bool,
    start_after: tuple[bytes, bytes, bytes] | None,
    expected: int | None = None,
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
    chunk = _first_chunk(expected)
    while True:
        sql = query_sql(index, lower_code, upper_code, cursor is not None, forward, mark)
        params = prefix if cursor is None else [*prefix, *cursor]
        rows = fetch(sql, [*params, chunk])
        for r in rows:
            yield _row(r, index)
        if len(rows) < chunk:
            return
        last = rows[-1]
        cursor = (last[2], last[4], last[5]) if index else (last[2],)
        chunk = min(chunk * 2, MAX_CHUNK)


def scan(
    fetch: Fetch,
    mark: str,
    table_id: int,
    index_id: int,
    h_from: int,
    h_to: int,
    start_after: tuple[int, bytes, bytes, bytes, bytes] | None,
    expected: int | None = None,
) -> Iterator[Row]:
    index = index_id != 0
    prefix: list[Any] = [table_id, index_id] if index else [table_id]
    cursor: tuple[Any, ...] | None = None
    if start_after is not None and start_after[0] >= h_from:
        cursor = start_after if index else start_after[:3]
    chunk = _first_chunk(expected)
    while True:
        params = [*prefix, h_from, h_to, chunk] if cursor is None else [*prefix, *cursor, h_to, chunk]
        rows = fetch(scan_sql(index, cursor is not None, mark), params)
        for r in rows:
            yield _row(r, index)
        if len(rows) < chunk:
            return
        last = rows[-1]
        cursor = (last[0], last[1], last[2], last[4], last[5]) if index else (last[0], last[1], last[2])
        chunk = min(chunk * 2, MAX_CHUNK)


@functools.lru_cache(maxsize=16)
def _statements(mark: str) -> dict[str, str]:
    m = mark
    return {
        "get_item": f"SELECT item FROM items WHERE table_id = {m} AND h = {m} AND pk = {m} AND sk = {m}",
        "counters": f"SELECT item_count, size_bytes FROM counters WHERE table_id = {m} AND index_id = {m}",
        "meta_get": f"SELECT value FROM meta WHERE kind = {m} AND key = {m}",
        "meta_list": f"SELECT key, value FROM meta WHERE kind = {m} ORDER BY key",
        "records": (
            "SELECT seq, created_at, payload FROM stream_records "
            f"WHERE stream_id = {m} AND slot = {m} AND seq >= {m} ORDER BY seq LIMIT {m}"
        ),
        "records_to": (
            "SELECT seq, created_at, payload FROM stream_records "
            f"WHERE stream_id = {m} AND slot = {m} AND seq >= {m} AND seq <= {m} ORDER BY seq LIMIT {m}"
        ),
        "last_seq": (
            f"SELECT MAX(seq) FROM stream_records WHERE stream_id = {m} AND slot = {m} AND seq >= {m}"
        ),
        "first_at": (
            "SELECT MIN(seq) FROM stream_records "
            f"WHERE stream_id = {m} AND slot = {m} AND seq >= {m} AND created_at >= {m}"
        ),
        "first_at_to": (
            "SELECT MIN(seq) FROM stream_records "
            f"WHERE stream_id = {m} AND slot = {m} AND seq >= {m} AND seq <= {m} AND created_at >= {m}"
        ),
        "committed_seq": "SELECT last FROM sequence WHERE id = 0",
        "last_seq_to": (
            "SELECT MAX(seq) FROM stream_records "
            f"WHERE stream_id = {m} AND slot = {m} AND seq >= {m} AND seq <= {m}"
        ),
    }


def table_snapshot(
    fetch: Fetch, mark: str, table_id: int, seq: tuple[str, Sequence[Any]] | None = None
) -> TableSnapshot:
    """A table's snapshot read through `fetch`, which must run every statement in one read transaction:
    the sequence number first (the transaction's snapshot is fixed by its first read; `seq`: the
    statement that reads it, else the one committed sequence number's), then the rows."""
    found = fetch(*(seq or (_statements(mark)["committed_seq"], ())))
    at = int(found[0][0]) if found and found[0][0] is not None else 0
    return TableSnapshot(at, scan(fetch, mark, table_id, 0, 0, 0xFFFFFFFF, None, MAX_CHUNK))


class SqlReads(ABC):
    """Every read of the Storage protocol, for a backend that can run one SQL statement."""

    _mark: ClassVar[str]

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """All rows of one SELECT on this thread's reader connection."""

    def get_item(self, key: ItemKey) -> bytes | None:
        rows = self._fetch(_statements(self._mark)["get_item"], (key.table_id, key.h, key.pk, key.sk))
        return rows[0][0] if rows else None

    async def read_item(self, key: ItemKey) -> bytes | None:
        return self.get_item(key)

    def query(
        self,
        table_id: int,
        index_id: int,
        h: int,
        pk: bytes,
        *,
        lower: SortBound | None = None,
        upper: SortBound | None = None,
        forward: bool = True,
        start_after: tuple[bytes, bytes, bytes] | None = None,
        expected: int | None = None,
    ) -> Iterator[Row]:
        return query(
            self._fetch, self._mark, table_id, index_id, h, pk, lower, upper, forward, start_after, expected
        )

    def scan(
        self,
        table_id: int,
        index_id: int,
        *,
        h_from: int = 0,
        h_to: int = 0xFFFFFFFF,
        start_after: tuple[int, bytes, bytes, bytes, bytes] | None = None,
        expected: int | None = None,
    ) -> Iterator[Row]:
        return scan(self._fetch, self._mark, table_id, index_id, h_from, h_to, start_after, expected)

    def scan_paired(
        self, table_id: int, other_id: int, start_after: tuple[int, bytes, bytes] | None, limit: int
    ) -> list[PairedRow]:
        h, pk, sk = start_after or (-1, b"", b"")
        params = (table_id, h, pk, sk, limit, other_id, other_id, h, pk, sk, limit, table_id, limit)
        return [PairedRow(r[0], r[1], r[2], r[3], r[4]) for r in self._fetch(paired_sql(self._mark), params)]

    def counters(self, table_id: int, index_id: int = 0) -> tuple[int, int]:
        rows = self._fetch(_statements(self._mark)["counters"], (table_id, index_id))
        return (rows[0][0], rows[0][1]) if rows else (0, 0)

    def meta_get(self, kind: str, key: str) -> bytes | None:
        rows = self._fetch(_statements(self._mark)["meta_get"], (kind, key))
        return rows[0][0] if rows else None

    def meta_list(self, kind: str) -> list[tuple[str, bytes]]:
        return [(r[0], r[1]) for r in self._fetch(_statements(self._mark)["meta_list"], (kind,))]

    def stream_records(
        self, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
    ) -> list[StoredRecord]:
        if limit <= 0:
            return []
        sql = _statements(self._mark)
        if seq_to is None:
            rows = self._fetch(sql["records"], (stream_id, slot, seq_from, limit))
        else:
            rows = self._fetch(sql["records_to"], (stream_id, slot, seq_from, seq_to, limit))
        return [StoredRecord(r[0], r[1], r[2]) for r in rows]

    def last_stream_seq(self, stream_id: int, slot: int, seq_from: int, seq_to: int | None) -> int | None:
        sql = _statements(self._mark)
        if seq_to is None:
            rows = self._fetch(sql["last_seq"], (stream_id, slot, seq_from))
        else:
            rows = self._fetch(sql["last_seq_to"], (stream_id, slot, seq_from, seq_to))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def first_stream_seq_at(
        self, stream_id: int, slot: int, created_from: float, seq_from: int, seq_to: int | None
    ) -> int | None:
        sql = _statements(self._mark)
        if seq_to is None:
            rows = self._fetch(sql["first_at"], (stream_id, slot, seq_from, created_from))
        else:
            rows = self._fetch(sql["first_at_to"], (stream_id, slot, seq_from, seq_to, created_from))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    # -- a process that reads but does not write (a front process)

    def committed_sequence(self) -> int:
        """The last committed sequence number as the database has it."""
        rows = self._fetch(_statements(self._mark)["committed_seq"], ())
        return int(rows[0][0]) if rows else 0


class CatalogFollower:
    """A reading process's copy of the committed catalog, read again whenever `version()` (published by
    the process that writes, after each commit that changed a table definition) has moved."""

    def __init__(self, reads: SqlReads, version: Callable[[], int]) -> None:
        self._reads = reads
        self._version = version
        self._seen = -1
        self._catalog: Mapping[str, bytes] = {}

    def reload(self) -> Mapping[str, bytes]:
        """Read the catalog again now (another node, not this process's core, changed it)."""
        self._seen = -1
        return self.get()

    def get(self) -> Mapping[str, bytes]:
        version = self._version()  # before reading: a change during the read moves it again
        if version != self._seen:
            self._catalog = dict(self._reads.meta_list(CATALOG_KIND))
            self._seen = version
        return self._catalog
