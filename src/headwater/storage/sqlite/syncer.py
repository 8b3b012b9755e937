"""fsync of the write-ahead log in a process of its own, so the event loop that commits never waits for
the disk and no thread has to take the interpreter lock back from it.

With `--sync FULL` and the writer on the event loop, a group is committed with `synchronous=NORMAL` (its
frames are in the WAL, in the operating system's cache) and then made durable by this helper's
`fdatasync` of the WAL file; the group's callers are answered only after that. Meanwhile the loop goes on
with the next requests, which form the next group. Measured on 2 cores: a COMMIT that waited for its own
fsync kept the loop blocked ~40% of the time; a thread for the fsync lost more in lock hand-offs (up to
the 5 ms switch interval) than it saved.

The helper reads one byte per request from stdin and, after an `fdatasync` that started once it had read
them, writes one byte per request to stdout. It exits when stdin closes (its server is gone).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)


CHECKPOINT_EVERY = 0.25  # seconds between the helper's checkpoints while writes go on
CATCH_UP_EVERY = 2.0  # seconds before another catch-up (see _helper) when the last one did not help


def _helper(database: str, wal_frames_limit: int) -> None:
    """Past `wal_frames_limit` frames in the WAL (--wal-limit-mb) the next checkpoint runs while the
    writer waits for its sync, so that the WAL can start over."""
    import contextlib
    import select
    import sqlite3
    import time

    fd = os.open(database + "-wal", os.O_RDONLY)
    # Checkpoints happen here too, not in the writer's COMMIT (wal_autocheckpoint is off there): copying
    # WAL pages into the database and syncing both inside a COMMIT held the event loop ~30% of the time.
    conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous = NORMAL")  # the WAL is synced before a checkpoint, the db after

    def checkpoint() -> int:
        """Copy what the WAL holds into the database; the WAL's length in frames afterwards."""
        with contextlib.suppress(sqlite3.Error):  # busy: the next round tries again
            row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return int(row[1])
        return 0

    checkpointed = time.monotonic()
    catch_up = False

    def generation() -> bytes:
        """The WAL header's checkpoint sequence number and salt: they change when the WAL starts over."""
        return os.pread(fd, 8, 12)

    caught_up, generation_then = 0.0, b""  # when the last catch-up ran, and the WAL's generation then
    while True:
        ready, _, _ = select.select([0], [], [], CHECKPOINT_EVERY)
        if ready:
            data = os.read(0, 65536)
            if not data:
                return
            os.fdatasync(fd)
            if catch_up:
                # The writer waits for this answer before its next commit, so this checkpoint reaches
                # the WAL's end and the writer's next transaction starts the WAL over (a checkpoint made
                # while it commits never catches up: under steady load the file grew without end, 7.6 GB
                # while 1M items were loaded). The wait is short: the checkpoint before it copied all but
                # the frames of the last quarter second.
                # A reader's snapshot (a long scan, a backup) can keep the WAL from starting over: then
                # the next catch-up waits CATCH_UP_EVERY seconds, not just until the next checkpoint.
                generation_then = generation()
                checkpoint()
                catch_up = False
                checkpointed = caught_up = time.monotonic()
            os.write(1, b"k" * len(data))
        if time.monotonic() - checkpointed >= CHECKPOINT_EVERY:
            frames = checkpoint()
            checkpointed = time.monotonic()
            started_over = generation() != generation_then
            waited = checkpointed - caught_up >= CATCH_UP_EVERY
            catch_up = frames >= wal_frames_limit and (started_over or waited)


class _Acks(asyncio.Protocol):
    def __init__(self, syncer: Syncer) -> None:
        self._syncer = syncer

    def data_received(self, data: bytes) -> None:
        self._syncer._acked(len(data))

    def connection_lost(self, exc: Exception | None) -> None:
        self._syncer._lost()


class Syncer:
    """Makes everything committed so far durable, off the loop: `request(done)` calls `done()` on the
    loop once an fdatasync that began after the request has finished."""

    def __init__(self, database: str, wal_frames_limit: int) -> None:
        self._database = database
        self._wal_frames_limit = wal_frames_limit
        self._wal_path = database + "-wal"
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: int | None = None  # the helper's stdin: one byte per request, written directly
        self._waiting: deque[Callable[[], None]] = deque()
        self._fd: int | None = None  # for `now()`, opened on first use

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from {__name__} import _helper; _helper({self._database!r}, {self._wal_frames_limit!r})",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        await loop.connect_read_pipe(lambda: _Acks(self), self._process.stdout)
        self._requests = self._process.stdin.fileno()

    def request(self, done: Callable[[], None]) -> None:
        if self._requests is not None:
            try:
                os.write(self._requests, b"s")  # a pipe never fills: one byte per group in flight
            except OSError:
                self._requests = None
            else:
                self._waiting.append(done)
                return
        self.now()
        done()

    def now(self) -> None:
        """Durable before returning (closing; a synchronous write on the loop's own thread)."""
        if self._fd is None:
            self._fd = os.open(self._wal_path, os.O_RDONLY)
        os.fdatasync(self._fd)

    def _acked(self, count: int) -> None:
        for _ in range(min(count, len(self._waiting))):
            self._waiting.popleft()()

    def _lost(self) -> None:
        """The helper died: nothing it acknowledged is in doubt; what waits is made durable here."""
        if self._waiting:
            log.error("the WAL sync helper exited; syncing on the event loop from now on")
            self.now()
            waiting, self._waiting = self._waiting, deque()
            for done in waiting:
                done()
        self._requests = None

    def close(self) -> None:
        if self._waiting:
            self.now()
            waiting, self._waiting = self._waiting, deque()
            for done in waiting:
                done()
        self._requests = None
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()  # the helper's cue to exit
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
