"""PostgresStorage: the `Storage` backend on a PostgreSQL database (the server deployment)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg

from headwater.errors import InternalServerError
from headwater.storage import keyset
from headwater.storage.base import (
    TRIM_MARK_KIND,
    ItemKey,
    Row,
    SortBound,
    Storage,
    StoredRecord,
    WriteOperation,
    trim_mark_key,
)
from headwater.storage.postgres import reads
from headwater.storage.postgres.pool import DEFAULT_POOL_SIZE, ReaderPool
from headwater.storage.postgres.schema import (
    check_schema_name,
    connect,
    create_schema,
    load_sequence,
    take_writer_lock,
)
from headwater.storage.postgres.writer import DEFAULT_GROUP_CAP, Task, Writer, WriterStats

# Control slots (< 0) are never trimmed; each trimmed (stream, slot) leaves its highest trimmed seq.
_TRIM = "DELETE FROM stream_records WHERE created_at < %s AND slot >= 0"
_TRIM_MARKS = (
    "SELECT stream_id, slot, max(seq) FROM stream_records WHERE created_at < %s AND slot >= 0 "
    "GROUP BY stream_id, slot"
)
_PUT_META = (
    "INSERT INTO meta (kind, key, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value"
)


def is_postgres_url(url: str | None) -> bool:
    return url is not None and url.startswith(("postgresql://", "postgres://"))


class PostgresStorage:
    """PostgreSQL through psycopg 3: one writer thread owning one connection, with group commit
    (synchronous_commit on: a write is acknowledged only once PostgreSQL has flushed its commit), and a
    small pool of read connections.

    `url` is a libpq connection URI (postgresql://user:pw@host:port/db?...). `schema`, when given, is
    created if missing and holds Headwater's tables (several Headwater instances may share a database,
    one per schema); otherwise the connection's default search_path decides (normally `public`).
    Only one Headwater may write a schema at a time: `open` waits up to `lock_wait` seconds for it.

    Threading is as for SqliteStorage: reads from any thread; `write` awaited on a running event loop;
    `write_sync` and `trim_stream_records` block and must not be called on an event loop's thread.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        group_cap: int = DEFAULT_GROUP_CAP,
        pool_size: int = DEFAULT_POOL_SIZE,
        lock_wait: float = 10.0,
    ) -> None:
        check_schema_name(schema)
        self.url = url
        self.schema = schema
        self._group_cap = group_cap
        self._pool_size = pool_size
        self._lock_wait = lock_wait
        self._writer: Writer | None = None
        self._readers: ReaderPool | None = None

    # -- lifecycle

    def _writer_connection(self) -> psycopg.Connection[Any]:
        conn = connect(self.url, self.schema, autocommit=False, synchronous_commit="on")
        try:
            take_writer_lock(conn, self.schema, self._lock_wait)
        except BaseException:
            conn.close()
            raise
        return conn

    def _reader_connection(self) -> psycopg.Connection[Any]:
        return connect(self.url, self.schema, autocommit=True, default_transaction_read_only="on")

    def open(self) -> None:
        if self._writer is not None:
            return
        try:
            conn = self._writer_connection()
        except psycopg.Error as exc:
            raise InternalServerError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            create_schema(conn, self.schema)
            last_seq = load_sequence(conn)
        except BaseException:
            conn.close()
            raise
        self._readers = ReaderPool(self._reader_connection, self._pool_size)
        self._writer = Writer(conn, self._writer_connection, last_seq, group_cap=self._group_cap)

    def close(self) -> None:
        """Commit what is queued, stop the writer, close every connection. Idempotent."""
        writer, readers = self._writer, self._readers
        if writer is None:
            return
        writer.close()
        if readers is not None:
            readers.close()
        self._writer = self._readers = None

    def __enter__(self) -> PostgresStorage:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _w(self) -> Writer:
        if self._writer is None:
            raise InternalServerError("storage is not open")
        return self._writer

    def _r(self) -> ReaderPool:
        if self._readers is None:
            raise InternalServerError("storage is not open")
        return self._readers

    @property
    def stats(self) -> WriterStats:
        """Introspection: commits vs operations (group commit), for tests and benchmarks."""
        return self._w().stats

    # -- writes

    async def write(self, op: WriteOperation) -> Any:
        return await self._w().submit_async(op)

    def write_sync(self, op: WriteOperation) -> Any:
        return self._w().submit_sync(op).result()

    def trim_stream_records(self, created_before: float) -> int:
        def trim(conn: psycopg.Connection[Any]) -> int:
            marks = conn.execute(_TRIM_MARKS, (created_before,)).fetchall()
            if marks:
                rows = [(TRIM_MARK_KIND, trim_mark_key(s, slot), str(seq).encode()) for s, slot, seq in marks]
                with conn.cursor() as cur:
                    cur.executemany(_PUT_META, rows)
            return conn.execute(_TRIM, (created_before,)).rowcount

        result: int = self._w().submit_sync(Task(trim)).result()
        return result

    def last_sequence(self) -> int:
        return self._w().last_sequence

    def last_stream_seq(self, stream_id: int, slot: int, seq_from: int, seq_to: int | None) -> int | None:
        return reads.last_stream_seq(self._r(), stream_id, slot, seq_from, seq_to)

    # -- reads

    def get_item(self, key: ItemKey) -> bytes | None:
        rows = self._r().fetchall(reads.GET_ITEM, (key.table_id, key.h, key.pk, key.sk))
        return rows[0][0] if rows else None

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
        return keyset.query(
            self._r().fetchall, "%s", table_id, index_id, h, pk, lower, upper, forward, start_after, expected
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
        return keyset.scan(self._r().fetchall, "%s", table_id, index_id, h_from, h_to, start_after, expected)

    def counters(self, table_id: int, index_id: int = 0) -> tuple[int, int]:
        rows = self._r().fetchall(reads.COUNTERS, (table_id, index_id))
        return (rows[0][0], rows[0][1]) if rows else (0, 0)

    def meta_get(self, kind: str, key: str) -> bytes | None:
        rows = self._r().fetchall(reads.META_GET, (kind, key))
        return rows[0][0] if rows else None

    def meta_list(self, kind: str) -> list[tuple[str, bytes]]:
        return [(r[0], r[1]) for r in self._r().fetchall(reads.META_LIST, (kind,))]

    def stream_records(
        self, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
    ) -> list[StoredRecord]:
        return reads.stream_records(self._r(), stream_id, slot, seq_from, seq_to, limit)


def _conforms(storage: PostgresStorage) -> Storage:
    """Static check (mypy) that PostgresStorage implements the Storage protocol."""
    return storage
