"""Read connections: a small bounded pool of autocommit, read-only connections.

Each call runs one SELECT to completion on a borrowed connection and gives it back, so no snapshot stays
open between calls: every read sees the latest commit, and a half-consumed range iterator holds nothing.
(psycopg_pool would do, but this is all we need and it keeps the `postgres` extra to psycopg alone.)
shard_uses.py keeps a pool of writing connections with it too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from headwater.errors import InternalServerError

log = logging.getLogger(__name__)

Params = Sequence[Any]
T = TypeVar("T")
Connect = Callable[[], "psycopg.Connection[Any]"]

DEFAULT_POOL_SIZE = 8


class ReaderPool:
    """Up to `max_size` connections, opened on demand, reused most-recently-used first."""

    def __init__(self, connect: Connect, max_size: int = DEFAULT_POOL_SIZE, timeout: float = 30.0) -> None:
        self._connect = connect
        self._max = max(1, max_size)
        self._timeout = timeout
        self._idle: list[psycopg.Connection[Any]] = []
        self._size = 0
        self._cond = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        """How many connections are open (idle or lent)."""
        return self._size

    def fetchall(self, query: str, params: Params) -> list[Any]:
        """Run one SELECT."""
        return self.run(lambda conn: conn.execute(query, params, binary=True).fetchall())

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on a borrowed connection. A connection found broken (PostgreSQL restarted since it was
        last used) is dropped and `work` runs once more on a fresh one: reads have no effect, so trying
        again is safe (and `work` that writes must be safe to run again), and idle connections need not
        be checked before every use."""
        for attempt in (1, 2):
            conn = self._borrow()
            try:
                result = work(conn)
            except psycopg.OperationalError as exc:
                self._give_back(conn, broken=True)
                if attempt == 1:
                    log.info("a read connection was broken (%s); reading again on a new one", exc)
                    continue
                log.warning("read failed on a broken connection: %s", exc)
                raise InternalServerError("Internal server error: lost the connection to PostgreSQL") from exc
            except BaseException:
                self._give_back(conn, broken=conn.broken)
                raise
            self._give_back(conn, broken=False)
            return result
        raise AssertionError("unreachable")

    def _borrow(self) -> psycopg.Connection[Any]:
        with self._cond:
            while True:
                if self._closed:
                    raise InternalServerError("storage is closed")
                if self._idle:
                    return self._idle.pop()
                if self._size < self._max:
                    self._size += 1
                    break
                if not self._cond.wait(self._timeout):
                    raise InternalServerError("no database connection became free in time")
        try:
            return self._connect()
        except BaseException as exc:
            with self._cond:
                self._size -= 1
                self._cond.notify()
            if isinstance(exc, psycopg.Error):
                log.error("could not open a read connection: %s", exc)
                raise InternalServerError("Internal server error") from exc
            raise

    def _give_back(self, conn: psycopg.Connection[Any], *, broken: bool) -> None:
        with self._cond:
            if broken or self._closed or conn.closed:
                self._size -= 1
                close = True
            else:
                self._idle.append(conn)
                close = False
            self._cond.notify()
        if close:
            conn.close()

    def close(self) -> None:
        """Close the idle connections now; lent ones are closed when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()
