"""The single writer's plumbing, shared by every backend: a queue of operations, one thread that takes
everything queued as one group, and results delivered only after the group's COMMIT (one wake-up per
event loop per group). A backend supplies `_commit_group`: run the group in one transaction.

The writer also owns the committed catalog (storage.base.CATALOG_KIND): each group's operations are
resolved against it plus the group's own earlier catalog changes (`CatalogOverlay`), and the new state is
published in the same step that commits it, before any caller is woken.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InternalServerError
from .base import CATALOG_KIND, WriteSet

log = logging.getLogger(__name__)

DEFAULT_GROUP_CAP = 512

Outcome = tuple[Any, BaseException | None]


@dataclass(frozen=True, slots=True)
class Job:
    op: Any  # a WriteOperation, or a backend's internal Task
    loop: asyncio.AbstractEventLoop | None
    future: asyncio.Future[Any] | concurrent.futures.Future[Any]


_STOP = object()


def internal(message: str = "Internal server error") -> InternalServerError:
    return InternalServerError(message)


class CatalogOverlay:
    """The catalog as one group has left it so far: the committed entries plus the group's changes."""

    def __init__(self, committed: Mapping[str, bytes]) -> None:
        self._committed = committed
        self._changes: dict[str, bytes | None] = {}

    def get(self, name: str, /) -> bytes | None:
        if name in self._changes:
            return self._changes[name]
        return self._committed.get(name)

    def add(self, ws: WriteSet) -> None:
        for mw in ws.meta:
            if mw.kind == CATALOG_KIND:
                self._changes[mw.key] = mw.value

    def committed(self) -> Mapping[str, bytes]:
        """The catalog once the group has committed (a new mapping if it changed anything)."""
        if not self._changes:
            return self._committed
        merged = dict(self._committed)
        for name, value in self._changes.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return merged


class GroupCommitWriter(ABC):
    """Subclasses set up their own state, then call `super().__init__`, which starts the thread."""

    def __init__(self, *, group_cap: int, name: str) -> None:
        self.committed_catalog: Mapping[str, bytes] = self._load_catalog()
        self._listeners: list[Callable[[int], None]] = []
        self._trouble: str | None = None  # what makes writes fail right now (disk full, ...), if known
        self._cap = max(1, group_cap)
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._closed = False
        self._commits = 0
        self._operations = 0
        self._failed_commits = 0
        self._largest_group = 0
        self._replays = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

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
        """Called once the thread has stopped (e.g. close the connection)."""

    # seconds without work after which `_when_idle` runs (None: never)
    _idle_after: float | None = None

    def _when_idle(self) -> None:
        """Housekeeping while nothing is queued (e.g. truncate the write-ahead log); none by default."""
        return

    # -- submitting

    def submit_async(self, op: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(Job(op, loop, future))
        return future

    def submit_sync(self, op: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._put(Job(op, None, future))
        return future

    def _put(self, job: Job) -> None:
        if self._closed:
            raise internal("storage is closed")
        self._queue.put(job)

    def on_commit(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call `listener(last sequence number)` on the writer thread after every commit that assigned
        sequence numbers (it must be quick and must not block); returns what unsubscribes it."""
        self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            self._listeners = [other for other in self._listeners if other is not listener]

        return unsubscribe

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

    def _committed_sequence(self, seq: int) -> None:
        for listener in self._listeners:
            try:
                listener(seq)
            except Exception:  # a listener's problem must not fail a committed write
                log.exception("commit listener failed")

    def close(self) -> None:
        """Commit everything already queued, stop the thread; later submissions fail."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
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

    # -- the thread

    def _count_commit(self, size: int) -> None:
        self._commits += 1
        self._operations += size
        self._largest_group = max(self._largest_group, size)

    def _run(self) -> None:
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
                return
            batch: list[Job] = [first] if isinstance(first, Job) else []
            stop = False
            while len(batch) < self._cap:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                if isinstance(item, Job):
                    batch.append(item)
            try:
                outcomes = self._commit_group(batch)
            except Exception:  # a bug here must not kill the writer: fail this group only
                log.exception("writer failed on a group of %d operations", len(batch))
                self._after_failed_group()
                outcomes = [(None, internal()) for _ in batch]
            try:
                self._resolve(batch, outcomes)
            except Exception:  # never let a waking problem kill the writer
                log.exception("writer could not deliver results")
            if stop:
                return

    @staticmethod
    def _resolve(batch: list[Job], outcomes: list[Outcome]) -> None:
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
                by_loop.setdefault(job.loop, []).append((job.future, outcome))
        for loop, pending in by_loop.items():
            try:
                loop.call_soon_threadsafe(_wake, pending)
            except RuntimeError:  # the caller's loop is closed: nobody is waiting any more
                log.warning("dropped %d write results for a closed event loop", len(pending))


def _wake(pending: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (result, exc) in pending:
        if future.done():  # cancelled by the caller; the write itself stands
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)
