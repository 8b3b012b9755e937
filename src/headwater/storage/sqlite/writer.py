"""The single writer: one thread (or the server's event loop) owns the write connection and commits
queued operations in groups.

Each group is one transaction: for every operation, resolve it against the catalog as committed plus the
group's earlier changes, read its old items (seeing the earlier operations of the same group), call its
pure `apply`, write the WriteSet; then one COMMIT, and only after it are the callers woken (one
`call_soon_threadsafe` per event loop per group).

A database that cannot take writes (disk full, I/O error) fails the whole group with an
InternalServerError naming the cause; nothing is kept in memory that the next group would need, so
writes work again by themselves once the cause is gone.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from headwater.errors import DynamoDBError
from headwater.storage.base import ItemKey, WriteOperation, answer
from headwater.storage.catalog_overlay import CatalogOverlay
from headwater.storage.group_commit import (
    DEFAULT_GROUP_CAP,
    GroupCommitWriter,
    Job,
    Outcome,
    internal,
)
from headwater.storage.sqlite import writes
from headwater.storage.sqlite.schema import BUSY_TIMEOUT_MS
from headwater.storage.sqlite.syncer import Syncer

log = logging.getLogger(__name__)

IDLE_CHECKPOINT_SECONDS = 1.0

__all__ = ["DEFAULT_GROUP_CAP", "Task", "Writer", "WriterStats"]


@dataclass(frozen=True, slots=True)
class WriterStats:
    """How the writer has grouped its work: `commits` < `operations` means group commit happened."""

    commits: int
    operations: int
    failed_commits: int
    largest_group: int
    replays: int  # groups run again without an operation whose WriteSet could not be written


@dataclass(frozen=True, slots=True)
class Task:
    """Internal writer work that is not a WriteOperation (e.g. trimming stream records)."""

    run: Callable[[sqlite3.Connection], Any]


class _RecordsRefused(Exception):
    """The database refused a group's stream records, for no storage reason (a bug): the group runs again
    writing each operation's records with it, so that it is that operation that fails."""


class _StorageFailure(Exception):
    """The database refused a write for a reason that is no operation's fault (e.g. a full disk)."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def storage_cause(exc: BaseException) -> str | None:
    """What a failed write says about the database itself, or None when it may be the operation's."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None:
        return None
    if code & 0xFF == sqlite3.SQLITE_FULL:
        return "the disk holding the database is full; writes work again once there is room"
    if code & 0xFF == sqlite3.SQLITE_IOERR:
        return "the database file cannot be written (I/O error)"
    return None


