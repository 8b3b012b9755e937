"""PostgreSQL: the writer's connection is killed in the middle of COMMIT (`pg_terminate_backend` from
another connection). A write is reported as succeeded exactly when it committed, and a commit whose
answer was lost never makes the writer reuse sequence numbers."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from headwater.errors import InternalServerError
from headwater.storage.base import StreamWrite
from tests.postgres_server import (
    PostgresServer,
    crash_postgres,
    restart_postgres,
    start_postgres,
    stop_postgres,
)

from .ops import Put, key

psycopg = pytest.importorskip("psycopg")

from headwater.storage.postgres import PostgresStorage  # noqa: E402

DEADLINE = 30.0


def _record(payload: bytes) -> StreamWrite:
    return StreamWrite(1, 0, 1000.0, payload)


def _wait_for(what: str, check: Callable[[], bool], state: Callable[[], object] = lambda: None) -> None:
    """`state` says, when the wait gives up, what was seen instead (for the failure message)."""
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}; seen: {state()}")
        time.sleep(0.01)


def _writer_pid(store: PostgresStorage) -> int:
    """The writer's session (these tests' stores have one lane: one session commits every group)."""
    (conn,) = store._w().connections()
    return int(conn.info.backend_pid)


def _waiting(admin: Any, pid: int, event: str) -> bool:
    row = admin.execute("SELECT wait_event FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is not None and row[0] == event


def _commits_wait_for_the_standby(url: str, admin: Any) -> None:
    """Wait until a commit really waits for the (missing) standby. A session sees the new setting at
    once, but whether commits wait is a flag the checkpointer sets when it gets to the reload: until
    then a commit goes through (under load, the test's own write did). So commit a probe row until one
    waits, then cancel that wait (the row has committed locally; cancelling only ends the wait)."""
    deadline = time.monotonic() + DEADLINE
    with psycopg.connect(url, autocommit=True) as probe:
        pid = probe.info.backend_pid
        while True:
            done = threading.Event()

            def commit(done: threading.Event) -> None:
                with contextlib.suppress(psycopg.Error):
                    probe.execute("INSERT INTO commit_probe VALUES (1)")
                done.set()

            thread = threading.Thread(target=commit, args=(done,))
            thread.start()
            while not done.is_set() and not _waiting(admin, pid, "SyncRep"):
                if time.monotonic() > deadline:
                    raise AssertionError(f"no commit waited for the standby; seen: {_activity(admin, pid)}")
                time.sleep(0.01)
            waited = not done.is_set()
            if waited:
                admin.execute("SELECT pg_cancel_backend(%s)", (pid,))
            thread.join(DEADLINE)
            assert done.is_set(), "the probe's commit never returned"
            if waited:
                return


def _activity(admin: Any, pid: int) -> object:
    query = "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE pid = %s"
    return admin.execute(query, (pid,)).fetchone()


class Background:
    """`store.write_sync(op)` on its own thread; `outcome()` is its result or the exception it raised."""

    def __init__(self, store: PostgresStorage, op: Put) -> None:
        self._result: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(store, op))
        self._thread.start()

    def _run(self, store: PostgresStorage, op: Put) -> None:
        try:
            self._result.append(store.write_sync(op))
        except Exception as exc:
            self._result.append(exc)

    def finished(self) -> list[Any]:
        """The outcome if the write finished: [result or exception], else []."""
        return list(self._result)

    def outcome(self) -> Any:
        self._thread.join(DEADLINE)
        assert self._result, "the write never finished"
        return self._result[0]


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of its own: synchronous replication settings are server-wide."""
    try:
        server = start_postgres()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"cannot start a throwaway PostgreSQL server: {exc}")
    try:
        yield server
    finally:
        stop_postgres(server)


def test_a_commit_whose_answer_is_lost_but_committed_succeeds(own_server: PostgresServer) -> None:
    """COMMIT waits for a synchronous standby that does not exist: it has committed locally when the
    connection is killed (PostgreSQL says so), so the caller must get its result, and the next write
    must not reuse its sequence number."""
    url = own_server.url
    with (
        PostgresStorage(url, schema="lost", lanes=1) as store,  # one lane: one writer session
        psycopg.connect(url, autocommit=True) as admin,
    ):
        assert store.write_sync(Put(key(b"first"), b"1", stream=(_record(b"1"),))) is None
        pid = _writer_pid(store)
        admin.execute("CREATE TABLE IF NOT EXISTS commit_probe (n int)")
        admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        admin.execute("SELECT pg_reload_conf()")

        def writer_sees_it() -> bool:  # the writer's session has read the new configuration
            (conn,) = store._w().connections()
            row = conn.execute("SHOW synchronous_standby_names").fetchone()
            conn.rollback()
            return row == ("nobody",)

        _wait_for("the configuration reload", writer_sees_it)
        _commits_wait_for_the_standby(url, admin)
        write = Background(store, Put(key(b"lost"), b"2", stream=(_record(b"2"),)))
        _wait_for(
            "COMMIT to wait for the standby",
            lambda: _waiting(admin, pid, "SyncRep"),
            lambda: (write.finished(), _activity(admin, pid)),
        )
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
        admin.execute("SELECT pg_reload_conf()")
        assert write.outcome() is None  # committed: a success, not a 500
        assert store.get_item(key(b"lost")) == b"2"
        assert store.write_sync(Put(key(b"next"), b"3", stream=(_record(b"3"),))) is None
        records = store.stream_records(1, 0, 0, None, 10)
        assert [(r.seq, r.payload) for r in records] == [(1, b"1"), (2, b"2"), (3, b"3")]
        assert store.last_sequence() == 3
        assert store.stats.reconnects == 1


