"""SQLite-only behaviour: grouping of commits, commit failure, schema, durability under SIGKILL, memory."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from headwater.errors import ConditionalCheckFailedException, InternalServerError
from headwater.storage.base import ItemKey, ItemWrite, StreamWrite, WriteSet
from headwater.storage.sqlite import DB_FILENAME, SCHEMA_VERSION, SqliteStorage
from headwater.storage.sqlite.writer import Task

from .ops import Crash, Put, Raw, key

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(params=["file", "memory"])
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    store = SqliteStorage(tmp_path / "h.db" if request.param == "file" else None)
    store.open()
    yield store
    store.close()


def _hold_writer(store: SqliteStorage) -> threading.Event:
    """Park the writer inside a group so that what is submitted next is queued into the next one."""
    release, parked = threading.Event(), threading.Event()

    def park(conn: sqlite3.Connection) -> None:
        parked.set()
        release.wait(10)

    store._w().submit_sync(Task(park))
    assert parked.wait(10)
    return release


def test_concurrent_writes_share_commits(sqlite_store: SqliteStorage) -> None:
    before = sqlite_store.stats

    async def main() -> None:
        await asyncio.gather(*(sqlite_store.write(Put(key(b"g%d" % i), b"v")) for i in range(500)))

    asyncio.run(main())
    stats = sqlite_store.stats
    assert stats.operations - before.operations == 500
    assert stats.commits - before.commits < 100
    assert stats.largest_group > 1


def test_one_group_with_failures_commits_once(sqlite_store: SqliteStorage) -> None:
    async def main() -> list[Any]:
        release = _hold_writer(sqlite_store)
        commits = sqlite_store.stats.commits
        unstorable = Raw(WriteSet(items=[ItemWrite(key(b"bad"), b"1"), ItemWrite(key(b"bad2"), object())]))  # type: ignore[arg-type]
        ops: list[Any] = [Put(key(b"ok1"), b"1"), Crash(key(b"c")), Put(key(b"ok1"), b"x", check=True)]
        ops += [unstorable, Put(key(b"ok2"), b"2", stream=(StreamWrite(1, 0, 1.0, b"r"),))]
        futures = [asyncio.ensure_future(sqlite_store.write(op)) for op in ops]
        await asyncio.sleep(0)
        release.set()
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert sqlite_store.stats.commits == commits + 2  # the parked group, then all five together
        assert sqlite_store.stats.replays == 1  # the group ran again without the unstorable op
        return outcomes

    ok1, crash, cond, bad, ok2 = asyncio.run(main())
    assert ok1 is None and ok2 is None
    assert isinstance(crash, InternalServerError)
    assert isinstance(cond, ConditionalCheckFailedException)
    assert isinstance(bad, InternalServerError)
    assert sqlite_store.get_item(key(b"ok1")) == b"1"
    assert sqlite_store.get_item(key(b"ok2")) == b"2"
    assert sqlite_store.get_item(key(b"bad")) is None
    assert [r.seq for r in sqlite_store.stream_records(1, 0, 0, None, 10)] == [1]


def test_group_cap(tmp_path: Path) -> None:
    with SqliteStorage(tmp_path / "h.db", group_cap=8) as store:

        async def main() -> None:
            await asyncio.gather(*(store.write(Put(key(b"c%d" % i), b"v")) for i in range(200)))

        asyncio.run(main())
        assert store.stats.largest_group <= 8
        assert store.stats.commits >= 25


def test_failed_commit_fails_every_op_of_the_group(tmp_path: Path) -> None:
    with SqliteStorage(tmp_path / "h.db") as store:
        conn = store._write_conn
        assert conn is not None
        # a deferred foreign key violation makes COMMIT itself fail
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")

        def orphan(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO child VALUES (42)")

        async def main() -> list[Any]:
            release = _hold_writer(store)
            futures = [asyncio.ensure_future(store.write(Put(key(b"f%d" % i), b"v"))) for i in range(5)]
            await asyncio.sleep(0)
            bad = asyncio.ensure_future(asyncio.wrap_future(store._w().submit_sync(Task(orphan))))
            release.set()
            return await asyncio.gather(*futures, bad, return_exceptions=True)

        outcomes = asyncio.run(main())
        assert all(isinstance(o, InternalServerError) for o in outcomes)
        assert store.stats.failed_commits == 1
        assert all(store.get_item(key(b"f%d" % i)) is None for i in range(5))
        assert store.last_sequence() == 0
        # the writer recovers
        assert store.write_sync(Put(key(b"after"), b"v")) is None


def test_schema_version_and_pragmas(tmp_path: Path) -> None:
    store = SqliteStorage.in_data_dir(tmp_path / "data", synchronous="NORMAL")
    assert store.path == str(tmp_path / "data" / DB_FILENAME)
    with store:
        conn = sqlite3.connect(store.path)
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
        conn.commit()
        conn.close()
    with pytest.raises(InternalServerError, match="newer"):
        SqliteStorage(store.path).open()
    with pytest.raises(ValueError):
        SqliteStorage(tmp_path / "x.db", synchronous="SOMETIMES").open()  # type: ignore[arg-type]


_V1_LOG = (
    "CREATE TABLE stream_records (stream_id INTEGER NOT NULL, slot INTEGER NOT NULL, seq INTEGER NOT NULL, "
    "created_at REAL NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (stream_id, slot, seq)) WITHOUT ROWID",
    "CREATE INDEX stream_records_created_at ON stream_records (created_at)",
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version VALUES (1)",
    "INSERT INTO stream_records VALUES (1, 0, 1, 1.0, x'61'), (1, -1, 2, 1.0, x'6d'), (2, 0, 3, 2.0, x'62')",
)


def test_a_version_1_log_is_upgraded_in_place(tmp_path: Path) -> None:
    """Version 1 kept the log WITHOUT ROWID with an index on created_at; opening it copies the records
    into the rowid table keyed by sequence number, and reads and trims go on as before."""
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    for statement in _V1_LOG:
        conn.execute(statement)
    conn.commit()
    conn.close()
    with SqliteStorage(path) as store:
        assert [r.payload for r in store.stream_records(1, 0, 0, None, 10)] == [b"a"]
        assert [r.payload for r in store.stream_records(1, -1, 0, None, 10)] == [b"m"]
        assert [(r.seq, r.payload) for r in store.stream_records(2, 0, 0, None, 10)] == [(3, b"b")]
        assert store.trim_stream_records(1, 5.0) == 1
    conn = sqlite3.connect(path)
    ((sql,),) = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'stream_records'").fetchall()
    assert "WITHOUT ROWID" not in sql.upper()
    names = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
    assert "stream_records_created_at" not in names
    assert "stream_records_shard" in names
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    conn.close()


def test_memory_mode_names() -> None:
    assert SqliteStorage(None).in_memory and SqliteStorage(":memory:").in_memory
    a, b = SqliteStorage(None), SqliteStorage(None)
    with a, b:
        a.write_sync(Put(key(b"only-in-a"), b"v"))
        assert b.get_item(key(b"only-in-a")) is None  # two in-memory stores are independent


def test_large_partition_streams_with_flat_memory(tmp_path: Path) -> None:
    n = 30_000
    with SqliteStorage(tmp_path / "h.db", synchronous="OFF") as store:
        for start in range(0, n, 5000):
            items = [
                ItemWrite(ItemKey(1, 0, b"p", b"%08d" % i), b"x" * 100) for i in range(start, start + 5000)
            ]
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
        # a whole partition would be > 5 MB of Python objects; a chunk is ~ 1024 rows
        assert peak < 1_000_000


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_acknowledged_writes_survive_sigkill(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "h.db"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("durability_child.py")), str(path), synchronous],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    acked: list[str] = []
    try:
        assert child.stdout.readline() == b"ready\n"
        while len(acked) < 1500:
            line = child.stdout.readline()
            assert line, "child died early"
            acked.append(line.decode().split()[1])
        child.send_signal(signal.SIGKILL)
        acked += [line.split()[1] for line in child.stdout.read().decode().splitlines()]
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with SqliteStorage(path) as store:
        missing = [name for name in acked if store.get_item(key(name.encode())) != name.encode()]
        assert missing == []
        records = [r for slot in range(4) for r in store.stream_records(1, slot, 0, None, 100_000)]
        payloads = {r.payload.decode() for r in records}
        assert set(acked) <= payloads
        assert store.last_sequence() == max(r.seq for r in records) == len(records)
        assert store.counters(1)[0] == len(records)


def test_the_wal_is_truncated_once_writes_pause(tmp_path: Path) -> None:
    """A checkpoint runs when the writer has had nothing to do for a moment; with no reader in the way
    it leaves an empty WAL file (and the data in the database)."""
    store = SqliteStorage(tmp_path / "h.db")
    store.open()
    try:
        wal = tmp_path / "h.db-wal"
        for i in range(50):
            store.write_sync(Put(key(b"k%d" % i), b"v" * 10_000))
        assert wal.stat().st_size > 0
        deadline = time.monotonic() + 30
        while wal.stat().st_size > 0:
            assert time.monotonic() < deadline, "the WAL was never truncated"
            time.sleep(0.05)
        assert store.get_item(key(b"k49")) == b"v" * 10_000
        store.write_sync(Put(key(b"after"), b"v"))  # writing goes on after the truncation
        assert store.get_item(key(b"after")) == b"v"
    finally:
        store.close()


def test_the_wal_is_capped_after_a_checkpoint(tmp_path: Path) -> None:
    """Under steady load (no pause) SQLite's own checkpoints reset the WAL; the file is then cut back."""
    store = SqliteStorage(tmp_path / "h.db")
    store.open()
    try:
        task = Task(lambda c: c.execute("PRAGMA journal_size_limit").fetchone()[0])
        assert store._w().submit_sync(task).result() == 4 * 1024 * 1024
    finally:
        store.close()
