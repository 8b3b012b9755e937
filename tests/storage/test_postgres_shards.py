"""Stream shards commit in parallel on PostgreSQL: a group locks only the rows of the shards it appends to
(schema.append_records), so groups on other shards (and their counters) do not wait for it, a group on
the same shard does, and a reader of a shard is never shown a number past which a smaller one can still
commit there. Two nodes (two PostgresStorage handles, one writer connection each) on one schema."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from headwater.shardlog import pages
from headwater.shardlog.markers import ROLLOVER
from headwater.storage.base import CONTROL_SLOT, StreamWrite, WriteSet
from tests.postgres_server import PostgresServer

from .ops import Put, Raw, key

psycopg = pytest.importorskip("psycopg")

from headwater.storage.postgres import PostgresStorage  # noqa: E402

STREAM = 7
HOLD_LOCK = 0x4857_0137  # the test holds it: a group writing the item "held" waits for it at COMMIT


def _record(payload: bytes, slot: int, stream_id: int = STREAM) -> StreamWrite:
    return StreamWrite(stream_id, slot, 1000.0, payload)


@pytest.fixture
def nodes(postgres_server: PostgresServer) -> Iterator[tuple[PostgresStorage, PostgresStorage]]:
    schema = postgres_server.new_name("shards")
    with (
        PostgresStorage(postgres_server.url, schema=schema, lanes=1) as a,
        PostgresStorage(postgres_server.url, schema=schema, lanes=1) as b,
    ):
        yield a, b


@pytest.fixture
def admin(nodes: tuple[PostgresStorage, PostgresStorage]) -> Iterator[Any]:
    """A session that makes the COMMIT of any group writing the item "held" wait for HOLD_LOCK (a
    deferred trigger), and holds that lock."""
    a, _ = nodes
    schema = a.schema
    with psycopg.connect(a.url, autocommit=True) as conn:
        conn.execute(
            f"CREATE FUNCTION {schema}.hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.pk = convert_to('held', 'UTF8') THEN "
            f"PERFORM pg_advisory_xact_lock({HOLD_LOCK}); END IF; "
            "RETURN NULL; END $$"
        )
        conn.execute(
            f"CREATE CONSTRAINT TRIGGER hold AFTER INSERT OR UPDATE ON {schema}.items "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {schema}.hold()"
        )
        conn.execute("SELECT pg_advisory_lock(%s)", (HOLD_LOCK,))
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock_all()")


def _writer_pid(node: PostgresStorage) -> int:
    (conn,) = node._w().connections()
    return int(conn.info.backend_pid)


def _waits_on(admin: Any, pid: int) -> tuple[str | None, str | None]:
    row = admin.execute(
        "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return (None, None) if row is None else (row[0], row[1])


def _wait_until(check: Callable[[], bool], what: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.01)


def _hold_a_group(a: PostgresStorage, admin: Any, slot: int) -> Future[Any]:
    """A's group appends a record to shard (STREAM, slot) and then waits at COMMIT, holding the shard's
    row; returns its future."""
    held = a._w().submit_sync(Put(key(b"held"), b"a", stream=(_record(b"held", slot),)))
    pid = _writer_pid(a)
    _wait_until(lambda: _waits_on(admin, pid) == ("Lock", "advisory"), "A's COMMIT to wait in the trigger")
    assert not held.done()
    return held


def test_a_group_on_another_shard_commits_while_one_holds_its_shard_and_one_on_the_same_shard_waits(
    nodes: tuple[PostgresStorage, PostgresStorage], admin: Any
) -> None:
    a, b = nodes
    b.write_sync(Put(key(b"warm"), b"b"))  # B's connection open (its pid known) and its counter slot taken
    held = _hold_a_group(a, admin, slot=0)
    before = a.shard_ceiling(STREAM, 0)
    # another shard of the same stream, adding to the same table's counters: commits while A holds
    other = b._w().submit_sync(Put(key(b"other"), b"b", stream=(_record(b"other", 1),)))
    assert other.result(30) is None
    assert not held.done()
    (committed,) = b.stream_records(STREAM, 1, 0, None, 10)
    assert b.shard_ceiling(STREAM, 1) == committed.seq
    # a reader of shard 0 is not shown B's number: A's record, numbered below it, has not committed
    assert b.shard_ceiling(STREAM, 0) == before
    assert pages.read(b, STREAM, 0, 0, before + 1, 10).records == []
    # the same shard: B's group waits for A's row until A commits
    same = b._w().submit_sync(Put(key(b"same"), b"b", stream=(_record(b"same", 0),)))
    pid = _writer_pid(b)
    _wait_until(lambda: _waits_on(admin, pid) == ("Lock", "transactionid"), "B to wait for A's shard row")
    assert not same.done()
    admin.execute("SELECT pg_advisory_unlock(%s)", (HOLD_LOCK,))
    assert held.result(30) is None and same.result(30) is None
    first, second = a.stream_records(STREAM, 0, 0, None, 10)
    assert (first.payload, second.payload) == (b"held", b"same")
    # A drew its number first and committed last of the three: its shard's reader had not passed it
    assert before < first.seq < committed.seq < second.seq
    assert [r.payload for r in pages.read(b, STREAM, 0, 0, before + 1, 10).records] == [b"held", b"same"]
    assert a.counters(1) == (4, 4)  # summed over the two connections' counters rows


def test_a_shard_boundary_marker_waits_for_every_shard_of_its_stream(
    nodes: tuple[PostgresStorage, PostgresStorage], admin: Any
) -> None:
    """A marker splits every slot exactly: it takes its stream's order lock exclusively, so it waits for
    A's group on shard 0 although it appends to the control slot; a record of another stream does not."""
    a, b = nodes
    b.write_sync(Put(key(b"warm"), b"b"))
    held = _hold_a_group(a, admin, slot=0)
    elsewhere = b._w().submit_sync(Raw(WriteSet(stream=[_record(b"elsewhere", 0, stream_id=STREAM + 1)])))
    assert elsewhere.result(30) is None
    marker = b._w().submit_sync(Raw(WriteSet(stream=[_record(ROLLOVER, CONTROL_SLOT)])))
    pid = _writer_pid(b)
    _wait_until(lambda: _waits_on(admin, pid) == ("Lock", "advisory"), "the marker to wait for A")
    assert not marker.done()
    admin.execute("SELECT pg_advisory_unlock(%s)", (HOLD_LOCK,))
    assert held.result(30) is None and marker.result(30) is None
    (record,) = a.stream_records(STREAM, 0, 0, None, 10)
    (boundary,) = a.stream_records(STREAM, CONTROL_SLOT, 0, None, 10)
    assert record.seq < boundary.seq
    assert a.shard_ceiling(STREAM, 3) == boundary.seq  # every slot's reader sees the marker


