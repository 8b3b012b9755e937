"""SqliteStorage: the `Storage` backend on one SQLite database file (or an in-memory database)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from headwater.errors import InternalServerError
from headwater.storage.base import Lease, Storage, TableSnapshot, WriteOperation
from headwater.storage.group_commit import WriterLoad
from headwater.storage.shard_uses import LocalShardUses, ShardUses
from headwater.storage.sql_reads import CatalogFollower, SqlReads, table_snapshot
from headwater.storage.sqlite import writes
from headwater.storage.sqlite.connections import ReadConnections, SharedConnection, ThreadLocalReaders
from headwater.storage.sqlite.schema import (
    DB_FILENAME,
    Synchronous,
    configure_reader,
    configure_writer,
    connect,
    create_schema,
)
from headwater.storage.sqlite.writer import DEFAULT_GROUP_CAP, Task, Writer, WriterStats


class SqliteStorage(SqlReads):
    _mark = "?"

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
        on_loop: bool = False,
        catalog_version: Callable[[], int] | None = None,
        wal_limit_mb: int = 256,
    ) -> None:
        """`on_loop`: the writer commits on the event loop that opens the storage instead of a thread of
        its own. `catalog_version`: this process only reads (a front process): no writer at all, and the
        catalog is read again whenever the given version moves. `wal_limit_mb`: see syncer.py."""
        self.path: str | None = None if path is None or str(path) == ":memory:" else os.fspath(path)
        self.synchronous: Synchronous = synchronous
        self._group_cap = group_cap
        self._on_loop = on_loop
        self._wal_limit_mb = wal_limit_mb
        self._writer: Writer | None = None
        self._readers: ReadConnections | None = None
        self._write_conn: sqlite3.Connection | None = None
        self._follower = CatalogFollower(self, catalog_version) if catalog_version is not None else None
        self._shard_uses = LocalShardUses()  # one node: counted in this process
        if self._follower is not None and self.path is None:
            raise ValueError("an in-memory database cannot be read from another process")

    @classmethod
    def in_data_dir(cls, data_dir: str | os.PathLike[str], **options: Any) -> SqliteStorage:
        """The storage of a data directory: `<data_dir>/headwater.db` (the directory is created)."""
        os.makedirs(data_dir, exist_ok=True)
        return cls(os.path.join(data_dir, DB_FILENAME), **options)

    @classmethod
    def reader(cls, data_dir: str | os.PathLike[str], *, catalog_version: Callable[[], int]) -> SqliteStorage:
        """A front process's view of a data directory another process writes."""
        return cls(os.path.join(data_dir, DB_FILENAME), catalog_version=catalog_version)

    @property
    def in_memory(self) -> bool:
        return self.path is None

    # -- lifecycle

    def open(self) -> None:
        if self._writer is not None or self._readers is not None:
            return
        if self._follower is not None and self.path is not None:
            self._readers = ThreadLocalReaders(self.path)
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
        loop = asyncio.get_running_loop() if self._on_loop else None
        self._writer = Writer(
            conn, lock, group_cap=self._group_cap, loop=loop, wal_limit_mb=self._wal_limit_mb
        )

    def close(self) -> None:
        """Commit what is queued, stop the writer, close every connection. Idempotent."""
        writer, readers, conn = self._writer, self._readers, self._write_conn
        if writer is not None:
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
            if self._follower is not None:
                raise InternalServerError("this process does not write")
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

    @property
    def load(self) -> WriterLoad:
        """The writer's queue and histograms, for /metrics."""
        return self._w().load

    # -- writes

    async def write(self, op: WriteOperation) -> Any:
        return await self._w().submit_async(op)

    def write_sync(self, op: WriteOperation) -> Any:
        return self._w().submit_sync(op).result()

    def trim_stream_records(self, stream_id: int, created_before: float) -> int:
        task = Task(lambda conn: writes.trim(conn, stream_id, created_before))
        result: int = self._w().submit_sync(task).result()
        return result

    def last_sequence(self) -> int:
        if self._follower is not None:
            return self.committed_sequence()
        return self._w().last_sequence

    def catalog(self) -> Mapping[str, bytes]:
        if self._follower is not None:
            return self._follower.get()
        return self._w().committed_catalog

    def on_catalog_change(self, listener: Callable[[], object]) -> None:
        self._w().on_catalog_change(listener)

    # -- other nodes: a SQLite file has one writer, so there are none

    def refresh_catalog(self) -> bool:
        return False

    async def hold_catalog(self) -> bool:
        return False

    def release_catalog(self) -> None:
        return None

    def started_alone(self) -> bool:
        return True

    def background_lease(self) -> Lease | None:
        return None

    def shard_uses(self) -> ShardUses:
        return self._shard_uses

    def on_commit(self, listener: Callable[[int], None]) -> Callable[[], None]:
        return self._w().on_commit(listener)

    # -- reads (SqlReads supplies them; this is how a statement runs here)

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._r().fetchall(sql, params)

    def shard_ceiling(self, stream_id: int, slot: int) -> int:
        return self.last_sequence()  # one writer: every number up to it has committed

    @contextlib.contextmanager
    def snapshot(self, table_id: int, log: tuple[int, int] | None = None) -> Iterator[TableSnapshot]:
        readers = self._r()
        if self.path is None:
            # the writer's own connection: read the rows whole under its lock (between two groups)
            assert isinstance(readers, SharedConnection)
            with readers.lock:
                found = table_snapshot(readers.fetchall, self._mark, table_id)
                rows = list(found.rows)
            yield TableSnapshot(found.seq, iter(rows))
            return
        # a connection of its own, in one read transaction (WAL: the writer goes on meanwhile)
        conn = connect(self.path)
        try:
            configure_reader(conn)
            conn.execute("BEGIN")
            yield table_snapshot(
                lambda sql, params: conn.execute(sql, params).fetchall(), self._mark, table_id
            )
        finally:
            conn.close()


def _conforms(storage: SqliteStorage) -> Storage:
    """Static check (mypy) that SqliteStorage implements the Storage protocol."""
    return storage