class Writer(GroupCommitWriter):
    backend = "sqlite"

    def __init__(
        self,
        conn: sqlite3.Connection,
        lock: AbstractContextManager[Any],
        *,
        group_cap: int = DEFAULT_GROUP_CAP,
        name: str = "headwater-sqlite-writer",
        loop: asyncio.AbstractEventLoop | None = None,
        wal_limit_mb: int = 256,
    ) -> None:
        self._conn = conn
        self._lock = lock
        self._last_seq = writes.load_sequence(conn)
        self._kept_rows: dict[ItemKey, bytes | None] = {}  # see writes.GroupReads
        self._wal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
        self._wal_dirty = False  # committed since the WAL was last truncated
        if self._wal:
            self._idle_after = IDLE_CHECKPOINT_SECONDS
        # On the event loop with FULL durability, COMMIT does not wait for the disk: the syncer makes each
        # group durable before its callers are answered (syncer.py says why).
        self._syncer: Syncer | None = None
        synchronous = int(conn.execute("PRAGMA synchronous").fetchone()[0])
        if loop is not None and self._wal and synchronous >= 2:
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # the syncer checkpoints
            # When the WAL starts over (after the syncer's catch-up) its file keeps up to the limit's
            # length, so the next commits overwrite blocks the file already has instead of appending:
            # ~5% less CPU a put on the loop (docs/architecture.md). Idle, it is truncated to nothing.
            wal_limit = wal_limit_mb * 1024 * 1024
            conn.execute(f"PRAGMA journal_size_limit = {wal_limit}")
            path = str(conn.execute("PRAGMA database_list").fetchone()[2])
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            self._syncer = Syncer(path, wal_limit // page_size)
            loop.create_task(self._syncer.start())
        super().__init__(group_cap=group_cap, name=name, loop=loop, durability=self._syncer)
        if self._syncer is not None:
            self.durable_sequence = self._last_seq

    @property
    def last_sequence(self) -> int:
        """The last durably committed sequence number (what readers may see of streams)."""
        return self._last_seq if self.durable_sequence is None else self.durable_sequence

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._commits, self._operations, self._failed_commits, self._largest_group, self._replays
        )

    def _after_failed_group(self) -> None:
        self._rollback()

    def _after_close(self) -> None:
        if self._syncer is not None:  # everything is durable by now (close drained it)
            self._syncer.close()
        # the storage owns the connection and closes it

    def _load_catalog(self) -> Mapping[str, bytes]:
        return writes.load_catalog(self._conn)

    def _when_idle(self) -> None:
        """Once writes pause, checkpoint the WAL into the database and truncate it to nothing. Never
        waits for readers (busy_timeout 0): one still reading means trying again at the next pause.
        Under steady load SQLite's automatic checkpoints run instead, and `journal_size_limit` caps
        what the WAL file keeps after each of them."""
        if not self._wal_dirty:
            return
        conn = self._conn
        with self._lock:
            conn.execute("PRAGMA busy_timeout = 0")
            try:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error as exc:
                log.debug("idle checkpoint failed: %s", exc)
                return
            finally:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._wal_dirty = bool(busy)

    def _commit_group(self, batch: list[Job]) -> list[Outcome]:
        """Run the group in one transaction. No savepoint per operation (they cost ~15%): if writing an
        operation's WriteSet fails half way, roll the whole transaction back and run the group again
        without it (`apply` is pure, so running it again gives the same WriteSet)."""
        failed: dict[int, Outcome] = {}
        batched = True  # the group's stream records in one statement
        while True:
            with self._lock:
                try:
                    outcomes = self._try_group(batch, failed, batched)
                except _RecordsRefused:
                    log.exception("the database refused a group's stream records")
                    self._rollback()
                    batched, outcomes = False, None
            if outcomes is not None:
                return outcomes
            self._replays += 1

    def _try_group(self, batch: list[Job], failed: dict[int, Outcome], batched: bool) -> list[Outcome] | None:
        """One attempt; None means an operation failed while writing and was added to `failed`."""
        if len(failed) == len(batch):
            return [failed[i] for i in range(len(batch))]
        try:
            result = self._attempt(batch, failed, batched)
        except _StorageFailure as failure:
            self._rollback()
            self._failed_commits += 1
            error = self._storage_failed(failure.cause, failure.__cause__ or failure)
            return [(None, error) for _ in batch]
        if result is None:
            return None
        outcomes, seq, catalog = result
        self._wal_dirty = self._wal
        advanced = seq != self._last_seq
        self._last_seq = seq
        self._publish_catalog(catalog.committed())
        self._count_commit(len(batch))
        self._committed()
        if advanced:
            self._committed_sequence(seq)
        return outcomes

    def _attempt(
        self, batch: list[Job], failed: dict[int, Outcome], batched: bool
    ) -> tuple[list[Outcome], int, CatalogOverlay] | None:
        """Run and commit the group; None after rolling back for an operation that failed half-written."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._failure(exc, "could not begin a transaction") from exc
        seq = self._last_seq
        catalog = CatalogOverlay(self.committed_catalog)
        reads = writes.GroupReads(conn, self._kept_rows)
        counters: writes.Counters = {}
        records: writes.Records = []
        outcomes: list[Outcome] = []
        for i, job in enumerate(batch):
            if i in failed:
                outcomes.append(failed[i])
                continue
            outcome, seq, dirty = self._apply_one(
                conn, job.op, seq, catalog, reads, counters, records, batched
            )
            if dirty:
                failed[i] = outcome
                self._rollback()
                return None
            outcomes.append(outcome)
        self._write_records(conn, records)
        try:
            writes.write_counters(conn, counters)
            if seq != self._last_seq:
                writes.save_sequence(conn, seq)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failure(exc, f"commit of a group of {len(batch)} operations failed") from exc
        reads.committed()
        return outcomes, seq, catalog

    def _write_records(self, conn: sqlite3.Connection, records: writes.Records) -> None:
        try:
            writes.write_records(conn, records)
        except Exception as exc:
            if storage_cause(exc) is not None:
                raise self._failure(exc, "could not write stream records") from exc
            raise _RecordsRefused from exc

    @staticmethod
    def _failure(exc: Exception, what: str) -> _StorageFailure:
        cause = storage_cause(exc)
        if cause is None:  # unexpected: say so in the log with the whole story
            log.exception("%s", what)
            cause = "the database refused the write"
        return _StorageFailure(cause)

    def _apply_one(
        self,
        conn: sqlite3.Connection,
        op: WriteOperation | Task,
        seq: int,
        catalog: CatalogOverlay,
        reads: writes.GroupReads,
        counters: writes.Counters,
        records: writes.Records,
        batched: bool,
    ) -> tuple[Outcome, int, bool]:
        """(outcome, last sequence number, dirty): dirty means it failed after writing part of itself.
        The group's records waiting to be written are written before a task (which may trim them) or a
        WriteSet that drops streams; not `batched`, each WriteSet's records are written with it."""
        if isinstance(op, Task):
            self._write_records(conn, records)
        try:
            if isinstance(op, Task):
                reads.forget()  # a task may change any row
                try:
                    return (op.run(conn), None), seq, False
                except Exception as exc:
                    if storage_cause(exc) is not None:
                        raise self._failure(exc, "writer task failed") from exc
                    log.exception("writer task failed")
                    return (None, internal("Internal server error")), seq, True
            op = op.resolve(catalog)
            olds = reads.read(op.keys)
            ws = op.apply(olds)
        except DynamoDBError as exc:
            return (None, exc), seq, False
        except _StorageFailure:
            raise
        except Exception:
            log.exception("write operation %s failed unexpectedly", type(op).__name__)
            return (None, internal("Internal server error")), seq, False
        if ws.drop_streams:
            self._write_records(conn, records)
        try:
            new_seq = writes.write_set(conn, ws, seq, counters, records)
            if not batched:
                writes.write_records(conn, records)
        except Exception as exc:
            if storage_cause(exc) is not None:
                raise self._failure(exc, "could not write") from exc
            log.exception("could not write the WriteSet of %s", type(op).__name__)
            return (None, internal("Internal server error")), seq, True
        catalog.add(ws)
        reads.wrote(ws)
        return (answer(ws, range(seq + 1, new_seq + 1)), None), new_seq, False

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")
