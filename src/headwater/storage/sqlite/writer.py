"""The single writer: one thread owns the write connection and commits queued operations in groups.

Each group is one transaction: for every operation, read its old items (seeing the earlier operations
of the same group), call its pure `apply`, write the WriteSet; then one COMMIT, and
only after it are the callers woken (one `call_soon_threadsafe` per event loop per group).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from headwater.errors import DynamoDBError, InternalServerError
from headwater.storage.base import WriteOperation
from headwater.storage.sqlite import writes

log = logging.getLogger(__name__)

DEFAULT_GROUP_CAP = 512


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


@dataclass(frozen=True, slots=True)
class _Job:
    op: WriteOperation | Task
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | concurrent.futures.Future[Any]


_STOP = object()
_Outcome = tuple[Any, BaseException | None]


def _internal(message: str) -> InternalServerError:
    return InternalServerError(message)


class Writer:
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
        self._cap = max(1, group_cap)
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._last_seq = writes.load_sequence(conn)
        self._closed = False
        self._commits = 0
        self._operations = 0
        self._failed_commits = 0
        self._largest_group = 0
        self._replays = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def last_sequence(self) -> int:
        """The last committed sequence number."""
        return self._last_seq

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._commits, self._operations, self._failed_commits, self._largest_group, self._replays
        )

    def submit_async(self, op: WriteOperation | Task) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Job(op, loop, future))
        return future

    def submit_sync(self, op: WriteOperation | Task) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put(_Job(op, None, future))
        return future

    def _put(self, job: _Job) -> None:
        if self._closed:
            raise _internal("storage is closed")
        self._queue.put(job)

    def close(self) -> None:
        """Commit everything already queued, stop the thread; later submissions fail."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        # A submission racing with close may have landed behind the stop marker.
        leftovers: list[_Job] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Job):
                leftovers.append(item)
        self._resolve(leftovers, [(None, _internal("storage is closed")) for _ in leftovers])

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first] if isinstance(first, _Job) else []
            stop = False
            while len(batch) < self._cap:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                if isinstance(item, _Job):
                    batch.append(item)
            try:
                outcomes = self._commit_group(batch)
            except Exception:  # a bug here must not kill the writer: fail this group only
                log.exception("writer failed on a group of %d operations", len(batch))
                outcomes = [(None, _internal("Internal server error")) for _ in batch]
            try:
                self._resolve(batch, outcomes)
            except Exception:  # never let a waking problem kill the writer
                log.exception("writer could not deliver results")
            if stop:
                return

    def _commit_group(self, batch: list[_Job]) -> list[_Outcome]:
        """Run the group in one transaction. No savepoint per operation (they cost ~15%): if writing an
        operation's WriteSet fails half way, roll the whole transaction back and run the group again
        without it (`apply` is pure, so running it again gives the same WriteSet)."""
        failed: dict[int, _Outcome] = {}
        while True:
            with self._lock:
                outcomes = self._try_group(batch, failed)
            if outcomes is not None:
                return outcomes
            self._replays += 1

    def _try_group(self, batch: list[_Job], failed: dict[int, _Outcome]) -> list[_Outcome] | None:
        """One attempt; None means an operation failed while writing and was added to `failed`."""
        conn = self._conn
        if len(failed) == len(batch):
            return [failed[i] for i in range(len(batch))]
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            log.exception("writer could not begin a transaction")
            self._failed_commits += 1
            return [(None, _internal("Internal server error")) for _ in batch]
        seq = self._last_seq
        outcomes: list[_Outcome] = []
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
            return [(None, _internal("Internal server error")) for _ in batch]
        self._last_seq = seq
        self._commits += 1
        self._operations += len(batch)
        self._largest_group = max(self._largest_group, len(batch))
        return outcomes

    def _apply_one(
        self, conn: sqlite3.Connection, op: WriteOperation | Task, seq: int
    ) -> tuple[_Outcome, int, bool]:
        """(outcome, last sequence number, dirty): dirty means it failed after writing part of itself."""
        try:
            if isinstance(op, Task):
                try:
                    return (op.run(conn), None), seq, False
                except Exception:
                    log.exception("writer task failed")
                    return (None, _internal("Internal server error")), seq, True
            olds = writes.read_olds(conn, op.keys)
            ws = op.apply(olds)
        except DynamoDBError as exc:
            return (None, exc), seq, False
        except Exception:
            log.exception("write operation %s failed unexpectedly", type(op).__name__)
            return (None, _internal("Internal server error")), seq, False
        try:
            return (ws.result, None), writes.write_set(conn, ws, seq), False
        except Exception:
            log.exception("could not write the WriteSet of %s", type(op).__name__)
            return (None, _internal("Internal server error")), seq, True

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")

    @staticmethod
    def _resolve(batch: list[_Job], outcomes: list[_Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], _Outcome]]] = {}
        for job, outcome in zip(batch, outcomes, strict=True):
            if job.loop is None:
                future = job.future
                if isinstance(future, concurrent.futures.Future) and future.set_running_or_notify_cancel():
                    result, exc = outcome
                    if exc is None:
                        future.set_result(result)
                    else:
                        future.set_exception(exc)
            elif isinstance(job.future, asyncio.Future):
                by_loop.setdefault(job.loop, []).append((job.future, outcome))
        for loop, pending in by_loop.items():
            try:
                loop.call_soon_threadsafe(_wake, pending)
            except RuntimeError:  # the caller's loop is closed: nobody is waiting any more
                log.warning("dropped %d write results for a closed event loop", len(pending))


def _wake(pending: list[tuple[asyncio.Future[Any], _Outcome]]) -> None:
    for future, (result, exc) in pending:
        if future.done():  # cancelled by the caller; the write itself stands
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)
