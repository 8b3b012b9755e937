"""Shard uses in the database (storage/shard_uses.py says what they are), so that every node on one
schema counts the same ones: a shard's limits hold across nodes as on one node.

One row per use in an UNLOGGED table (no WAL: uses last seconds, and a crash of PostgreSQL losing them
only forgets some counting), taken under a transaction lock of the shard
(`pg_advisory_xact_lock(SHARD_USE, hashtext(shard))`), so two nodes counting one shard take turns and
each sees the other's use. A use that is never given back (its node was killed) stops counting at its
`until`. Expired rows of a shard are deleted whenever a use of it is taken.

The cost on GetRecords' path: a take is one statement (`shard_take`, schema.py: the lock, the expired
rows deleted, the count, the insert; synchronous_commit off, so its commit waits for no flush), a give
back one more (DynamoDB Streams' reads); a PutRecords takes two round trips per shard it writes (what
counts, then its records' row)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus

from headwater.storage.postgres import locks
from headwater.storage.postgres.pool import ReaderPool
from headwater.storage.shard_uses import fitting

log = logging.getLogger(__name__)

POOL_SIZE = 4

_BEGIN = "BEGIN"
_COMMIT = "COMMIT"
_LOCK = f"SELECT pg_advisory_xact_lock({locks.SHARD_USE}, hashtext(%s))"
_EXPIRED = "DELETE FROM shard_use WHERE shard = %(shard)s AND until <= %(now)s"
_TAKE = "SELECT shard_take(%s, %s, %s, %s, %s)"  # schema.py: lock, expire, count, insert
_USED = """SELECT count(*), coalesce(sum(records), 0), coalesce(sum(size), 0) FROM shard_use
WHERE shard = %s AND until > %s"""
_ADD = f"""WITH expired AS ({_EXPIRED})
INSERT INTO shard_use (shard, ticket, until, records, size)
VALUES (%(shard)s, %(ticket)s, %(until)s, %(records)s, %(size)s)"""
_GIVE_BACK = "DELETE FROM shard_use WHERE shard = %s AND ticket = %s"

Connection = psycopg.Connection[Any]
T = TypeVar("T")


def _ticket() -> int:
    return int.from_bytes(os.urandom(8), "big") >> 1  # a positive bigint


class SharedShardUses:
    """Uses kept in the `shard_use` table, on a few connections of their own."""

    def __init__(self, connect: Callable[[], Connection], pool_size: int = POOL_SIZE) -> None:
        self._pool = ReaderPool(connect, pool_size)

    def close(self) -> None:
        self._pool.close()

    async def take(self, shard: str, now: float, until: float, at_most: int) -> int | None:
        return await asyncio.to_thread(self._take, shard, now, until, at_most)

    def _take(self, shard: str, now: float, until: float, at_most: int) -> int | None:
        params = (shard, _ticket(), now, until, at_most)

        def work(conn: Connection) -> int | None:
            row = conn.execute(_TAKE, params).fetchone()
            return None if row is None or row[0] is None else int(row[0])

        return self._pool.run(work)

    def _give_back(self, shard: str, ticket: int) -> None:
        self._pool.run(lambda conn: conn.execute(_GIVE_BACK, (shard, ticket)))

    async def give_back(self, shard: str, ticket: int) -> None:
        await asyncio.to_thread(self._give_back, shard, ticket)

    async def while_held(
        self, shard: str, now: float, until: float, at_most: int, work: Callable[[], T]
    ) -> T | None:
        def held() -> T | None:  # one thread for the take, the work and the give back
            ticket = self._take(shard, now, until, at_most)
            if ticket is None:
                return None
            try:
                return work()
            finally:
                try:
                    self._give_back(shard, ticket)
                except Exception:  # the work's answer stands; the use stops counting at `until`
                    log.warning("could not give back a use of shard %s", shard, exc_info=True)

        return await asyncio.to_thread(held)

    async def take_records(
        self, shard: str, now: float, until: float, sizes: Sequence[int], records: int, size: int
    ) -> list[bool]:
        def work(conn: Connection) -> list[bool]:
            with _transaction(conn):
                with conn.pipeline():
                    conn.execute(_BEGIN, prepare=False)
                    conn.execute(_LOCK, (shard,))
                    used = conn.execute(_USED, (shard, now))
                row = used.fetchone()
                assert row is not None
                fits = fitting(sizes, int(row[1]), int(row[2]), records, size)
                taken = [one for one, fit in zip(sizes, fits, strict=True) if fit]
                with conn.pipeline():
                    if taken:
                        add = {"shard": shard, "now": now, "until": until, "ticket": _ticket()}
                        conn.execute(_ADD, {**add, "records": len(taken), "size": sum(taken)})
                    conn.execute(_COMMIT, prepare=False)
            return fits

        return await asyncio.to_thread(self._pool.run, work)


@contextlib.contextmanager
def _transaction(conn: Connection) -> Iterator[None]:
    """Rolls back a transaction an error left open, so the connection goes back to the pool clean."""
    try:
        yield
    except BaseException:
        if not conn.broken and not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise
