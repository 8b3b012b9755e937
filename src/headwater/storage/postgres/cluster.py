"""What one node needs to know of the others on the same schema: their catalog changes and commits (a
watcher thread), the catalog-change lock, whether it is alone, and the background work's lease.

Each of these holds a connection of its own, because a session lock lives as long as its session: when a
node is killed, PostgreSQL ends its sessions and every lock it held is free again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from headwater.storage.postgres import locks
from headwater.storage.postgres.schema import LAST_DRAWN

log = logging.getLogger(__name__)

Connection = psycopg.Connection[Any]
Connect = Callable[[], Connection]

_SESSION_LOCK = f"SELECT pg_advisory_lock(%s, {locks.SCHEMA_KEY})"
_SESSION_TRY = f"SELECT pg_try_advisory_lock(%s, {locks.SCHEMA_KEY})"
_SESSION_UNLOCK = f"SELECT pg_advisory_unlock(%s, {locks.SCHEMA_KEY})"
_SHARED_LOCK = f"SELECT pg_advisory_lock_shared(%s, {locks.SCHEMA_KEY})"
# Moves with every commit that numbers stream records (it raises some shard's row), whatever the order
# in which shards commit; and the highest number drawn, which never goes back, for the listeners.
_COMMITS = f"SELECT (SELECT coalesce(sum(last), 0) FROM shard_sequence)::text, ({LAST_DRAWN})"
_CATALOG_VERSION = "SELECT version FROM catalog_version WHERE id = 0"


class SessionLocks:
    """The node's presence (a shared lock held for its life; exclusive only for a node that started
    alone) and the catalog-change lock, on one connection."""

    def __init__(self, connect: Connect, schema: str | None) -> None:
        self._connect = connect
        self._schema = schema
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            conn = self._conn = self._connect()
            conn.execute(_SHARED_LOCK, (locks.ALIVE, self._schema))
        return conn

    def started_alone(self) -> bool:
        """Whether no other node is running (then work cut short by the last stop may be cleaned up).
        Called once at start; afterwards this node is present (others starting will not be alone)."""
        with self._lock:
            conn = self._conn = self._connect()
            alone = conn.execute(_SESSION_TRY, (locks.ALIVE, self._schema)).fetchone()
            conn.execute(_SHARED_LOCK, (locks.ALIVE, self._schema))
            if alone is not None and alone[0]:
                conn.execute(_SESSION_UNLOCK, (locks.ALIVE, self._schema))
            return bool(alone is not None and alone[0])

    def try_hold_catalog(self) -> bool:
        """Take the catalog-change lock if it is free (a round trip, no waiting); True when held."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    row = conn.execute(_SESSION_TRY, (locks.CATALOG_CHANGE, self._schema)).fetchone()
                    return bool(row is not None and row[0])
                except psycopg.OperationalError:
                    if attempt == 2:
                        raise
                    conn.close()
            return False

    def hold_catalog(self) -> None:
        """Wait for the catalog-change lock (one node changes table definitions at a time, from reading
        the catalog to committing the change). Blocks: call it off the event loop."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    conn.execute(_SESSION_LOCK, (locks.CATALOG_CHANGE, self._schema))
                    return
                except psycopg.OperationalError:
                    if attempt == 2:
                        raise
                    conn.close()

    def release_catalog(self) -> None:
        with self._lock:
            conn = self._conn
            if conn is None or conn.closed or conn.broken:
                return  # the session is gone, and its lock with it
            try:
                conn.execute(_SESSION_UNLOCK, (locks.CATALOG_CHANGE, self._schema))
            except psycopg.Error:
                log.warning("could not release the catalog-change lock; closing its session")
                conn.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class Lease:
    """The background work's lease: a session lock at most one node holds. Held while its connection
    lives; a killed holder's session ends and another node's next `take` succeeds."""

    def __init__(self, connect: Connect, schema: str | None) -> None:
        self._connect = connect
        self._schema = schema
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Try to hold the lease (does not wait for it); True when this node holds it now. Blocks for a
        round trip: call it off the event loop."""
        with self._lock:
            if self._conn is not None and not self._conn.closed and not self._conn.broken:
                return self._alive(self._conn)
            try:
                conn = self._connect()
            except psycopg.Error as exc:
                log.debug("lease: cannot connect: %s", exc)
                return False
            try:
                row = conn.execute(_SESSION_TRY, (locks.LEASE, self._schema)).fetchone()
            except psycopg.Error:
                conn.close()
                return False
            if row is None or not row[0]:
                conn.close()
                return False
            self._conn = conn
            return True

    def _alive(self, conn: Connection) -> bool:
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            conn.close()
            self._conn = None
            return False
        return True

    def release(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class Watcher:
    """A thread that learns of other nodes' work: `catalog_moved(version)` on a catalog change (LISTEN,
    and a look at the version every `check_every` seconds, so a missed notification is made up for), and
    `sequence_moved(last)` when some shard's committed sequence number moved (polled every `poll`
    seconds: a NOTIFY per commit would serialise every node's commits on PostgreSQL's notification
    queue); `last` is the highest number drawn so far."""

    def __init__(
        self,
        connect: Connect,
        channel: str,
        *,
        catalog_moved: Callable[[int], None],
        sequence_moved: Callable[[int], None],
        poll: float = 0.1,
        check_every: float = 1.0,
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._catalog_moved = catalog_moved
        self._sequence_moved = sequence_moved
        self._poll = poll
        self._check_every = check_every
        self._stop = threading.Event()
        self._conn: Connection | None = None
        self._thread = threading.Thread(target=self._run, name="headwater-postgres-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        moved: str | None = None
        version = -1
        since_check = self._check_every
        while not self._stop.is_set():
            try:
                conn = self._conn
                if conn is None or conn.closed or conn.broken:
                    conn = self._conn = self._connect()
                    conn.execute(f'LISTEN "{self._channel}"')
                    since_check = self._check_every
                notified = False
                for _ in conn.notifies(timeout=self._poll, stop_after=1):
                    notified = True
                since_check += self._poll
                if notified or since_check >= self._check_every:
                    since_check = 0.0
                    row = conn.execute(_CATALOG_VERSION).fetchone()
                    if row is not None and int(row[0]) != version:
                        version = int(row[0])
                        self._catalog_moved(version)
                row = conn.execute(_COMMITS).fetchone()
                if row is not None and row[0] != moved:
                    if moved is not None:
                        self._sequence_moved(int(row[1]))
                    moved = row[0]
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                log.debug("watcher: %s; connecting again", exc)
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                self._stop.wait(0.5)
            except Exception:
                log.exception("watcher failed; going on")
                self._stop.wait(0.5)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
