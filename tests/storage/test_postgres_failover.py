"""PostgreSQL failover under the writer: what PostgreSQL itself says about transaction ids across a
promotion (the lost-COMMIT lookup relies on it), and a COMMIT whose answer is lost because the primary
died while COMMIT waited for the synchronous standby."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from headwater.errors import InternalServerError
from headwater.storage.base import StreamWrite
from tests.postgres_server import PostgresPair, PostgresServer, kill_postmaster, promote

from .ops import Put, key
from .test_postgres_commit_lost import Background

psycopg = pytest.importorskip("psycopg")

from headwater.storage.postgres import PostgresStorage  # noqa: E402
from headwater.storage.postgres.failures import gone  # noqa: E402
from headwater.storage.postgres.schema import (  # noqa: E402
    connection_target,
    server_timeline,
    transaction_status,
)

DEADLINE = 30.0
NOT_COMMITTED = "nothing was committed"
UNKNOWN = "could not find out whether the write was committed"


def _wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://hw@h1:5432,h2:5433/db", {"host": "h1,h2", "port": "5432,5433", "tsa": "read-write"}),
        ("postgresql://hw@/db?host=/run/a,/run/b", {"host": "/run/a,/run/b", "tsa": "read-write"}),
        ("postgresql://hw@h1,h2/db?target_session_attrs=any", {"host": "h1,h2", "tsa": "any"}),
        ("postgresql://hw@h1:5432/db", {"host": "h1", "port": "5432", "tsa": None}),
    ],
)
def test_a_url_of_several_hosts_connects_to_the_primary(url: str, expected: dict[str, str | None]) -> None:
    """libpq tries the hosts in order; unless the URL says otherwise, only a read-write server will do."""
    params = psycopg.conninfo.conninfo_to_dict(connection_target(url))
    seen = {name: params.get(name) for name in expected if name != "tsa"}
    seen["tsa"] = params.get("target_session_attrs")
    assert seen == expected


def test_transaction_ids_of_the_old_primary_are_answered_by_the_promoted_standby(
    postgres_pair: PostgresPair,
) -> None:
    """A transaction committed on the primary (so on the synchronous standby's disk) is 'committed' on
    the promoted standby, which runs on a new timeline; an id it never gave out is 'in the future'."""
    with psycopg.connect(postgres_pair.primary.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE facts (n int)")
        with conn.transaction():
            conn.execute("INSERT INTO facts VALUES (1)")
            row = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
        assert row is not None
        xid = str(row[0])
        old_timeline = server_timeline(conn)
    kill_postmaster(postgres_pair.primary)
    promote(postgres_pair.standby)
    with psycopg.connect(postgres_pair.url(), autocommit=True) as conn:
        assert server_timeline(conn) == old_timeline + 1
        assert transaction_status(conn, xid) == "committed"
        future = conn.execute("SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000)::text")
        row = future.fetchone()
        assert row is not None
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="in the future"):
            transaction_status(conn, str(row[0]))


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # nobody may reap a killed postmaster's children


def _record(payload: bytes) -> StreamWrite:
    return StreamWrite(1, 0, 1000.0, payload)


def test_a_commit_lost_in_a_failover_is_never_a_success(postgres_pair: PostgresPair) -> None:
    """The standby's WAL receiver is stopped, so the writer's COMMIT waits for it; the primary is killed
    there (committed on the primary's disk only) and the standby promoted. Whether the commit's record
    reached the standby or not, the caller gets an InternalServerError: "nothing was committed" only when
    it is not there; a success would be a guess (the id may be the new primary's own by then)."""
    pair = postgres_pair
    with (
        PostgresStorage(pair.url(), schema="failover", lanes=1) as store,
        psycopg.connect(pair.primary.url, autocommit=True) as admin,
        psycopg.connect(pair.standby.url, autocommit=True) as standby,
    ):
        assert store.write_sync(Put(key(b"first"), b"1", stream=(_record(b"1"),))) is None
        (conn,) = store._w().connections()  # one lane: one session commits every group
        writer_pid = conn.info.backend_pid
        row = standby.execute("SELECT pid FROM pg_stat_wal_receiver").fetchone()
        assert row is not None
        receiver = int(row[0])
        row = admin.execute("SELECT pid FROM pg_stat_replication").fetchone()
        assert row is not None
        sender = int(row[0])
        os.kill(receiver, signal.SIGSTOP)
        try:
            write = Background(store, Put(key(b"lost"), b"2", stream=(_record(b"2"),)))
            query = "SELECT wait_event FROM pg_stat_activity WHERE pid = %s"
            _wait_for(
                "COMMIT to wait for the standby",
                lambda: admin.execute(query, (writer_pid,)).fetchone() == ("SyncRep",),
            )
            kill_postmaster(pair.primary)
            # the sessions notice; had the sender lived on, it could have passed an ack along
            _wait_for("the primary's sessions to end", lambda: _ended(writer_pid) and _ended(sender))
        finally:
            os.kill(receiver, signal.SIGCONT)
        promote(pair.standby)
        outcome = write.outcome()
        assert isinstance(outcome, InternalServerError)
        message = str(outcome.message)
        assert NOT_COMMITTED in message or UNKNOWN in message, message
        if NOT_COMMITTED in message:
            assert store.get_item(key(b"lost")) is None
        assert store.write_sync(Put(key(b"next"), b"3", stream=(_record(b"3"),))) is None
        assert store.get_item(key(b"first")) == b"1"  # acknowledged: it was on the standby
        records = [(r.seq, r.payload) for r in store.stream_records(1, 0, 0, None, 10)]
        assert records[0] == (1, b"1") and records[-1][1] == b"3"
        assert [seq for seq, _ in records] == sorted({seq for seq, _ in records})  # none used twice


def test_a_session_the_server_ended_is_gone_before_its_socket_closes(postgres_server: PostgresServer) -> None:
    """A terminated session's FATAL (SQLSTATE 57P01) can reach psycopg before the socket's end does, and
    the connection is not marked broken yet: the writer must still treat COMMIT's answer as lost (and ask),
    not as a refusal ("nothing was committed")."""
    with psycopg.connect(postgres_server.url) as conn:
        assert not conn.broken
        assert gone(conn, psycopg.errors.AdminShutdown("terminating connection due to administrator command"))
        assert not gone(conn, psycopg.errors.UniqueViolation("duplicate key value"))
