"""A COMMIT whose answer was lost (the connection broke after it was sent): did it commit?

The writer reconnects and asks PostgreSQL (`pg_xact_status` of the transaction id it noted before
COMMIT). Committed: the writer commits an empty transaction of its own first (with synchronous replication
it returns once the standby has everything before it, the lost commit too: a killed session's commit may
not have reached it), then the callers get their results, as if nothing happened. Not committed:
InternalServerError, safe to retry. When PostgreSQL cannot be reached to ask, the outcome is unknown:
InternalServerError saying so. That is DynamoDB's own contract for a 500 (the write may or may not have
happened; a retried non-idempotent update may apply twice, which ClientRequestToken prevents for
transactions).

After a failover (the new connection's server is on another timeline: a standby was promoted) the answer
is about the new primary's history, which holds the transaction only if its commit was replicated.
Aborted, unknown to it (an id "in the future") or in progress (another session's now): not committed
there, InternalServerError. Committed: it may be a new transaction that was given the same id after the
promotion, so the outcome is reported unknown rather than guessed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import psycopg

from headwater.storage.postgres.failures import (
    FAILED_OVER,
    LOST,
    RESOLVE_DELAYS,
    UNKNOWN,
    UNREACHABLE,
    StorageFailure,
)
from headwater.storage.postgres.schema import transaction_status

log = logging.getLogger(__name__)

Connection = psycopg.Connection[Any]


def confirm_committed(
    xid: str, lost: psycopg.Error, reconnect: Callable[[], tuple[Connection, int]], timeline: int
) -> None:
    """Returns when transaction `xid` committed; otherwise raises StorageFailure saying what is known.
    `reconnect`: a new write connection (raising StorageFailure(UNREACHABLE) when there is none) and the
    timeline of its server; `timeline`: the one the transaction ran on."""
    for delay in (0.0, *RESOLVE_DELAYS):
        time.sleep(delay)
        try:
            conn, now_on = reconnect()  # the writer also reads the sequence number and catalog again
            try:
                status = transaction_status(conn, xid)
            except psycopg.errors.InvalidParameterValue:
                status = "unseen"  # "in the future": this server's history never had it
            if now_on != timeline:
                if status in ("committed", None):  # maybe another transaction with the same id
                    raise StorageFailure(FAILED_OVER) from lost
                raise StorageFailure(LOST) from lost  # not in the history that survived
            if status == "committed":
                conn.execute("SELECT pg_current_xact_id()")  # returns once replicated up to here
        except StorageFailure as failure:
            if failure.cause == UNREACHABLE:
                continue
            raise
        except psycopg.Error:
            continue
        if status == "committed":
            log.warning("the COMMIT whose answer was lost had committed; the writes stand")
            return
        if status == "aborted":
            raise StorageFailure(LOST) from lost
        if status is None:  # PostgreSQL no longer knows it (cannot be, so soon): say so
            break
    raise StorageFailure(UNKNOWN) from lost
