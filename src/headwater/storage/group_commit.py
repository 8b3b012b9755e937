"""The single writer's plumbing, shared by every backend: operations are gathered into groups, each group
runs as one transaction, and results are delivered only after its COMMIT. A backend supplies
`_commit_group`: run the group in one transaction.

Two ways to drive it, one mechanism:
- threads (the default; PostgreSQL, whose commits wait on the network): a thread takes everything queued
  as one group and wakes each waiting event loop once per group. With `lanes` > 1 several threads take
  turns: the one holding the turn gathers a group and starts it; it passes the turn on (`_pass_turn`)
  once the group no longer needs it (PostgreSQL: its old items are read under its locks), so the next
  group starts while this one commits. The backend's `_commit_group` must then be safe to run on several
  threads at once;
- an event loop (SQLite in the server, `loop=`): operations submitted during one pass of the loop form
  the group, committed at the end of that pass on the loop's own thread. No hand-off of the interpreter
  lock between two threads per group, no wake-up across threads (measured on 2 cores: puts 4.5k -> 6.1k
  per second with the rest of the server the same).

The writer also owns the committed catalog (storage.base.CATALOG_KIND): each group's operations are
resolved against it plus the group's own earlier catalog changes (`CatalogOverlay`, catalog_overlay.py),
and the new state is published in the same step that commits it, before any caller is woken.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from ..errors import InternalServerError

log = logging.getLogger(__name__)

DEFAULT_GROUP_CAP = 512

# /metrics' histograms of the writer (upper bounds; a last, unbounded bucket follows): operations per
# group, and seconds from a group's start to its callers' answers (its commit made durable)
GROUP_SIZE_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
COMMIT_BUCKETS: Final = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

Outcome = tuple[Any, BaseException | None]


class Durability(Protocol):
    """Makes what the loop writer committed durable without holding the loop (storage/sqlite/syncer.py).

    `request(done)`: call `done()` on the loop once everything committed so far is durable. `now()`: make
    it durable before returning. A group's callers are answered only once it is durable."""

    def request(self, done: Callable[[], None]) -> None: ...

    def now(self) -> None: ...


@dataclass(frozen=True, slots=True)
class WriterLoad:
    """What /metrics shows of the writer beside its counts: the operations waiting for a group, and
    histograms (a count per bucket of GROUP_SIZE_BUCKETS / COMMIT_BUCKETS, then the unbounded one)."""

    backend: str
    queued: int
    group_sizes: tuple[int, ...]
    commit_buckets: tuple[int, ...]
    commit_seconds: float


@dataclass(frozen=True, slots=True)
class Job:
    op: Any  # a WriteOperation, or a backend's internal Task
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | concurrent.futures.Future[Any]


_STOP = object()


def internal(message: str = "Internal server error") -> InternalServerError:
    return InternalServerError(message)


