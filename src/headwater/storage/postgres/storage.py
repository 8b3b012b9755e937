"""PostgresStorage: the `Storage` backend on a PostgreSQL database (the server deployment)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from headwater.errors import InternalServerError
from headwater.storage import log_trim
from headwater.storage.base import (
    CONTROL_SLOT,
    CatalogView,
    ItemKey,
    Lease,
    Storage,
    TableSnapshot,
    WriteOperation,
    WriteSet,
)
from headwater.storage.group_commit import WriterLoad
from headwater.storage.postgres.cluster import Lease as SessionLease
from headwater.storage.postgres.cluster import SessionLocks, Watcher
from headwater.storage.postgres.group import catalog_channel
from headwater.storage.postgres.point_reads import PointReads
from headwater.storage.postgres.pool import DEFAULT_POOL_SIZE, ReaderPool
from headwater.storage.postgres.schema import (
    LAST_DRAWN,
    check_schema_name,
    connect,
    create_schema,
    load_sequence,
)
from headwater.storage.postgres.shard_uses import SharedShardUses
from headwater.storage.postgres.writer import DEFAULT_GROUP_CAP, DEFAULT_LANES, Task, Writer, WriterStats
from headwater.storage.shard_uses import ShardUses
from headwater.storage.sql_reads import CatalogFollower, SqlReads, table_snapshot

log = logging.getLogger(__name__)

_CATALOG_VERSION = "SELECT version FROM catalog_version WHERE id = 0"
# A shard's ceiling: the highest number committed in its slot or in its stream's control slot, and never
# below the floor (every number up to it committed before the upgrade from version 3). Why every record of
# the slot and every marker numbered up to it has committed: schema.py, append_records.
_SHARD_CEILING = (
    "SELECT greatest((SELECT last FROM sequence_floor WHERE id = 0), "
    "(SELECT max(last) FROM shard_sequence WHERE stream_id = %s AND slot IN (%s, %s)))"
)
_HIGHEST_COMMITTED = (
    "SELECT greatest((SELECT last FROM sequence_floor WHERE id = 0), (SELECT max(last) FROM shard_sequence))"
)
# the totals of a table (or index): the sums of its rows, one per writer connection's slot
_COUNTERS = (
    "SELECT coalesce(sum(item_count), 0)::bigint, coalesce(sum(size_bytes), 0)::bigint FROM counters "
    "WHERE table_id = %s AND index_id = %s"
)


@dataclass(frozen=True, slots=True)
class _Refresh:
    """Writes nothing: its group reads the catalog again when another node has changed it."""

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> _Refresh:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet()


_REFRESH = _Refresh()


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
    Any number of nodes may write one schema at once (locks.py, writer.py); each also keeps a watcher
    (other nodes' catalog changes and commits), its session locks and the background lease
    (cluster.py) on connections of their own.

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
        catalog_version: Callable[[], int] | None = None,
        lanes: int = DEFAULT_LANES,
    ) -> None:
        """`catalog_version`: this process only reads (a front process): no writer, and the catalog is
        read again whenever the given version moves. `lanes`: writer threads (writer.py)."""
        check_schema_name(schema)
        self.url = url
        self.schema = schema
        self._group_cap = group_cap
        self._pool_size = pool_size
        self._lanes = lanes
        self._writer: Writer | None = None
        self._session: SessionLocks | None = None
        self._watcher: Watcher | None = None
        self._lease: SessionLease | None = None
        self._readers: ReaderPool | None = None
        self._shard_uses: SharedShardUses | None = None
        self._point_reads = PointReads(self._fetch)
        self._follower = CatalogFollower(self, catalog_version) if catalog_version is not None else None
        self._followed_version = -1  # a front process: the catalog version it last read the catalog at

    # -- lifecycle

    def _writer_connection(self) -> psycopg.Connection[Any]:
        # autocommit: the writer opens each group's transaction itself, its BEGIN pipelined with the
        # group's first read (psycopg's own BEGIN would wait for its answer: one more round trip)
        return connect(self.url, self.schema, autocommit=True, synchronous_commit="on")

    def _plain_connection(self) -> psycopg.Connection[Any]:
        return connect(self.url, self.schema, autocommit=True)

    def _shard_use_connection(self) -> psycopg.Connection[Any]:
        # what it writes only counts uses for a few seconds: nothing to wait for a WAL flush
        return connect(self.url, self.schema, autocommit=True, synchronous_commit="off")

    def _reader_connection(self) -> psycopg.Connection[Any]:
        return connect(self.url, self.schema, autocommit=True, default_transaction_read_only="on")

    def open(self) -> None:
        if self._writer is not None or self._readers is not None:
            return
        self._shard_uses = SharedShardUses(self._shard_use_connection)
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
        writer = self._writer = Writer(
            conn,
            self._writer_connection,
            last_seq,
            schema=self.schema,
            group_cap=self._group_cap,
            lanes=self._lanes,
        )
        self._session = SessionLocks(self._plain_connection, self.schema)
        self._lease = SessionLease(self._plain_connection, self.schema)
        self._watcher = Watcher(
            self._plain_connection,
            catalog_channel(self.schema),
            catalog_moved=self._catalog_moved,
            sequence_moved=writer.announce_sequence,
        )

    def close(self) -> None:
        """Commit what is queued, stop the writer, close every connection. Idempotent."""
        writer, readers = self._writer, self._readers
        if self._watcher is not None:
            self._watcher.close()
        if writer is not None:
            writer.close()
        if readers is not None:
            readers.close()
        if self._shard_uses is not None:
            self._shard_uses.close()
            self._shard_uses = None
        if self._lease is not None:
            self._lease.release()
        if self._session is not None:
            self._session.close()
        self._writer = self._readers = self._watcher = self._lease = self._session = None

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
        # as the database has it: other nodes draw numbers too
        rows = self._fetch(LAST_DRAWN, ())
        return int(rows[0][0]) if rows else 0

    def shard_ceiling(self, stream_id: int, slot: int) -> int:
        rows = self._fetch(_SHARD_CEILING, (stream_id, slot, CONTROL_SLOT))
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def counters(self, table_id: int, index_id: int = 0) -> tuple[int, int]:
        rows = self._fetch(_COUNTERS, (table_id, index_id))
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    # -- other nodes

    def _catalog_moved(self, version: int) -> None:
        """The watcher saw another catalog version: the writer reads the catalog again in its next group
        (this one if idle), without anybody waiting for it."""
        writer = self._writer
        if writer is not None and version != writer.catalog_version:
            writer.submit_sync(_REFRESH)

    def refresh_catalog(self) -> bool:
        rows = self._fetch(_CATALOG_VERSION, ())
        version = int(rows[0][0]) if rows else 0
        if self._follower is not None:  # a front process: read it itself, not waiting for its core
            if version == self._followed_version:
                return False
            self._followed_version = version
            self._follower.reload()
            return True
        writer = self._w()
        if version == writer.catalog_version:
            return False
        writer.submit_sync(_REFRESH).result()
        return True

    async def hold_catalog(self) -> bool:
        session = self._session
        if session is None:
            return False
        try:
            # mostly free: taken at once, without giving the loop away (a catalog change queued in this
            # pass of the loop stays in this pass's group, as on one node); else waited for in a thread
            if not session.try_hold_catalog():
                await asyncio.to_thread(session.hold_catalog)
        except psycopg.Error as exc:
            raise InternalServerError(f"Internal server error: cannot reach PostgreSQL ({exc})") from exc
        try:
            rows = self._fetch(_CATALOG_VERSION, ())
            if rows and int(rows[0][0]) != self._w().catalog_version:
                await self.write(_REFRESH)  # the catalog as the last node to change it left it
        except BaseException:
            session.release_catalog()
            raise
        return True

    def release_catalog(self) -> None:
        if self._session is not None:
            self._session.release_catalog()

    def started_alone(self) -> bool:
        return self._session.started_alone() if self._session is not None else True

    def background_lease(self) -> Lease | None:
        return self._lease

    def shard_uses(self) -> ShardUses:
        if self._shard_uses is None:
            raise InternalServerError("storage is not open")
        return self._shard_uses

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
    def snapshot(self, table_id: int, log: tuple[int, int] | None = None) -> Iterator[TableSnapshot]:
        # a connection of its own, one REPEATABLE READ transaction: every statement sees one snapshot
        try:
            conn = self._reader_connection()
        except psycopg.Error as exc:
            raise InternalServerError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            seq = (_HIGHEST_COMMITTED, ()) if log is None else (_SHARD_CEILING, (*log, CONTROL_SLOT))
            yield table_snapshot(
                lambda sql, params: conn.execute(sql, params).fetchall(), self._mark, table_id, seq
            )
        finally:
            conn.close()


def _conforms(storage: PostgresStorage) -> Storage:
    """Static check (mypy) that PostgresStorage implements the Storage protocol."""
    return storage
