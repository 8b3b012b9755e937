"""The single writer: one thread owns the write connection and commits queued operations in groups.

Each group is one transaction. Fast path: read the old items of the whole group in one SELECT, run every
operation's pure `apply` against them plus the earlier operations' writes (`Pending`), send the final
state in one pipeline, COMMIT; only then are the callers woken (one `call_soon_threadsafe` per event loop
per group). If sending fails, nobody knows which operation's WriteSet was bad, so the group is rolled
back and run again carefully: each operation flushed on its own, and the one that fails is taken out
(`apply` is pure, so running it again gives the same WriteSet). A failed COMMIT fails the whole group.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from headwater.errors import DynamoDBError
from headwater.storage.base import WriteOperation
from headwater.storage.group_commit import DEFAULT_GROUP_CAP, GroupCommitWriter, Job, Outcome, internal
from headwater.storage.postgres.group import Pending, item_tuple, read_items

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_GROUP_CAP", "Task", "Writer", "WriterStats"]

Connection = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class WriterStats:
    """How the writer has grouped its work: `commits` < `operations` means group commit happened."""

    commits: int
    operations: int
    failed_commits: int
    largest_group: int
    replays: int  # groups run again to single out an operation whose WriteSet could not be written
    reconnects: int


@dataclass(frozen=True, slots=True)
class Task:
    """Internal writer work that is not a WriteOperation (e.g. trimming stream records)."""

    run: Callable[[Connection], Any]


class _Dirty(Exception):
    """The transaction is spoiled; `attributable` when the operation at hand is known to be the cause."""

    def __init__(self, outcome: Outcome, *, attributable: bool) -> None:
        super().__init__()
        self.outcome = outcome
        self.attributable = attributable


class Writer(GroupCommitWriter):
    """`connect` opens a ready writer connection (settings, lock); it is called again after a failure."""

    def __init__(
        self,
        conn: Connection,
        connect: Callable[[], Connection],
        last_seq: int,
        *,
        group_cap: int = DEFAULT_GROUP_CAP,
        name: str = "headwater-postgres-writer",
    ) -> None:
        self._conn: Connection | None = conn
        self._connect = connect
        self._last_seq = last_seq
        self._reconnects = 0
        super().__init__(group_cap=group_cap, name=name)

    @property
    def last_sequence(self) -> int:
        """The last committed sequence number."""
        return self._last_seq

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._commits,
            self._operations,
            self._failed_commits,
            self._largest_group,
            self._replays,
            self._reconnects,
        )

    def _after_failed_group(self) -> None:
        self._rollback()

    def _after_close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.broken and not conn.closed:
            return conn
        if conn is not None:
            conn.close()
            self._conn = None
        log.warning("writer connection lost; reconnecting")
        self._conn = conn = self._connect()
        self._reconnects += 1
        return conn

    def _commit_group(self, batch: list[Job]) -> list[Outcome]:
        failed: dict[int, Outcome] = {}
        careful = False
        while True:
            outcomes, careful_next = self._try_group(batch, failed, careful)
            if outcomes is not None:
                return outcomes
            careful = careful or careful_next
            self._replays += 1

    def _try_group(
        self, batch: list[Job], failed: dict[int, Outcome], careful: bool
    ) -> tuple[list[Outcome] | None, bool]:
        """One attempt: (outcomes, _) or (None, go careful) to run the group again."""
        live = [i for i in range(len(batch)) if i not in failed]
        if not live:
            return [failed[i] for i in range(len(batch))], False
        conn = self._connection()
        pending = Pending(None, self._last_seq)
        seq = self._last_seq
        outcomes = dict(failed)
        try:
            if not careful:
                ops = [batch[i].op for i in live]
                keys = [item_tuple(k) for op in ops if not isinstance(op, Task) for k in op.keys]
                pending.cache = read_items(conn, keys)
            for i in live:
                try:
                    outcomes[i], seq = self._apply_one(conn, pending, batch[i].op, seq, careful)
                except _Dirty as dirty:
                    if not dirty.attributable:
                        raise
                    failed[i] = dirty.outcome
                    self._spoiled(conn)
                    return None, False
            pending.flush(conn, seq)
        except Exception:
            if careful:
                raise  # everything was flushed one by one: a failure here is not any one operation's
            log.info("a group of %d operations failed to write; running it again one by one", len(batch))
            self._spoiled(conn)
            return None, True
        try:
            conn.commit()
        except psycopg.Error:
            log.exception("commit of a group of %d operations failed", len(batch))
            self._rollback()
            self._failed_commits += 1
            return [(None, internal()) for _ in batch], False
        self._last_seq = seq
        self._commits += 1
        self._operations += len(batch)
        self._largest_group = max(self._largest_group, len(batch))
        return [outcomes[i] for i in range(len(batch))], False

    def _apply_one(
        self, conn: Connection, pending: Pending, op: WriteOperation | Task, seq: int, careful: bool
    ) -> tuple[Outcome, int]:
        """(outcome, last sequence number); raises _Dirty when the transaction is spoiled."""
        if isinstance(op, Task):
            try:
                pending.flush(conn, seq)
            except Exception as exc:
                raise _Dirty((None, internal()), attributable=False) from exc
            pending.cache = None  # the task may change anything
            try:
                return (op.run(conn), None), seq
            except Exception as exc:
                log.exception("writer task failed")
                raise _Dirty((None, internal()), attributable=True) from exc
        try:
            olds = pending.read(conn, op.keys)
        except Exception as exc:
            log.exception("could not read the old items of %s", type(op).__name__)
            raise _Dirty((None, internal()), attributable=True) from exc
        try:
            ws = op.apply(olds)
        except DynamoDBError as exc:
            return (None, exc), seq
        except Exception:
            log.exception("write operation %s failed unexpectedly", type(op).__name__)
            return (None, internal()), seq
        try:
            new_seq = pending.add(ws, seq)
            if careful:
                pending.flush(conn, new_seq)
        except Exception as exc:
            log.exception("could not write the WriteSet of %s", type(op).__name__)
            raise _Dirty((None, internal()), attributable=True) from exc
        return (ws.result, None), new_seq

    def _spoiled(self, conn: Connection) -> None:
        """Roll back; a connection that broke fails the whole group (it is not any operation's fault)."""
        if conn.broken:
            raise internal("lost the database connection")
        self._rollback()

    def _rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            conn.rollback()
        except psycopg.Error:
            log.exception("rollback failed")
