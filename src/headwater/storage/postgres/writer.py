"""The single writer: one thread owns the write connection and commits queued operations in groups.

Each group is one transaction. Fast path: read the old items of the whole group in one SELECT (and note
the transaction id), run every operation's pure `apply` against them plus the earlier operations' writes
(`Pending`), send the final state and COMMIT in one pipeline; only then are the callers woken (one
`call_soon_threadsafe` per event loop per group). If a write fails (COMMIT is then skipped), nobody knows
which operation's WriteSet was bad, so the group is rolled back and run again carefully: each operation
flushed on its own, and the one that fails is taken out (`apply` is pure, so running it again gives the
same WriteSet). A failed COMMIT fails the whole group.

What a caller is told when the connection breaks (a PostgreSQL restart, a terminated backend):
- before COMMIT was sent: nothing was committed; every operation of the group gets InternalServerError
  (HTTP 500), which every AWS SDK retries.
- once COMMIT was sent (alone or with the writes) and its answer is lost: the writer reconnects and asks
  PostgreSQL whether the transaction committed (lost_commit.py, failovers included); the callers get
  their results only if it did. A write is never reported as succeeded unless it committed.
- after any reconnect, the sequence number and the catalog are read again from the database, so a
  commit whose answer was lost can never make the writer reuse sequence numbers.

Other nodes write the same schema (storage/postgres/locks.py). A group takes the catalog lock shared and
reads the catalog version under it: when another node has changed a table definition since, the writer
reads the catalog again in the same transaction and resolves the group's operations against it, so a
write that raced a definition change is applied to the new definition. A group that changes a table
definition runs again holding the catalog lock exclusively (it waits for every group of every node that
resolved against the old catalog, and they for it), moves the version and announces it (NOTIFY). A group
that PostgreSQL picks as a deadlock victim or serialization failure runs again (apply is pure).

Two lanes: a node runs `lanes` writer threads, each with a connection of its own, that take turns like
two nodes would. The lane holding the turn gathers a group, reads its old items under its key locks
(the first round trip), runs `apply`, and passes the turn on before its write and COMMIT: the next group
reads while this one commits. PostgreSQL keeps them apart as it keeps nodes apart: a key this group
writes is locked until its COMMIT, so the next group's read waits for it and sees the committed item;
the next group's numbering of stream records waits on the row of each shard both append to, so commit
order stays sequence order within every shard (groups appending to different shards, and their
counters, which go to each connection's own rows, do not wait for each other). What the lanes share
(the catalog and its version, the last sequence number, the counts) changes under `_state`; a lane
publishes a catalog only when its version is newer.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from headwater.errors import DynamoDBError
from headwater.storage.base import WriteOperation
from headwater.storage.catalog_overlay import CatalogOverlay
from headwater.storage.group_commit import DEFAULT_GROUP_CAP, GroupCommitWriter, Job, Outcome, internal
from headwater.storage.postgres.failures import (
    CONFLICT,
    CONFLICT_RETRIES,
    LOST,
    UNREACHABLE,
    Dirty,
    RunAgain,
    StorageFailure,
    conflict,
    database_cause,
    gone,
)
from headwater.storage.postgres.group import (
    Pending,
    begin_group,
    catalog_channel,
    claim_counter_slot,
    item_tuple,
)
from headwater.storage.postgres.lost_commit import confirm_committed
from headwater.storage.postgres.schema import load_catalog, load_sequence, read_catalog, server_timeline

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_GROUP_CAP", "DEFAULT_LANES", "Task", "Writer", "WriterStats"]

# Writer threads (each a connection): two let a group read while the one before it commits; a third
# measured no better (measured when every group took one `sequence` row and its table's `counters` row).
DEFAULT_LANES = 2

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
    conflicts: int = 0  # groups run again after a deadlock with another node's transaction


@dataclass(frozen=True, slots=True)
class Task:
    """Internal writer work that is not a WriteOperation (e.g. trimming stream records)."""

    run: Callable[[Connection], Any]


class _Lane:
    """One writer thread's connection and the timeline of the server it is on."""

    def __init__(self, conn: Connection | None, timeline: int) -> None:
        self.conn = conn
        self.timeline = timeline
        self.opened = conn is not None  # a lane's first connection is no reconnect
        self.counter_slot: int | None = None  # claimed by the connection on its first group


