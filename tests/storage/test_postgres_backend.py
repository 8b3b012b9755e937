"""PostgreSQL-only behaviour: byte order under a linguistic collation, group commit, the careful replay,
commit failure, the writer lock, reconnecting, the schema version, the bounded read pool, memory."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater.errors import InternalServerError
from headwater.storage.base import IndexKey, IndexWrite, ItemKey, ItemWrite, WriteSet
from tests.postgres_server import PostgresServer

from .ops import Increment, Put, Raw, key

psycopg = pytest.importorskip("psycopg")

from headwater.storage.postgres import SCHEMA_VERSION, PostgresStorage  # noqa: E402
from headwater.storage.postgres.writer import Task  # noqa: E402


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.url


@pytest.fixture
def schema(postgres_server: PostgresServer) -> str:
    return postgres_server.new_name("be")


@pytest.fixture
def store(url: str, schema: str) -> Iterator[PostgresStorage]:
    with PostgresStorage(url, schema=schema) as s:
        yield s


def _hold_writer(store: PostgresStorage) -> threading.Event:
    """Park the writer inside a group so that what is submitted next is queued into the next one."""
    release, parked = threading.Event(), threading.Event()

    def park(conn: Any) -> None:
        parked.set()
        release.wait(10)

    store._w().submit_sync(Task(park))
    assert parked.wait(10)
    return release


HIGH_BYTES = [b"", b"\x00", b"\x00\x00", b"\x01", b"A", b"B", b"a", b"a\x00", b"a\xff", b"ab", b"b"]
HIGH_BYTES += [b"\x7f", b"\x80", b"\x80\x00", b"\xc3\xa9", b"\xe2\x82\xac", b"\xfe", b"\xff", b"\xff\xff"]


def test_bytea_sorts_by_memcmp_even_under_a_linguistic_collation(postgres_server: PostgresServer) -> None:
    """bytea has no collation: a database whose text collation is ICU en-US still orders keys bytewise."""
    name = postgres_server.new_name("icu")
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        try:
            conn.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
            )
        except psycopg.Error as exc:
            pytest.skip(f"no ICU collations in this PostgreSQL: {exc}")
    url = postgres_server.url_for(name)
    with psycopg.connect(url) as conn:
        # the collation really is linguistic: as text, 'a' < 'B'; bytewise, 'B' (0x42) < 'a' (0x61)
        assert conn.execute("SELECT 'a'::text < 'B'::text").fetchone() == (True,)
    with PostgresStorage(url) as store:
        store.write_sync(Raw(WriteSet(items=[ItemWrite(ItemKey(1, 0, b"p", sk), sk) for sk in HIGH_BYTES])))
        assert [r.sk for r in store.query(1, 0, 0, b"p")] == sorted(HIGH_BYTES)
        assert [r.sk for r in store.query(1, 0, 0, b"p", forward=False)] == sorted(HIGH_BYTES, reverse=True)
        store.write_sync(Raw(WriteSet(items=[ItemWrite(ItemKey(2, 0, pk, b""), pk) for pk in HIGH_BYTES])))
        assert [r.pk for r in store.scan(2, 0)] == sorted(HIGH_BYTES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.sets(st.binary(min_size=0, max_size=6), min_size=1, max_size=80))
def test_index_order_is_memcmp_for_random_bytes(store: PostgresStorage, data: set[bytes]) -> None:
    pk = os.urandom(8)
    entries = [IndexWrite(IndexKey(1, 3, 0, pk, sk, sk[::-1], b""), sk) for sk in data]
    store.write_sync(Raw(WriteSet(indexes=entries)))
    assert [r.item for r in store.query(1, 3, 0, pk)] == sorted(data)


def test_concurrent_writes_share_commits(store: PostgresStorage) -> None:
    before = store.stats

    async def main() -> None:
        await asyncio.gather(*(store.write(Put(key(b"g%d" % i), b"v")) for i in range(500)))

    asyncio.run(main())
    stats = store.stats
    assert stats.operations - before.operations == 500
    assert stats.commits - before.commits < 100
    assert stats.largest_group > 1
    assert stats.replays == 0


def test_a_bad_write_set_is_singled_out_by_a_careful_replay(store: PostgresStorage) -> None:
    """The fast path sends the whole group at once; a failure makes it run again op by op."""
    bad = WriteSet(items=[ItemWrite(key(b"bad"), object())])  # type: ignore[arg-type]

    async def main() -> list[Any]:
        release = _hold_writer(store)
        ops: list[Any] = [Put(key(b"r%d" % i), b"v") for i in range(20)]
        ops.insert(7, Raw(bad))
        futures = [asyncio.ensure_future(store.write(op)) for op in ops]
        await asyncio.sleep(0)  # every task has queued its write (submitting is its first step)
        release.set()
        return await asyncio.gather(*futures, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert isinstance(outcomes.pop(7), InternalServerError)
    assert outcomes == [None] * 20
    assert store.stats.replays >= 1
    assert store.get_item(key(b"bad")) is None
    assert store.counters(1) == (20, 20)
    assert all(store.get_item(key(b"r%d" % i)) == b"v" for i in range(20))


def test_ops_of_a_group_see_drops_and_rewrites(store: PostgresStorage) -> None:
    """Overlay semantics: a group that writes, drops the table, writes again, reads back in between."""
    store.write_sync(Put(ItemKey(1, 0, b"old", b""), b"stored"))

    async def main() -> list[Any]:
        release = _hold_writer(store)
        ops: list[Any] = [
            Put(ItemKey(1, 0, b"a", b""), b"1"),
            Put(ItemKey(1, 0, b"old", b""), b"2"),
            Raw(WriteSet(drop_tables=[1])),
            Put(ItemKey(1, 0, b"old", b""), b"3"),
            Put(ItemKey(1, 0, b"a", b""), None),
            Put(ItemKey(1, 0, b"b", b""), b"4"),
            Put(ItemKey(1, 0, b"b", b""), b"5"),
        ]
        futures = [asyncio.ensure_future(store.write(op)) for op in ops]
        await asyncio.sleep(0)  # every task has queued its write (submitting is its first step)
        release.set()
        return await asyncio.gather(*futures)

    # results are the old items each op saw
    assert asyncio.run(main()) == [None, b"stored", None, None, None, None, b"4"]
    assert [(r.pk, r.item) for r in store.scan(1, 0)] == [(b"b", b"5"), (b"old", b"3")]
    assert store.counters(1) == (2, 2)
    assert store.stats.replays == 0


def test_commit_failure_fails_the_whole_group(store: PostgresStorage) -> None:
    conn = psycopg.connect(store.url, autocommit=True)
    with conn:
        conn.execute(f"CREATE TABLE {store.schema}.parent (id integer PRIMARY KEY)")
        conn.execute(
            f"CREATE TABLE {store.schema}.child (pid integer REFERENCES {store.schema}.parent (id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )

    def orphan(c: Any) -> None:  # a deferred foreign key violation makes COMMIT itself fail
        c.execute("INSERT INTO child VALUES (42)")

    async def main() -> list[Any]:
        release = _hold_writer(store)
        futures = [asyncio.ensure_future(store.write(Put(key(b"f%d" % i), b"v"))) for i in range(5)]
        await asyncio.sleep(0)
        bad = asyncio.ensure_future(asyncio.wrap_future(store._w().submit_sync(Task(orphan))))
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*futures, bad, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(o, InternalServerError) for o in outcomes)
    assert store.stats.failed_commits == 1
    assert all(store.get_item(key(b"f%d" % i)) is None for i in range(5))
    assert store.write_sync(Put(key(b"after"), b"v")) is None
    assert store.get_item(key(b"after")) == b"v"


def test_several_writers_per_schema(url: str, schema: str, store: PostgresStorage) -> None:
    """Nodes share a schema: each sees the other's writes, and their stream records are numbered by the
    database, never twice. Other schemas stay apart."""
    from .test_contract_writes import record

    with PostgresStorage(url, schema=schema) as second:
        second.write_sync(Raw(WriteSet(items=[ItemWrite(key(b"x"), b"second")], stream=[record(b"a")])))
        store.write_sync(Raw(WriteSet(stream=[record(b"b"), record(b"c")])))
        assert store.get_item(key(b"x")) == b"second"
        assert store.last_sequence() == second.last_sequence() == 3
    with PostgresStorage(url, schema=schema + "_other") as other:
        other.write_sync(Put(key(b"y"), b"elsewhere"))
        assert other.get_item(key(b"x")) is None
    assert store.get_item(key(b"y")) is None


def _writer_sessions_waiting_on_advisory_locks(admin: Any) -> int:
    query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event = 'advisory'"
    row = admin.execute(query, (f"headwater {os.getpid()}",)).fetchone()
    return int(row[0]) if row else 0


def test_the_next_group_reads_while_one_commits_and_sees_what_it_committed(store: PostgresStorage) -> None:
    """Two lanes: while a group's COMMIT is held up (a deferred trigger waits for a lock the test holds),
    the next group has already begun on the other lane; it waits for the first's key lock, reads the
    item as the first committed it, and its stream record is numbered after the first's."""
    lock = 0x4857_0018
    with psycopg.connect(store.url, autocommit=True) as admin:
        admin.execute(
            f"CREATE FUNCTION {store.schema}.hold() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_advisory_xact_lock({lock}); RETURN NULL; END $$"
        )
        admin.execute(
            f"CREATE CONSTRAINT TRIGGER hold AFTER INSERT OR UPDATE ON {store.schema}.items "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {store.schema}.hold()"
        )
        admin.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            first = store._w().submit_sync(Increment(key(b"hot"), stream_id=7))
            _wait_until(lambda: _writer_sessions_waiting_on_advisory_locks(admin) == 1)  # at COMMIT
            second = store._w().submit_sync(Increment(key(b"hot"), stream_id=7))
            # the second group began on the other lane: it waits for the first's key lock
            _wait_until(lambda: _writer_sessions_waiting_on_advisory_locks(admin) == 2)
            assert not first.done() and not second.done()
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", (lock,))
        assert (first.result(30), second.result(30)) == (1, 2)
        admin.execute(f"DROP TRIGGER hold ON {store.schema}.items")
    assert store.get_item(key(b"hot")) == b"2"
    assert [(r.seq, r.payload) for r in store.stream_records(7, 0, 0, None, 10)] == [(1, b"1"), (2, b"2")]
    assert len(store._w().connections()) == 2


