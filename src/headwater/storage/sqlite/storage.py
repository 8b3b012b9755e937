"""SqliteStorage: the `Storage` backend on one SQLite database file (or an in-memory database)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from headwater.errors import InternalServerError
from headwater.storage import keyset
from headwater.storage.base import ItemKey, Row, SortBound, Storage, StoredRecord, WriteOperation
from headwater.storage.sqlite import reads, writes
from headwater.storage.sqlite.connections import ReadConnections, SharedConnection, ThreadLocalReaders
from headwater.storage.sqlite.schema import (
    DB_FILENAME,
    Synchronous,
    configure_writer,
    connect,
    create_schema,
)
from headwater.storage.sqlite.writer import DEFAULT_GROUP_CAP, Task, Writer, WriterStats

_META_GET = "SELECT value FROM meta WHERE kind = ? AND key = ?"
_META_LIST = "SELECT key, value FROM meta WHERE kind = ? ORDER BY key"
_COUNTERS = "SELECT item_count, size_bytes FROM counters WHERE table_id = ? AND index_id = ?"


class SqliteStorage:
    """SQLite in WAL mode; a single writer thread with group commit; one read connection per thread.

    `path` is the database file; None or ":memory:" gives an in-memory database that lives until
    `close()` (readers then share the writer's connection under a lock).

    Threading: `get_item`, `query`, `scan` and the other reads may be called from any thread, including
    the event loop's. `write` must be awaited on a running event loop; `write_sync` and
    `trim_stream_records` block until the commit and must not be called on an event loop's thread.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        synchronous: Synchronous = "FULL",
        group_cap: int = DEFAULT_GROUP_CAP,
    ) -> None:
        self.path: str | None = None if path is None or str(path) == ":memory:" else os.fspath(path)
        self.synchronous: Synchronous = synchronous
        self._group_cap = group_cap
        self._writer: Writer | None = None
        self._readers: ReadConnections | None = None
        self._write_conn: sqlite3.Connection | None = None

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str], **options: Any) -> SqliteStorage:
        """The storage of a data directory: `<data_dir>/headwater.db` (the directory is created)."""
        os.makedirs(data_dir, exist_ok=True)
        return cls(os.path.join(data_dir, DB_FILENAME), **options)

    @property
    def in_memory(self) -> bool:
        return self.path is None

    # -- lifecycle

    def open(self) -> None:
        if self._writer is not None:
            return
        lock: AbstractContextManager[Any]
        if self.path is None:
            conn = connect(":memory:")
            configure_writer(conn, self.synchronous, in_memory=True)
            shared_lock = threading.RLock()
            self._readers = SharedConnection(conn, shared_lock)
            lock = shared_lock
        else:
            conn = connect(self.path)
            configure_writer(conn, self.synchronous, in_memory=False)
            self._readers = ThreadLocalReaders(self.path)
            lock = contextlib.nullcontext()
        create_schema(conn)
        self._write_conn = conn
        self._writer = Writer(conn, lock, group_cap=self._group_cap)

    def close(self) -> None:
        """Commit what is queued, stop the writer, close every connection. Idempotent."""
        writer, readers, conn = self._writer, self._readers, self._write_conn
        if writer is None:
            return
        writer.close()
        if readers is not None:
            readers.close()
        if conn is not None:
            conn.close()
        self._writer = self._readers = self._write_conn = None

    def __enter__(self) -> SqliteStorage:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _w(self) -> Writer:
        if self._writer is None:
            raise InternalServerError("storage is not open")
        return self._writer

    def _r(self) -> ReadConnections:
        if self._readers is None:
            raise InternalServerError("storage is not open")
        return self._readers

    @property
    def stats(self) -> WriterStats:
        """SQLite-only introspection: commits vs operations (group commit), for tests and benchmarks."""
        return self._w().stats

    # -- writes

    async def write(self, op: WriteOperation) -> Any:
        return await self._w().submit_async(op)

    def write_sync(self, op: WriteOperation) -> Any:
        return self._w().submit_sync(op).result()

    def trim_stream_records(self, created_before: float) -> int:
        task = Task(lambda conn: writes.trim(conn, created_before))
        result: int = self._w().submit_sync(task).result()
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
            self._r().fetchall, "?", table_id, index_id, h, pk, lower, upper, forward, start_after, expected
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
        return keyset.scan(self._r().fetchall, "?", table_id, index_id, h_from, h_to, start_after, expected)

    def counters(self, table_id: int, index_id: int = 0) -> tuple[int, int]:
        rows = self._r().fetchall(_COUNTERS, (table_id, index_id))
        return (rows[0][0], rows[0][1]) if rows else (0, 0)

    def meta_get(self, kind: str, key: str) -> bytes | None:
        rows = self._r().fetchall(_META_GET, (kind, key))
        return rows[0][0] if rows else None

    def meta_list(self, kind: str) -> list[tuple[str, bytes]]:
        return [(r[0], r[1]) for r in self._r().fetchall(_META_LIST, (kind,))]

    def stream_records(
        self, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
    ) -> list[StoredRecord]:
        return reads.stream_records(self._r(), stream_id, slot, seq_from, seq_to, limit)


def _conforms(storage: SqliteStorage) -> Storage:
    """Static check (mypy) that SqliteStorage implements the Storage protocol."""
    return storage
