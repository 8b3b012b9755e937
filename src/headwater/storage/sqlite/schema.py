"""The SQLite schema, connection settings and the schema version (for future migrations)."""

from __future__ import annotations

import sqlite3
from typing import Literal

from headwater.errors import InternalServerError

SCHEMA_VERSION = 2  # 2: stream_records keyed by seq (rowid), see _upgrade_stream_records
DB_FILENAME = "headwater.db"

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
SYNCHRONOUS_MODES: tuple[Synchronous, ...] = ("OFF", "NORMAL", "FULL", "EXTRA")

_STREAM_RECORDS = """CREATE TABLE IF NOT EXISTS stream_records (
        seq INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        created_at REAL NOT NULL,
        payload BLOB NOT NULL
    )"""

# Keys are order-preserving byte strings: SQLite compares BLOBs with memcmp, so a range read on the
# primary key returns a partition in sort-key order without sorting anything.
_DDL = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS items (
        table_id INTEGER NOT NULL,
        h INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item BLOB NOT NULL,
        PRIMARY KEY (table_id, h, pk, sk)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS index_entries (
        table_id INTEGER NOT NULL,
        index_id INTEGER NOT NULL,
        h INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        base_pk BLOB NOT NULL,
        base_sk BLOB NOT NULL,
        item BLOB NOT NULL,
        PRIMARY KEY (table_id, index_id, h, pk, sk, base_pk, base_sk)
    ) WITHOUT ROWID""",
    # index_id 0 is the table itself
    """CREATE TABLE IF NOT EXISTS counters (
        table_id INTEGER NOT NULL,
        index_id INTEGER NOT NULL,
        item_count INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL,
        PRIMARY KEY (table_id, index_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS meta (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID""",
    # The log: a rowid table keyed by the (global, growing) sequence number, so every commit appends at
    # its right edge, where SQLite adds a page without rebalancing its neighbours; keyed by (stream,
    # slot, seq) without rowid, each append split and rewrote three or four leaves (5.7 WAL frames a
    # group of 8 puts for one slot, 14.7 for a Kinesis stream's four). One slot read from a sequence
    # number is a range of the index (SQLite keeps the rowid as its last column); retention trims each
    # slot's oldest records from the same index, so no index on created_at is kept up to date.
    _STREAM_RECORDS,
    "CREATE INDEX IF NOT EXISTS stream_records_shard ON stream_records (stream_id, slot)",
    """CREATE TABLE IF NOT EXISTS sequence (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        last INTEGER NOT NULL
    )""",
)


WRITER_CACHE_KIB = 64 * 1024
READER_CACHE_KIB = 16 * 1024
BUSY_TIMEOUT_MS = 10_000
# What the WAL file keeps after a checkpoint has reset it (it would otherwise stay at its largest size).
WAL_SIZE_LIMIT = 4 * 1024 * 1024


def connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode: transactions are begun explicitly by the writer."""
    conn = sqlite3.connect(
        target, uri=uri, isolation_level=None, check_same_thread=False, cached_statements=256
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def configure_writer(conn: sqlite3.Connection, synchronous: Synchronous, *, in_memory: bool) -> None:
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
    if not in_memory:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise InternalServerError(f"SQLite refused WAL mode (got {mode})")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = OFF")
    # the writer reads every old item it replaces: keep the hot part of the B-trees in memory (64 MiB)
    conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")


def configure_reader(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA query_only = 1")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables if missing and check the stored schema version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _upgrade_stream_records(conn)
        for statement in _DDL:
            conn.execute(statement)
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif row[0] > SCHEMA_VERSION:
            raise InternalServerError(
                f"database schema version {row[0]} is newer than this Headwater ({SCHEMA_VERSION})"
            )
        elif row[0] < SCHEMA_VERSION:
            conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        conn.execute("INSERT OR IGNORE INTO sequence (id, last) VALUES (0, 0)")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _upgrade_stream_records(conn: sqlite3.Connection) -> None:
    """Version 1 kept the log WITHOUT ROWID on (stream_id, slot, seq) with an index on created_at: copy
    it into the rowid table (sequence numbers are global, so they are unique) in the schema's transaction."""
    row = conn.execute(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'stream_records'"
    ).fetchone()
    if row is None or "WITHOUT ROWID" not in str(row[0]).upper():
        return
    conn.execute("ALTER TABLE stream_records RENAME TO stream_records_v1")
    conn.execute(_STREAM_RECORDS)
    conn.execute(
        "INSERT INTO stream_records (seq, stream_id, slot, created_at, payload) "
        "SELECT seq, stream_id, slot, created_at, payload FROM stream_records_v1 ORDER BY seq"
    )
    conn.execute("DROP TABLE stream_records_v1")  # and its created_at index