def test_readers_of_every_shard_see_each_record_once_in_order_while_two_nodes_write_and_roll_over(
    nodes: tuple[PostgresStorage, PostgresStorage],
) -> None:
    """Writers on two nodes append to random shards of one stream, some groups a rollover marker; a
    reader follows each slot through its shards with the real page read (shardlog/pages.py), position by
    position, as GetRecords would. Afterwards every record of every slot was seen exactly once, in its
    shard, in number order: none committed below a position a reader had passed."""
    slots = 4
    done = threading.Event()
    errors: list[BaseException] = []

    def write(node: PostgresStorage, writer: int) -> None:
        rng = random.Random(writer)
        try:
            for i in range(40):
                stream = [
                    _record(b"%d:%d:%d" % (writer, i, j), rng.randrange(slots))
                    for j in range(rng.randint(1, 3))
                ]
                if rng.random() < 0.1:
                    stream.append(_record(ROLLOVER, CONTROL_SLOT))
                node.write_sync(Raw(WriteSet(stream=stream)))
        except BaseException as exc:  # the assertion below names it
            errors.append(exc)

    seen: dict[int, list[tuple[int, int, bytes]]] = {slot: [] for slot in range(slots)}  # (lo, seq, payload)
    shards: dict[int, tuple[int, int]] = {slot: (0, 1) for slot in range(slots)}  # slot: (lo, pos)

    def read_all(reader: PostgresStorage) -> bool:
        """One pass over every slot; True when nothing was left to read."""
        idle = True
        for slot in range(slots):
            lo, pos = shards[slot]
            page = pages.read(reader, STREAM, slot, lo, pos, 5)
            seen[slot] += [(lo, r.seq, r.payload) for r in page.records]
            if page.records:
                idle = False
                pos = page.records[-1].seq + 1
            if page.exhausted and len(page.records) < 5:
                assert page.hi is not None
                lo, pos, idle = page.hi, page.hi + 1, False
            shards[slot] = (lo, pos)
        return idle

    a, b = nodes
    threads = [threading.Thread(target=write, args=(node, n)) for n, node in enumerate((a, b) * 3)]
    for t in threads:
        t.start()
    try:
        while not done.is_set():
            read_all(b)
            if not any(t.is_alive() for t in threads):
                done.set()
    finally:
        for t in threads:
            t.join()
    assert not errors, errors
    while not read_all(a):
        pass
    markers = [r.seq for r in a.stream_records(STREAM, CONTROL_SLOT, 0, None, 10_000)]
    bounds = [0, *markers]
    for slot in range(slots):
        stored = [(r.seq, r.payload) for r in a.stream_records(STREAM, slot, 0, None, 10_000)]
        assert [(seq, payload) for _, seq, payload in seen[slot]] == stored  # each once, in order
        for lo, seq, _ in seen[slot]:
            nxt = [m for m in markers if m > lo]
            assert lo in bounds and lo < seq and (not nxt or seq < nxt[0])  # in the shard it belongs to
    assert sum(len(records) for records in seen.values()) > 200
