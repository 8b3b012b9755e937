"""Read connections: one per reading thread for a database file, one shared and locked for :memory:."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from headwater.errors import InternalServerError
from headwater.storage.sqlite.schema import configure_reader, connect

Params = Sequence[Any]


class ReadConnections(Protocol):
    """Runs one SELECT to completion (no statement stays open, so every call sees the latest commit)."""

    def fetchall(self, sql: str, params: Params) -> list[Any]: ...

    def close(self) -> None: ...


class _Holder:
    """Owned by one thread's `threading.local`; when the thread ends, its connection is closed."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class ThreadLocalReaders:
    """Each reading thread gets its own connection, opened on first use and reused after that."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._guard = threading.Lock()
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        with self._guard:
            if self._closed:
                raise InternalServerError("storage is closed")
            conn = connect(self._path)
            configure_reader(conn)
            holder = _Holder(conn)
            weakref.finalize(holder, conn.close)
            self._holders.add(holder)
            self._local.holder = holder
            return conn

    def fetchall(self, sql: str, params: Params) -> list[Any]:
        try:
            conn: sqlite3.Connection = self._local.holder.conn
        except AttributeError:
            conn = self._open()
        return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._guard:
            self._closed = True
            holders = list(self._holders)
        for holder in holders:
            holder.conn.close()


class SharedConnection:
    """For an in-memory database: readers and the writer share one connection under one lock.

    The writer holds the lock for a whole group transaction, so readers never see a half-written group.
    """

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock

    @property
    def lock(self) -> threading.RLock:
        """Held, no group commits: several reads see one state."""
        return self._lock

    def fetchall(self, sql: str, params: Params) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        # The writer owns the connection and closes it.
        pass
