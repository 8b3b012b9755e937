"""The single writer: one thread owns the write connection and commits queued operations in groups.

Each group is one transaction: for every operation, read its old items (seeing the earlier operations
of the same group), call its pure `apply`, write the WriteSet; then one COMMIT, and
only after it are the callers woken (one `call_soon_threadsafe` per event loop per group).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from headwater.errors import DynamoDBError
from headwater.storage.base import WriteOperation
from headwater.storage.group_commit import DEFAULT_GROUP_CAP, GroupCommitWriter, Job, Outcome, internal
from headwater.storage.sqlite import writes

log = logging.getLogger(__name__)

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


class Writer(GroupCommitWriter):
    def __init__(
        self,
        conn: sqlite3.Connection,
        lock: AbstractContextManager[Any],
        *,
        group_cap: int = DEFAULT_GROUP_CAP,
        name: str = "headwater-sqlite-writer",
    ) -> None:
        self._conn = conn
        self._lock = lock
        self._last_seq = writes.load_sequence(conn)
        super().__init__(group_cap=group_cap, name=name)

    @property
    def last_sequence(self) -> int:
        """The last committed sequence number."""
        return self._last_seq

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._commits, self._operations, self._failed_commits, self._largest_group, self._replays
        )

    def _after_failed_group(self) -> None:
        self._rollback()

    def _after_close(self) -> None:
        pass  # the storage owns the connection and closes it

    def _commit_group(self, batch: list[Job]) -> list[Outcome]:
        """Run the group in one transaction. No savepoint per operation (they cost ~15%): if writing an
        operation's WriteSet fails half way, roll the whole transaction back and run the group again
        without it (`apply` is pure, so running it again gives the same WriteSet)."""
        failed: dict[int, Outcome] = {}
        while True:
            with self._lock:
                outcomes = self._try_group(batch, failed)
            if outcomes is not None:
                return outcomes
            self._replays += 1

    def _try_group(self, batch: list[Job], failed: dict[int, Outcome]) -> list[Outcome] | None:
        """One attempt; None means an operation failed while writing and was added to `failed`."""
        conn = self._conn
        if len(failed) == len(batch):
            return [failed[i] for i in range(len(batch))]
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            log.exception("writer could not begin a transaction")
            self._failed_commits += 1
            return [(None, internal("Internal server error")) for _ in batch]
        seq = self._last_seq
        outcomes: list[Outcome] = []
        for i, job in enumerate(batch):
            if i in failed:
                outcomes.append(failed[i])
                continue
            outcome, seq, dirty = self._apply_one(conn, job.op, seq)
            if dirty:
                failed[i] = outcome
                self._rollback()
                return None
            outcomes.append(outcome)
        try:
            if seq != self._last_seq:
                writes.save_sequence(conn, seq)
            conn.execute("COMMIT")
        except sqlite3.Error:
            log.exception("commit of a group of %d operations failed", len(batch))
            self._rollback()
            self._failed_commits += 1
            return [(None, internal("Internal server error")) for _ in batch]
        self._last_seq = seq
        self._commits += 1
        self._operations += len(batch)
        self._largest_group = max(self._largest_group, len(batch))
        return outcomes

    def _apply_one(
        self, conn: sqlite3.Connection, op: WriteOperation | Task, seq: int
    ) -> tuple[Outcome, int, bool]:
        """(outcome, last sequence number, dirty): dirty means it failed after writing part of itself."""
        try:
            if isinstance(op, Task):
                try:
                    return (op.run(conn), None), seq, False
                except Exception:
                    log.exception("writer task failed")
                    return (None, internal("Internal server error")), seq, True
            olds = writes.read_olds(conn, op.keys)
            ws = op.apply(olds)
        except DynamoDBError as exc:
            return (None, exc), seq, False
        except Exception:
            log.exception("write operation %s failed unexpectedly", type(op).__name__)
            return (None, internal("Internal server error")), seq, False
        try:
            return (ws.result, None), writes.write_set(conn, ws, seq), False
        except Exception:
            log.exception("could not write the WriteSet of %s", type(op).__name__)
            return (None, internal("Internal server error")), seq, True

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")