class Writer(GroupCommitWriter):
    """`connect` opens a ready writer connection (settings); it is called again after a failure and for
    each lane beyond the first. `schema` names the locks and the notification channel."""

    backend = "postgresql"

    def __init__(
        self,
        conn: Connection,
        connect: Callable[[], Connection],
        last_seq: int,
        *,
        schema: str | None = None,
        group_cap: int = DEFAULT_GROUP_CAP,
        lanes: int = DEFAULT_LANES,
        name: str = "headwater-postgres-writer",
    ) -> None:
        self._first: Connection | None = conn  # the first lane's; `_load_catalog` reads through it
        self._connect = connect
        self._timeline = server_timeline(conn)  # of the server the first connection is on
        self._lanes: list[_Lane] = []  # every lane's, to close them
        self._local = threading.local()  # lane: this thread's _Lane
        self._state = threading.Lock()
        self._last_seq = last_seq
        self._schema = schema
        self._channel = catalog_channel(schema)
        self._reconnects = 0
        self._conflicts = 0
        self.catalog_version = 0  # the version of `committed_catalog` (set by `_load_catalog`)
        super().__init__(group_cap=group_cap, name=name, lanes=lanes)

    @property
    def last_sequence(self) -> int:
        """The last sequence number this node has committed."""
        return self._last_seq

    def announce_sequence(self, seq: int) -> None:
        """Another node committed up to `seq`: wake this node's commit listeners (any thread)."""
        self._notify_sequence(seq)

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._commits,
            self._operations,
            self._failed_commits,
            self._largest_group,
            self._replays,
            self._reconnects,
            self._conflicts,
        )

    def _after_failed_group(self) -> None:
        self._rollback()

    def _after_close(self) -> None:
        with self._state:
            lanes, self._lanes = self._lanes, []
            first, self._first = self._first, None
        for lane in lanes:
            if lane.conn is not None:
                lane.conn.close()
                lane.conn = None
        if first is not None:
            first.close()

    def _load_catalog(self) -> Mapping[str, bytes]:
        assert self._first is not None
        catalog, self.catalog_version = load_catalog(self._first)
        return catalog

    def connections(self) -> list[Connection]:
        """The lanes' open connections (for tests: one lane's is the writer's session)."""
        with self._state:
            conns = [lane.conn for lane in self._lanes] + [self._first]
        return [conn for conn in conns if conn is not None]

    def _my_lane(self) -> _Lane:
        """This thread's lane: the first takes the connection the writer was made with, the others open
        their own when they first need it."""
        lane: _Lane | None = getattr(self._local, "lane", None)
        if lane is None:
            with self._state:
                conn, self._first = self._first, None
                lane = _Lane(conn, self._timeline)
                self._lanes.append(lane)
            self._local.lane = lane
        return lane

    def _connection(self) -> Connection:
        """This lane's write connection; after a reconnect, the sequence number and the catalog as the
        database has them (a commit whose answer was lost may have happened)."""
        lane = self._my_lane()
        conn = lane.conn
        if conn is not None and not conn.broken and not conn.closed:
            return conn
        if conn is not None:
            conn.close()
            lane.conn = None
        if lane.opened:
            log.info("writer connection lost; reconnecting")
        try:
            conn = self._connect()
            timeline = server_timeline(conn)
            last_seq = load_sequence(conn)
            catalog, version = load_catalog(conn)
        except (psycopg.Error, DynamoDBError) as exc:
            raise StorageFailure(UNREACHABLE) from exc
        if timeline != lane.timeline:
            log.warning("PostgreSQL failed over (timeline %d, was %d)", timeline, lane.timeline)
        lane.conn = conn
        lane.counter_slot = None
        lane.timeline = timeline
        with self._state:
            # the other lane may have committed more since these were read; after a failover they may
            # go back (commits the standby never had are gone)
            failed_over = timeline != self._timeline
            self._timeline = timeline
            if failed_over or last_seq > self._last_seq:
                self._last_seq = last_seq
            if failed_over or version > self.catalog_version:
                self.catalog_version = version
                self._publish_catalog(catalog)
            if lane.opened:
                self._reconnects += 1
        lane.opened = True
        return conn

    def _catalog_at(self, conn: Connection, version: int) -> Mapping[str, bytes]:
        """The committed catalog of `version` (the one this group's transaction sees): the published one
        when it is of that version, else read in the transaction (and published when newer)."""
        with self._state:
            if version == self.catalog_version:
                return self.committed_catalog
        catalog = read_catalog(conn)  # another node (or lane) changed a table definition
        self._publish_newer(catalog, version)
        return catalog

    def _publish_newer(self, catalog: Mapping[str, bytes], version: int) -> None:
        with self._state:
            if version > self.catalog_version:
                self.catalog_version = version
                self._publish_catalog(catalog)

    def _commit_group(self, batch: list[Job]) -> list[Outcome]:
        failed: dict[int, Outcome] = {}
        careful = False
        fresh_connection = False
        exclusive = False
        conflicts = 0
        while True:
            try:
                outcomes, careful_next = self._try_group(batch, failed, careful, exclusive)
            except RunAgain as again:
                self._rollback()
                if again.exclusive:
                    exclusive = True
                    continue
                conflicts += 1
                self._conflicts += 1
                if conflicts > CONFLICT_RETRIES:
                    self._failed_commits += 1
                    return [(None, internal(f"Internal server error: {CONFLICT}")) for _ in batch]
                time.sleep(random.uniform(0, 0.002 * conflicts))
                continue
            except StorageFailure as failure:
                if failure.cause == LOST:
                    self._discard()  # the session is gone, whether or not psycopg has seen it close
                else:
                    self._rollback()
                if failure.cause == LOST and failure.before_commit and not fresh_connection:
                    # the connection died while idle (PostgreSQL restarted): the group is pure and
                    # nothing of it was committed, so it runs once more on a new connection
                    fresh_connection = True
                    continue
                self._failed_commits += 1
                error = self._storage_failed(failure.cause, failure.__cause__ or failure)
                return [(None, error) for _ in batch]
            if outcomes is not None:
                return outcomes
            careful = careful or careful_next
            self._replays += 1

    def _try_group(
        self, batch: list[Job], failed: dict[int, Outcome], careful: bool, exclusive: bool
    ) -> tuple[list[Outcome] | None, bool]:
        """One attempt: (outcomes, _) or (None, go careful) to run the group again; RunAgain when it must
        run again holding the catalog lock exclusively, or after a deadlock."""
        live = [i for i in range(len(batch)) if i not in failed]
        if not live:
            return [failed[i] for i in range(len(batch))], False
        conn = self._connection()
        lane = self._my_lane()
        pending = Pending(None, self._last_seq, self._channel)
        outcomes = dict(failed)
        # the fast path sends COMMIT with the writes (one round trip less a group); tasks and the careful
        # path commit on their own
        merged = not careful and not any(isinstance(batch[i].op, Task) for i in live)
        try:
            if lane.counter_slot is None:
                lane.counter_slot = claim_counter_slot(conn, self._schema)
            pending.counter_slot = lane.counter_slot
            ops = [batch[i].op for i in live]
            keys = [item_tuple(k) for op in ops if not isinstance(op, Task) for k in op.keys]
            begun = begin_group(conn, self._schema, keys, exclusive=exclusive, read=not careful)
            pending.cache, pending.xid = begun.items, begun.xid
            # resolved against the catalog as this transaction sees it (another node's or lane's change)
            catalog = CatalogOverlay(self._catalog_at(conn, begun.catalog_version))
            for i in live:
                try:
                    outcomes[i] = self._apply_one(conn, pending, catalog, batch[i].op, i, careful)
                except Dirty as dirty:
                    if not dirty.attributable:
                        raise
                    failed[i] = dirty.outcome
                    self._spoiled(conn)
                    return None, False
            if catalog.changed and not exclusive:
                raise RunAgain(exclusive=True)
            pending.bump_catalog = catalog.changed
            xid = pending.xid
            self._pass_turn()  # the next group may read while this one writes and commits
            try:
                pending.flush(conn, commit=merged)
            except psycopg.Error as exc:
                if not merged or xid is None or not gone(conn, exc):
                    raise  # an open connection answered: COMMIT was skipped or refused, nothing committed
                # the connection broke with COMMIT sent: did it commit?
                self._committed_after_all(xid, exc)
            if pending.xid is None and any(isinstance(batch[i].op, Task) for i in live):
                pending.xid = self._transaction_id(conn)
        except (StorageFailure, RunAgain):
            raise
        except Exception as exc:
            cause = database_cause(exc, conn)
            if cause is not None:
                raise StorageFailure(cause, before_commit=True) from exc
            if conflict(exc):
                raise RunAgain(exclusive=False) from exc
            if careful:
                raise  # everything was flushed one by one: a failure here is not any one operation's
            log.info("a group of %d operations failed to write; running it again one by one", len(batch))
            self._spoiled(conn)
            return None, True
        try:
            if not merged:
                conn.commit()
        except psycopg.Error as exc:
            if pending.xid is None or not gone(conn, exc):
                self._rollback()
                cause = database_cause(exc, conn)  # refused (not lost): certainly not committed
                if cause is None:
                    log.exception("commit of a group of %d operations failed", len(batch))
                raise StorageFailure(cause or "PostgreSQL refused the commit") from exc
            self._committed_after_all(pending.xid, exc)
        for i, result in pending.answers.items():
            outcomes[i] = (result, None)
        if pending.catalog_version is not None:
            self._publish_newer(catalog.committed(), pending.catalog_version)
        self._count_commit(len(batch))
        self._committed()
        if pending.numbered:
            with self._state:
                # every commit that numbered records is told (the other lane's may have committed a
                # greater number first, in another shard), with the highest number known, which never
                # goes back
                self._last_seq = max(self._last_seq, pending.last_seq)
                self._committed_sequence(self._last_seq)
        return [outcomes[i] for i in range(len(batch))], False

    @staticmethod
    def _transaction_id(conn: Connection) -> str | None:
        row = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
        return None if row is None else str(row[0])

    def _apply_one(
        self,
        conn: Connection,
        pending: Pending,
        catalog: CatalogOverlay,
        op: WriteOperation | Task,
        index: int,
        careful: bool,
    ) -> Outcome:
        """The outcome (a successful write's answer is made by the flush that numbers its records, into
        `pending.answers`); raises Dirty when the transaction is spoiled."""
        if isinstance(op, Task):
            try:
                pending.flush(conn)
            except Exception as exc:
                if conflict(exc):
                    raise
                raise Dirty((None, internal()), attributable=False) from exc
            pending.cache = None  # the task may change anything
            try:
                return op.run(conn), None
            except Exception as exc:
                if conflict(exc):
                    raise
                log.exception("writer task failed")
                raise Dirty((None, internal()), attributable=True) from exc
        try:
            op = op.resolve(catalog)
        except DynamoDBError as exc:
            return None, exc
        try:
            olds = pending.read(conn, op.keys)
        except Exception as exc:
            if database_cause(exc, conn) is not None or conflict(exc):
                raise
            log.exception("could not read the old items of %s", type(op).__name__)
            raise Dirty((None, internal()), attributable=True) from exc
        try:
            ws = op.apply(olds)
        except DynamoDBError as exc:
            return None, exc
        except Exception:
            log.exception("write operation %s failed unexpectedly", type(op).__name__)
            return None, internal()
        try:
            pending.add(ws, index)
            if careful:
                pending.flush(conn)
        except Exception as exc:
            if database_cause(exc, conn) is not None or conflict(exc):
                raise
            log.exception("could not write the WriteSet of %s", type(op).__name__)
            raise Dirty((None, internal()), attributable=True) from exc
        catalog.add(ws)
        return None, None

    def _committed_after_all(self, xid: str, lost: psycopg.Error) -> None:
        """After a COMMIT whose answer was lost: reconnect and ask (lost_commit.py)."""
        log.warning("lost the connection to PostgreSQL during COMMIT (%s); asking whether it committed", lost)
        self._discard()
        lane = self._my_lane()
        confirm_committed(xid, lost, lambda: (self._connection(), lane.timeline), lane.timeline)

    def _spoiled(self, conn: Connection) -> None:
        """Roll back; a connection that broke fails the whole group (it is not any operation's fault)."""
        if conn.broken:
            raise StorageFailure(LOST, before_commit=True)
        self._rollback()

    def _discard(self) -> None:
        """Close this lane's write connection; the next `_connection()` opens a new one."""
        lane = self._my_lane()
        conn, lane.conn = lane.conn, None
        if conn is not None:
            conn.close()

    def _rollback(self) -> None:
        conn = self._my_lane().conn
        if conn is None or conn.closed or conn.broken:
            return
        try:
            conn.rollback()
        except psycopg.Error:
            log.exception("rollback failed")
