"""The single writer: one thread owns the write connection and commits queued operations in groups.

Each group is one transaction. Fast path: read the old items of the whole group in one SELECT, run every
operation's pure `apply` against them plus the earlier operations' writes (`Pending`), send the final
state in one pipeline, COMMIT; only then are the callers woken (one `call_soon_threadsafe` per event loop
per group). If sending fails, nobody knows which operation's WriteSet was bad, so the group is rolled
back and run again carefully: each operation flushed on its own, and the one that fails is taken out
(`apply` is pure, so running it again gives the same WriteSet). A failed COMMIT fails the whole group.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from headwater.errors import DynamoDBError, InternalServerError
from headwater.storage.base import WriteOperation
from headwater.storage.postgres.group import Pending, item_tuple, read_items

log = logging.getLogger(__name__)

DEFAULT_GROUP_CAP = 512

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


@dataclass(frozen=True, slots=True)
class _Job:
    op: WriteOperation | Task
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | concurrent.futures.Future[Any]


_STOP = object()
_Outcome = tuple[Any, BaseException | None]


class _Dirty(Exception):
    """The transaction is spoiled; `attributable` when the operation at hand is known to be the cause."""

    def __init__(self, outcome: _Outcome, *, attributable: bool) -> None:
        super().__init__()
        self.outcome = outcome
        self.attributable = attributable


def _internal(message: str = "Internal server error") -> InternalServerError:
    return InternalServerError(message)


class Writer:
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
        self._cap = max(1, group_cap)
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._last_seq = last_seq
        self._closed = False
        self._commits = 0
        self._operations = 0
        self._failed_commits = 0
        self._largest_group = 0
        self._replays = 0
        self._reconnects = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

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
        """Commit everything already queued, stop the thread, close the connection; later submissions fail."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        leftovers: list[_Job] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Job):
                leftovers.append(item)
        self._resolve(leftovers, [(None, _internal("storage is closed")) for _ in leftovers])
        if self._conn is not None:
            self._conn.close()
            self._conn = None

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
            except Exception:  # a bug or a lost database must not kill the writer: fail this group only
                log.exception("writer failed on a group of %d operations", len(batch))
                self._rollback()
                outcomes = [(None, _internal()) for _ in batch]
            try:
                self._resolve(batch, outcomes)
            except Exception:  # never let a waking problem kill the writer
                log.exception("writer could not deliver results")
            if stop:
                return

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

    def _commit_group(self, batch: list[_Job]) -> list[_Outcome]:
        failed: dict[int, _Outcome] = {}
        careful = False
        while True:
            outcomes, careful_next = self._try_group(batch, failed, careful)
            if outcomes is not None:
                return outcomes
            careful = careful or careful_next
            self._replays += 1

    def _try_group(
        self, batch: list[_Job], failed: dict[int, _Outcome], careful: bool
    ) -> tuple[list[_Outcome] | None, bool]:
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
            return [(None, _internal()) for _ in batch], False
        self._last_seq = seq
        self._commits += 1
        self._operations += len(batch)
        self._largest_group = max(self._largest_group, len(batch))
        return [outcomes[i] for i in range(len(batch))], False

    def _apply_one(
        self, conn: Connection, pending: Pending, op: WriteOperation | Task, seq: int, careful: bool
    ) -> tuple[_Outcome, int]:
        """(outcome, last sequence number); raises _Dirty when the transaction is spoiled."""
        if isinstance(op, Task):
            try:
                pending.flush(conn, seq)
            except Exception as exc:
                raise _Dirty((None, _internal()), attributable=False) from exc
            pending.cache = None  # the task may change anything
            try:
                return (op.run(conn), None), seq
            except Exception as exc:
                log.exception("writer task failed")
                raise _Dirty((None, _internal()), attributable=True) from exc
        try:
            olds = pending.read(conn, op.keys)
        except Exception as exc:
            log.exception("could not read the old items of %s", type(op).__name__)
            raise _Dirty((None, _internal()), attributable=True) from exc
        try:
            ws = op.apply(olds)
        except DynamoDBError as exc:
            return (None, exc), seq
        except Exception:
            log.exception("write operation %s failed unexpectedly", type(op).__name__)
            return (None, _internal()), seq
        try:
            new_seq = pending.add(ws, seq)
            if careful:
                pending.flush(conn, new_seq)
        except Exception as exc:
            log.exception("could not write the WriteSet of %s", type(op).__name__)
            raise _Dirty((None, _internal()), attributable=True) from exc
        return (ws.result, None), new_seq

    def _spoiled(self, conn: Connection) -> None:
        """Roll back; a connection that broke fails the whole group (it is not any operation's fault)."""
        if conn.broken:
            raise _internal("lost the database connection")
        self._rollback()

    def _rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            conn.rollback()
        except psycopg.Error:
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
