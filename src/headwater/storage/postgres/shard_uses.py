"""Shard uses in the database (storage/shard_uses.py says what they are), so that every node on one
schema counts the same ones: a shard's limits hold across nodes as on one node.

One row per use in an UNLOGGED table (no WAL: uses last seconds, and a crash of PostgreSQL losing them
only forgets some counting), taken under a transaction lock of the shard
(`pg_advisory_xact_lock(SHARD_USE, hashtext(shard))`), so two nodes counting one shard take turns and
each sees the other's use. A use that is never given back (its node was killed) stops counting at its
`until`. Expired rows of a shard are deleted whenever a use of it is taken.

The cost on GetRecords' path: a take is one round trip (BEGIN, the lock, the count-and-insert, COMMIT
pipelined; synchronous_commit off, nothing to flush), a give back one more (DynamoDB Streams' reads);
a PutRecords takes two round trips per shard it writes (what counts, then its records' row)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from headwater.storage.postgres import locks
from headwater.storage.postgres.pool import ReaderPool
from headwater.storage.shard_uses import fitting

POOL_SIZE = 4

_BEGIN = "BEGIN"
_COMMIT = "COMMIT"
_LOCK = f"SELECT pg_advisory_xact_lock({locks.SHARD_USE}, hashtext(%s))"
_EXPIRED = "DELETE FROM shard_use WHERE shard = %(shard)s AND until <= %(now)s"
_TAKE = f"""WITH expired AS ({_EXPIRED})
INSERT INTO shard_use (shard, ticket, until, records, size)
SELECT %(shard)s, %(ticket)s, %(until)s, 0, 0
WHERE (SELECT count(*) FROM shard_use WHERE shard = %(shard)s AND until > %(now)s) < %(at_most)s
RETURNING ticket"""
_USED = """SELECT count(*), coalesce(sum(records), 0), coalesce(sum(size), 0) FROM shard_use
WHERE shard = %s AND until > %s"""
_ADD = f"""WITH expired AS ({_EXPIRED})
INSERT INTO shard_use (shard, ticket, until, records, size)
VALUES (%(shard)s, %(ticket)s, %(until)s, %(records)s, %(size)s)"""
_GIVE_BACK = "DELETE FROM shard_use WHERE shard = %s AND ticket = %s"

Connection = psycopg.Connection[Any]


def _ticket() -> int:
    return int.from_bytes(os.urandom(8), "big") >> 1  # a positive bigint


class SharedShardUses:
    """Uses kept in the `shard_use` table, on a few connections of their own."""

    def __init__(self, connect: Callable[[], Connection], pool_size: int = POOL_SIZE) -> None:
        self._pool = ReaderPool(connect, pool_size)

    def close(self) -> None:
        self._pool.close()

    async def take(self, shard: str, now: float, until: float, at_most: int) -> int | None:
        params = {"shard": shard, "now": now, "until": until, "at_most": at_most, "ticket": _ticket()}

        def work(conn: Connection) -> int | None:
            with _transaction(conn):
                with conn.pipeline():
                    conn.execute(_BEGIN, prepare=False)
                    conn.execute(_LOCK, (shard,))
                    taken = conn.execute(_TAKE, params)
                    conn.execute(_COMMIT, prepare=False)
                row = taken.fetchone()
            return None if row is None else int(row[0])

        return await asyncio.to_thread(self._pool.run, work)

    async def give_back(self, shard: str, ticket: int) -> None:
        await asyncio.to_thread(self._pool.run, lambda conn: conn.execute(_GIVE_BACK, (shard, ticket)))

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