def _wait_until(check: Any, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, "gave up waiting"
        time.sleep(0.01)


def test_two_nodes_incrementing_one_item_lose_nothing_and_number_records_in_commit_order(
    url: str, schema: str, store: PostgresStorage
) -> None:
    """Each read-modify-write holds its item's key lock from its read to its COMMIT, whichever node runs
    it; and the stream records the increments write are numbered in the order they committed: record
    number n carries the counter's n-th value."""
    with PostgresStorage(url, schema=schema) as second:

        def work(node: PostgresStorage) -> None:
            for _ in range(60):
                node.write_sync(Increment(key(b"hot"), stream_id=7))

        threads = [threading.Thread(target=work, args=(node,)) for node in (store, second) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert store.get_item(key(b"hot")) == b"480"
    records = store.stream_records(7, 0, 0, None, 1000)
    assert [int(r.payload) for r in records] == list(range(1, 481))
    assert [r.seq for r in records] == list(range(1, 481))


def test_writer_reconnects_after_losing_its_connection(url: str, schema: str) -> None:
    with PostgresStorage(url, schema=schema, lanes=1) as store:  # one lane: one session to kill
        store.write_sync(Put(key(b"before"), b"v"))
        (conn,) = store._w().connections()
        with psycopg.connect(store.url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        outcomes = []
        for i in range(3):  # the first write may fail with the dead connection; later ones reconnect
            try:
                outcomes.append(store.write_sync(Put(key(b"after%d" % i), b"v")))
            except InternalServerError as exc:
                outcomes.append(exc)
        assert outcomes[1:] == [None, None]
        assert store.stats.reconnects == 1
        assert store.get_item(key(b"after2")) == b"v"
        assert store.last_sequence() == 0


def test_sequence_counter_row_and_schema_version(url: str, schema: str) -> None:
    with PostgresStorage(url, schema=schema) as store:
        store.write_sync(Raw(WriteSet(stream=[])))
        from .test_contract_writes import record

        store.write_sync(Raw(WriteSet(stream=[record(b"a"), record(b"b")])))
    with psycopg.connect(url) as conn:
        # numbered per shard: the shard's row holds its last number (no upgrade: the floor is 0)
        assert conn.execute(f"SELECT stream_id, slot, last FROM {schema}.shard_sequence").fetchall() == [
            (1, 0, 2)
        ]
        assert conn.execute(f"SELECT last FROM {schema}.sequence_floor").fetchall() == [(0,)]
        assert conn.execute(f"SELECT version FROM {schema}.schema_version").fetchall() == [(SCHEMA_VERSION,)]
        conn.execute(f"UPDATE {schema}.schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(InternalServerError, match="newer"):
        PostgresStorage(url, schema=schema).open()
    with pytest.raises(ValueError):
        PostgresStorage(url, schema="bad; DROP TABLE items")
    with pytest.raises(ValueError):
        PostgresStorage(url, schema="pg_catalog")


def test_a_version_3_schema_numbers_on_per_shard_after_its_one_counter(url: str, schema: str) -> None:
    """A database of version 3 (one `sequence` row numbering every record, one counters row per table)
    opened by this version: the records it holds stay readable (the old counter is every shard's floor),
    new numbers follow the old ones, and the counters keep their totals."""
    from .test_contract_writes import record

    with PostgresStorage(url, schema=schema):
        pass
    with psycopg.connect(url) as conn:  # back to version 3's shape, holding five records and a count
        conn.execute(f"SET search_path = {schema}")
        conn.execute("DROP TABLE shard_sequence")
        conn.execute("DROP FUNCTION append_records")
        conn.execute("DROP SEQUENCE stream_seq")
        conn.execute("ALTER TABLE sequence_floor RENAME TO sequence")
        conn.execute("ALTER TABLE counters DROP COLUMN slot")
        conn.execute("ALTER TABLE counters ADD PRIMARY KEY (table_id, index_id)")
        conn.execute("INSERT INTO counters VALUES (1, 0, 5, 50)")
        conn.execute(
            "INSERT INTO stream_records "
            "SELECT 1, s % 2, s, 1000.0, s::text::bytea FROM generate_series(1, 5) s"
        )
        conn.execute("UPDATE sequence SET last = 5")
        conn.execute("UPDATE schema_version SET version = 3")
    with PostgresStorage(url, schema=schema) as store:
        assert store.shard_ceiling(1, 0) == store.shard_ceiling(1, 1) == store.last_sequence() == 5
        assert [r.seq for r in store.stream_records(1, 1, 0, 5, 10)] == [1, 3, 5]
        assert store.counters(1) == (5, 50)
        store.write_sync(Raw(WriteSet(stream=[record(b"new", slot=1)], counters={(1, 0): (1, 10)})))
        assert [r.seq for r in store.stream_records(1, 1, 0, None, 10)] == [1, 3, 5, 6]
        assert store.shard_ceiling(1, 1) == 6 and store.shard_ceiling(1, 0) == 5
        assert store.counters(1) == (6, 60)
    with psycopg.connect(url) as conn:
        assert conn.execute(f"SELECT version FROM {schema}.schema_version").fetchall() == [(SCHEMA_VERSION,)]
        # gone, so that a version 3 node still running cannot number records from it
        assert conn.execute("SELECT to_regclass(%s)", (f"{schema}.sequence",)).fetchone() == (None,)


def test_a_version_1_schema_loses_its_created_at_index(url: str, schema: str) -> None:
    """Retention trims each slot from the primary key now (storage/log_trim.py): the index version 1 kept
    on created_at, written by every streamed write, is dropped when the schema is opened."""
    with PostgresStorage(url, schema=schema):
        pass
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE INDEX stream_records_created_at ON {schema}.stream_records (created_at)")
        conn.execute(f"UPDATE {schema}.schema_version SET version = 1")
    with PostgresStorage(url, schema=schema):
        pass
    with psycopg.connect(url) as conn:
        indexes = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)).fetchall()
        assert ("stream_records_created_at",) not in indexes
        assert conn.execute(f"SELECT version FROM {schema}.schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_unreachable_server_is_an_internal_error(tmp_path: Any) -> None:
    with pytest.raises(InternalServerError, match="cannot connect"):
        PostgresStorage(f"postgresql://nobody@/none?host={tmp_path}&connect_timeout=1").open()


def test_synchronous_commit_is_on(store: PostgresStorage) -> None:
    for conn in store._w().connections():
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
        conn.rollback()


def test_read_pool_is_bounded(url: str, schema: str) -> None:
    with PostgresStorage(url, schema=schema, pool_size=3) as store:
        store.write_sync(Put(key(b"k"), b"v"))
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                for _ in range(50):
                    assert store.get_item(key(b"k")) == b"v"
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert store._r().size <= 3


def test_large_partition_streams_with_flat_memory(store: PostgresStorage) -> None:
    n = 20_000
    for start in range(0, n, 5000):
        items = [ItemWrite(ItemKey(1, 0, b"p", b"%08d" % i), b"x" * 100) for i in range(start, start + 5000)]
        store.write_sync(Raw(WriteSet(items=items)))
    tracemalloc.start()
    try:
        count = 0
        for row in store.query(1, 0, 0, b"p"):
            count += len(row.item) // 100
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    # the whole partition would be > 3 MB of Python objects; a chunk is ~ 1024 rows
    assert peak < 1_000_000