class GroupCommitWriter(ABC):
    """Subclasses set up their own state, then call `super().__init__`, which starts the thread (or, with
    `loop`, attaches to that running event loop)."""

    backend = ""  # the label /metrics gives this writer's commit latency ("sqlite", "postgresql")

    def __init__(
        self,
        *,
        group_cap: int,
        name: str,
        loop: asyncio.AbstractEventLoop | None = None,
        durability: Durability | None = None,
        lanes: int = 1,
    ) -> None:
        self.committed_catalog: Mapping[str, bytes] = self._load_catalog()
        self._listeners: list[Callable[[int], None]] = []
        self._catalog_listeners: list[Callable[[], object]] = []
        self._trouble: str | None = None  # what makes writes fail right now (disk full, ...), if known
        self._cap = max(1, group_cap)
        self._closed = False
        self._commits = 0
        self._operations = 0
        self._failed_commits = 0
        self._largest_group = 0
        self._replays = 0
        # per group, on the writer's thread only (plain numbers; /metrics reads them at scrape time)
        self._group_sizes = [0] * (len(GROUP_SIZE_BUCKETS) + 1)
        self._commit_buckets = [0] * (len(COMMIT_BUCKETS) + 1)
        self._commit_seconds = 0.0
        self._group_started = 0.0
        self._loop = loop
        # thread driver
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._turn = threading.Lock()  # held by the lane that gathers and starts the next group
        self._lane = threading.local()  # has_turn: whether this lane's thread holds the turn
        self._stats_lock = threading.Lock()  # the counts and histograms, which several lanes update
        # loop driver
        self._pending: list[Job] = []
        self._flush_scheduled = False
        self._last_work = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None
        # with `durability` (loop driver only): the group committed, waiting to be durable, and the last
        # sequence number it assigned; readers and commit listeners see sequence numbers once durable
        self._durability = durability if loop is not None else None
        self._syncing: tuple[list[Job], list[Outcome]] | None = None
        self._unsynced_seq: int | None = None
        self.durable_sequence: int | None = None  # None: whatever the backend committed last
        if loop is None:
            lanes = max(1, lanes)
            names = [name] if lanes == 1 else [f"{name}-{i}" for i in range(lanes)]
            self._threads = [threading.Thread(target=self._run, name=n, daemon=True) for n in names]
            for thread in self._threads:
                thread.start()
        elif self._idle_after is not None:
            self._idle_timer = loop.call_later(self._idle_after, self._idle_tick)

    # -- what a backend provides

    @abstractmethod
    def _load_catalog(self) -> Mapping[str, bytes]:
        """The committed metadata of CATALOG_KIND, read from the database (key -> value)."""

    @abstractmethod
    def _commit_group(self, batch: list[Job]) -> list[Outcome]:
        """Run every job of `batch` in one transaction; one outcome per job, in order."""

    @abstractmethod
    def _after_failed_group(self) -> None:
        """Called when `_commit_group` raised: leave the connection usable (e.g. roll back)."""

    @abstractmethod
    def _after_close(self) -> None:
        """Called once the writer has stopped (e.g. close the connection)."""

    # seconds without work after which `_when_idle` runs (None: never)
    _idle_after: float | None = None

    def _when_idle(self) -> None:
        """Housekeeping while nothing is queued (e.g. truncate the write-ahead log); none by default."""
        return

    # -- submitting

    def submit_async(self, op: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        job = Job(op, loop, future)
        if loop is self._loop:
            if self._closed:
                raise internal("storage is closed")
            self._pending.append(job)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush)
        else:
            self._put(job)
        return future

    def submit_sync(self, op: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        job = Job(op, None, future)
        if self._loop is not None and _running_loop() is self._loop:
            # on the writer's own loop: waiting for a later pass would wait forever; commit now
            if self._closed:
                raise internal("storage is closed")
            self._pending.append(job)
            self._drain_now()
        else:
            self._put(job)
        return future

    def _drain_now(self) -> None:
        """Commit everything submitted, durably, before returning (on the loop's own thread)."""
        if self._syncing is not None and self._durability is not None:
            self._durability.now()
            self._synced()
        while self._pending:
            batch, self._pending = self._pending[: self._cap], self._pending[self._cap :]
            outcomes = self._outcomes(batch)
            if self._durability is not None:
                self._durability.now()
                self._syncing = (batch, outcomes)
                self._synced()
            else:
                self._deliver(batch, outcomes)

    def _put(self, job: Job) -> None:
        if self._closed:
            raise internal("storage is closed")
        if self._loop is None:
            self._queue.put(job)
        else:
            self._loop.call_soon_threadsafe(self._enqueue, job)

    def _enqueue(self, job: Job) -> None:
        if self._closed:
            self._resolve([job], [(None, internal("storage is closed"))])
            return
        self._pending.append(job)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def on_commit(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call `listener(last sequence number)` on the writer's thread after every commit that assigned
        sequence numbers (it must be quick and must not block); returns what unsubscribes it."""
        self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            self._listeners = [other for other in self._listeners if other is not listener]

        return unsubscribe

    def on_catalog_change(self, listener: Callable[[], object]) -> None:
        """Call `listener()` after every commit that changed a table definition, before any caller of
        that group is woken (front processes learn of the change before the client does)."""
        self._catalog_listeners = [*self._catalog_listeners, listener]

    def _storage_failed(self, cause: str, exc: BaseException) -> InternalServerError:
        """The error for every operation of a group the database could not take (not any operation's
        fault); logged once per episode, not once per request."""
        if cause != self._trouble:
            log.error("writes are failing: %s (%s); reads go on, and every new write tries again", cause, exc)
            self._trouble = cause
        else:
            log.debug("write failed again: %s (%s)", cause, exc)
        return InternalServerError(f"Internal server error: {cause}")

    def _committed(self) -> None:
        if self._trouble is not None:
            log.warning("writes work again (the last failure: %s)", self._trouble)
            self._trouble = None

    def _publish_catalog(self, catalog: Mapping[str, bytes]) -> None:
        changed = catalog is not self.committed_catalog
        self.committed_catalog = catalog
        if changed:
            for listener in self._catalog_listeners:
                try:
                    listener()
                except Exception:
                    log.exception("catalog listener failed")

    def _committed_sequence(self, seq: int) -> None:
        if self._durability is not None:
            self._unsynced_seq = seq  # told once durable (`_synced`)
            return
        self._notify_sequence(seq)

    def _notify_sequence(self, seq: int) -> None:
        for listener in self._listeners:
            try:
                listener(seq)
            except Exception:  # a listener's problem must not fail a committed write
                log.exception("commit listener failed")

    def close(self) -> None:
        """Commit everything already submitted, stop; later submissions fail."""
        if self._closed:
            return
        self._closed = True
        if not self._threads:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            self._drain_now()
            self._after_close()
            return
        self._queue.put(_STOP)  # each lane puts it back for the next one as it stops
        for thread in self._threads:
            thread.join()
        # A submission racing with close may have landed behind the stop marker.
        leftovers: list[Job] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Job):
                leftovers.append(item)
        self._resolve(leftovers, [(None, internal("storage is closed")) for _ in leftovers])
        self._after_close()

    @property
    def load(self) -> WriterLoad:
        return WriterLoad(
            self.backend,
            len(self._pending) + self._queue.qsize(),
            tuple(self._group_sizes),
            tuple(self._commit_buckets),
            self._commit_seconds,
        )

    # -- running a group (either driver)

    def _count_commit(self, size: int) -> None:
        with self._stats_lock:
            self._commits += 1
            self._operations += size
            self._largest_group = max(self._largest_group, size)
            self._group_sizes[min((size - 1).bit_length(), len(GROUP_SIZE_BUCKETS))] += 1  # bounds: 2**i

    def _run_group(self, batch: list[Job]) -> None:
        started = time.perf_counter()
        self._deliver(batch, self._outcomes(batch), started)

    def _outcomes(self, batch: list[Job]) -> list[Outcome]:
        # timed until `_deliver` answers it (the loop driver's groups never overlap; lanes time their own)
        self._group_started = time.perf_counter()
        try:
            return self._commit_group(batch)
        except Exception:  # a bug here must not kill the writer: fail this group only
            log.exception("writer failed on a group of %d operations", len(batch))
            self._after_failed_group()
            return [(None, internal()) for _ in batch]

    def _deliver(self, batch: list[Job], outcomes: list[Outcome], started: float | None = None) -> None:
        seconds = time.perf_counter() - (self._group_started if started is None else started)
        with self._stats_lock:
            self._commit_buckets[bisect_left(COMMIT_BUCKETS, seconds)] += 1
            self._commit_seconds += seconds
        try:
            self._resolve(batch, outcomes)
        except Exception:  # never let a waking problem kill the writer
            log.exception("writer could not deliver results")

    # -- the loop driver

    def _flush(self) -> None:
        """Commit what the loop's passes since the last group submitted. While a group waits to be durable
        the next one gathers (the wait is what makes groups: committing eagerly made them smaller and the
        server slower)."""
        self._flush_scheduled = False
        if self._syncing is not None:
            return  # `_synced` starts the next group
        batch, self._pending = self._pending[: self._cap], self._pending[self._cap :]
        if batch:
            outcomes = self._outcomes(batch)
            if self._durability is not None and any(exc is None for _, exc in outcomes):
                self._syncing = (batch, outcomes)
                self._durability.request(self._synced)
                return
            self._deliver(batch, outcomes)
        self._after_work()

    def _synced(self) -> None:
        if self._syncing is None:
            return
        batch, outcomes = self._syncing
        self._syncing = None
        if self._unsynced_seq is not None:
            seq, self._unsynced_seq = self._unsynced_seq, None
            self.durable_sequence = seq
            self._notify_sequence(seq)
        self._deliver(batch, outcomes)
        self._after_work()

    def _after_work(self) -> None:
        loop = self._loop
        if loop is None:
            return
        self._last_work = loop.time()
        if self._pending and not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)

    def _idle_tick(self) -> None:
        loop, after = self._loop, self._idle_after
        if loop is None or after is None or self._closed:
            return
        quiet = loop.time() - self._last_work
        if quiet >= after and not self._pending and self._syncing is None:
            try:
                self._when_idle()
            except Exception:
                log.exception("writer housekeeping failed")
            quiet = 0.0
        self._idle_timer = loop.call_later(max(after - quiet, 0.05), self._idle_tick)

    # -- the thread driver

    def _run(self) -> None:
        stop = False
        while not stop:
            self._turn.acquire()
            self._lane.has_turn = True
            try:
                batch, stop = self._gather()
                if batch:
                    self._run_group(batch)
            finally:
                self._pass_turn()
        self._queue.put(_STOP)  # the next lane stops too (close() drops what is left)

    def _pass_turn(self) -> None:
        """The group of this lane's thread no longer needs to go before the next one: let the next lane
        gather and start it (a no-op when the turn was passed already, or on the loop driver)."""
        if getattr(self._lane, "has_turn", False):
            self._lane.has_turn = False
            self._turn.release()

    def _gather(self) -> tuple[list[Job], bool]:
        """The next group (waiting for its first operation) and whether the writer is stopping."""
        while True:
            try:
                first = self._queue.get(timeout=self._idle_after)
            except queue.Empty:
                try:
                    self._when_idle()
                except Exception:
                    log.exception("writer housekeeping failed")
                continue
            if first is _STOP:
                return [], True
            batch: list[Job] = [first] if isinstance(first, Job) else []
            while len(batch) < self._cap:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    return batch, True
                if isinstance(item, Job):
                    batch.append(item)
            return batch, False

    @staticmethod
    def _resolve(batch: list[Job], outcomes: list[Outcome]) -> None:
        here = _running_loop()
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
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
                if job.loop is here:
                    _wake([(job.future, outcome)])
                else:
                    by_loop.setdefault(job.loop, []).append((job.future, outcome))
        for loop, pending in by_loop.items():
            try:
                loop.call_soon_threadsafe(_wake, pending)
            except RuntimeError:  # the caller's loop is closed: nobody is waiting any more
                log.warning("dropped %d write results for a closed event loop", len(pending))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _wake(pending: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (result, exc) in pending:
        if future.done():  # cancelled by the caller; the write itself stands
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)
