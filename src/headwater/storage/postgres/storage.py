"""PostgresStorage: the `Storage` backend on a PostgreSQL database (the server deployment)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import psycopg

from headwater.errors import InternalServerError
from headwater.storage import log_trim
from headwater.storage.base import ItemKey, Storage, TableSnapshot, WriteOperation
from headwater.storage.group_commit import WriterLoad
from headwater.storage.postgres.point_reads import PointReads
from headwater.storage.postgres.pool import DEFAULT_POOL_SIZE, ReaderPool
from headwater.storage.postgres.schema import (
    check_schema_name,
    connect,
    create_schema,
    load_sequence,
    take_writer_lock,
)
from headwater.storage.postgres.writer import DEFAULT_GROUP_CAP, Task, Writer, WriterStats
from headwater.storage.sql_reads import CatalogFollower, SqlReads, table_snapshot


def is_postgres_url(url: str | None) -> bool:
    return url is not None and url.startswith(("postgresql://", "postgres://"))


class PostgresStorage(SqlReads):
    _mark = "%s"

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
        catalog_version: Callable[[], int] | None = None,
    ) -> None:
        """`catalog_version`: this process only reads (a front process): no writer, and the catalog is
        read again whenever the given version moves."""
        check_schema_name(schema)
        self.url = url
        self.schema = schema
        self._group_cap = group_cap
        self._pool_size = pool_size
        self._lock_wait = lock_wait
        self._writer: Writer | None = None
        self._readers: ReaderPool | None = None
        self._point_reads = PointReads(self._fetch)
        self._follower = CatalogFollower(self, catalog_version) if catalog_version is not None else None

    # -- lifecycle

    def _writer_connection(self) -> psycopg.Connection[Any]:
        # autocommit: the writer opens each group's transaction itself, its BEGIN pipelined with the
        # group's first read (psycopg's own BEGIN would wait for its answer: one more round trip)
        conn = connect(self.url, self.schema, autocommit=True, synchronous_commit="on")
        try:
            take_writer_lock(conn, self.schema, self._lock_wait)
        except BaseException:
            conn.close()
            raise
        return conn

    def _reader_connection(self) -> psycopg.Connection[Any]:
        return connect(self.url, self.schema, autocommit=True, default_transaction_read_only="on")

    def open(self) -> None:
        if self._writer is not None or self._readers is not None:
            return
        if self._follower is not None:
            self._readers = ReaderPool(self._reader_connection, self._pool_size)
            return
        try:
            conn = self._writer_connection()
        except psycopg.Error as exc:
            raise InternalServerError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            conn.autocommit = False  # the schema is created in one transaction
            create_schema(conn, self.schema)
            last_seq = load_sequence(conn)
            conn.autocommit = True
        except BaseException:
            conn.close()
            raise
        self._readers = ReaderPool(self._reader_connection, self._pool_size)
        self._writer = Writer(conn, self._writer_connection, last_seq, group_cap=self._group_cap)

    def close(self) -> None:
        """Commit what is queued, stop the writer, close every connection. Idempotent."""
        writer, readers = self._writer, self._readers
        if writer is not None:
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
            if self._follower is not None:
                raise InternalServerError("this process does not write")
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
        def trim(conn: psycopg.Connection[Any]) -> int:
            return log_trim.trim(conn, "%s", stream_id, created_before)

        result: int = self._w().submit_sync(Task(trim)).result()
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

    def on_commit(self, listener: Callable[[int], None]) -> Callable[[], None]:
        return self._w().on_commit(listener)

    # -- reads (SqlReads supplies them; this is how a statement runs here)

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self._r().fetchall(sql, params)

    async def read_item(self, key: ItemKey) -> bytes | None:
        return await self._point_reads.get(key)

    @contextlib.contextmanager
    def snapshot(self, table_id: int) -> Iterator[TableSnapshot]:
        # a connection of its own, one REPEATABLE READ transaction: every statement sees one snapshot
        try:
            conn = self._reader_connection()
        except psycopg.Error as exc:
            raise InternalServerError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield table_snapshot(
                lambda sql, params: conn.execute(sql, params).fetchall(), self._mark, table_id
            )
        finally:
            conn.close()


def _conforms(storage: PostgresStorage) -> Storage:
    """Static check (mypy) that PostgresStorage implements the Storage protocol."""
    return storage