def test_a_commit_whose_outcome_cannot_be_learnt_says_so(own_server: PostgresServer) -> None:
    """The server goes away while COMMIT waits for the (missing) standby, having committed locally. The
    writer cannot ask, so the caller is told the outcome is unknown (a 500, as DynamoDB's own); once the
    server is back, the writer reads the sequence number again and does not reuse the committed one."""
    url = own_server.url
    with (
        PostgresStorage(url, schema="gone", lanes=1) as store,  # one lane: one writer session
        psycopg.connect(url, autocommit=True) as admin,
    ):
        assert store.write_sync(Put(key(b"first"), b"1", stream=(_record(b"1"),))) is None
        pid = _writer_pid(store)
        admin.execute("CREATE TABLE IF NOT EXISTS commit_probe (n int)")
        admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        admin.execute("SELECT pg_reload_conf()")

        def writer_sees_it() -> bool:
            (conn,) = store._w().connections()
            row = conn.execute("SHOW synchronous_standby_names").fetchone()
            conn.rollback()
            return row == ("nobody",)

        _wait_for("the configuration reload", writer_sees_it)
        _commits_wait_for_the_standby(url, admin)
        write = Background(store, Put(key(b"unknown"), b"2", stream=(_record(b"2"),)))
        _wait_for(
            "COMMIT to wait for the standby",
            lambda: _waiting(admin, pid, "SyncRep"),
            lambda: (write.finished(), _activity(admin, pid)),
        )
        admin.execute("ALTER SYSTEM RESET synchronous_standby_names")  # for the next start
        crash_postgres(own_server)
        outcome = write.outcome()
        assert isinstance(outcome, InternalServerError)
        assert "could not find out whether the write was committed" in str(outcome.message)
        restart_postgres(own_server)
        assert store.write_sync(Put(key(b"next"), b"3", stream=(_record(b"3"),))) is None
        assert store.get_item(key(b"unknown")) == b"2"  # it had committed
        records = store.stream_records(1, 0, 0, None, 10)
        # after a crash the sequence goes on past the numbers it had logged ahead (a gap)
        assert [r.payload for r in records] == [b"1", b"2", b"3"]
        assert records[0].seq < records[1].seq < records[2].seq


def test_a_commit_killed_before_it_committed_fails(postgres_server: PostgresServer) -> None:
    """COMMIT runs a deferred trigger that waits for a lock the test holds: killed there, the transaction
    is aborted, so the caller must get an InternalServerError (which SDKs retry) and nothing stays."""
    url, schema = postgres_server.url, postgres_server.new_name("abort")
    lock = 0x4857_0008
    with (
        PostgresStorage(url, schema=schema, lanes=1) as store,  # one lane: one writer session
        psycopg.connect(url, autocommit=True) as admin,
    ):
        admin.execute(
            f"CREATE FUNCTION {schema}.hold() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_advisory_xact_lock({lock}); RETURN NULL; END $$"
        )
        admin.execute(
            f"CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON {schema}.items DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION {schema}.hold()"
        )
        assert store.write_sync(Put(key(b"first"), b"1", stream=(_record(b"1"),))) is None
        pid = _writer_pid(store)
        admin.execute("SELECT pg_advisory_lock(%s)", (lock,))
        write = Background(store, Put(key(b"killed"), b"2", stream=(_record(b"2"),)))
        _wait_for("COMMIT to wait in the trigger", lambda: _waiting(admin, pid, "advisory"))
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        outcome = write.outcome()
        assert isinstance(outcome, InternalServerError)
        assert "nothing was committed" in str(outcome.message)
        admin.execute(f"DROP TRIGGER hold ON {schema}.items")
        admin.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        assert store.get_item(key(b"killed")) is None
        assert store.write_sync(Put(key(b"next"), b"3", stream=(_record(b"3"),))) is None
        records = store.stream_records(1, 0, 0, None, 10)
        # the killed transaction's number is not given again (numbers come from a sequence)
        assert [r.payload for r in records] == [b"1", b"3"]
        assert records[0].seq < records[1].seq


def test_an_idle_server_restart_goes_unnoticed(own_server: PostgresServer) -> None:
    """Pooled read connections and the idle writer connection die with the server; the next read and
    the next write use fresh ones instead of failing (nothing was in flight)."""
    with PostgresStorage(own_server.url, schema="reads") as store:
        store.write_sync(Put(key(b"a"), b"1"))
        assert store.get_item(key(b"a")) == b"1"  # a read connection is now pooled
        restart_postgres(own_server)
        assert store.get_item(key(b"a")) == b"1"
        assert store.write_sync(Put(key(b"b"), b"2")) is None  # the writer reconnects too, unseen
        assert store.get_item(key(b"b")) == b"2"
