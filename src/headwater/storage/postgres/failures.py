"""How the PostgreSQL writer classifies what goes wrong with a group: the database's own trouble (a lost
connection, a full disk), another node's (a deadlock, a serialization failure: run the group again), or
an operation's (take it out of the group); and the texts callers get for each."""

from __future__ import annotations

from typing import Any

import psycopg

from headwater.storage.group_commit import Outcome

Connection = psycopg.Connection[Any]

LOST = "lost the connection to PostgreSQL; nothing was committed"
UNREACHABLE = "cannot reach PostgreSQL"
DISK_FULL = "PostgreSQL's disk is full; writes work again once there is room"
UNKNOWN = (
    "lost the connection to PostgreSQL during COMMIT and could not find out whether the write was committed"
)
FAILED_OVER = (
    "lost the connection to PostgreSQL during COMMIT and another server took over; could not find out "
    "whether the write was committed"
)
# How long an ambiguous COMMIT's outcome is looked for (reconnecting) before it is reported unknown.
RESOLVE_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
# How many times a group another node's transaction deadlocked with runs again before it fails.
CONFLICT_RETRIES = 20
CONFLICT = "the write conflicted with other nodes' writes too many times; nothing was committed"


class RunAgain(Exception):
    """The group's transaction was rolled back and must run again: `exclusive` when it changes a table
    definition (it then holds the catalog lock exclusively), else it lost a deadlock."""

    def __init__(self, *, exclusive: bool) -> None:
        super().__init__()
        self.exclusive = exclusive


def conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back, no operation is at fault."""
    return any(
        isinstance(error, (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure))
        for error in (exc, exc.__cause__)
    )


class StorageFailure(Exception):
    """The database could not take the group (connection lost, disk full): no operation's fault.
    `before_commit`: COMMIT was never sent, so nothing of the group can have been committed."""

    def __init__(self, cause: str, *, before_commit: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause
        self.before_commit = before_commit


def database_cause(exc: BaseException, conn: Connection | None) -> str | None:
    """What a failure says about the database itself, or None when it may be an operation's fault (or
    another node's: a deadlock or serialization failure, psycopg's OperationalErrors too, is neither)."""
    if conflict(exc) and conn is not None and not conn.broken:
        return None
    for error in (exc, exc.__cause__):
        if isinstance(error, StorageFailure):
            return error.cause
        if isinstance(error, psycopg.errors.DiskFull):
            return DISK_FULL
    if isinstance(exc, psycopg.OperationalError) or (conn is not None and conn.broken):
        return LOST
    return None


def gone(conn: Connection, exc: psycopg.Error) -> bool:
    """Whether the session has ended. The server may say so (an administrator's or a shutdown's FATAL,
    SQLSTATE class 57P) before the socket closes, and psycopg marks the connection broken only then."""
    return conn.broken or conn.closed or (exc.sqlstate or "").startswith(("57P", "08"))


class Dirty(Exception):
    """The transaction is spoiled; `attributable` when the operation at hand is known to be the cause."""

    def __init__(self, outcome: Outcome, *, attributable: bool) -> None:
        super().__init__()
        self.outcome = outcome
        self.attributable = attributable
