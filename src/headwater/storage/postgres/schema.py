"""The PostgreSQL schema, connection settings and the schema version. Any number of Headwater nodes may
use one schema at once (storage/postgres/locks.py says how they keep out of each other's way)."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from headwater.errors import InternalServerError
from headwater.storage.base import CATALOG_KIND
from headwater.storage.postgres import locks

log = logging.getLogger(__name__)

# 2: no index on stream_records.created_at; 3: catalog_version (several nodes on one schema); 4: stream
# records numbered per shard (`shard_sequence`, `stream_seq`, `append_records`), counters spread by slot
SCHEMA_VERSION = 4

# How many rows a table's (or index's) counters are spread over: a group adds to the row of its
# connection's slot (group.counter_slot), so two writers of one table rarely take the same row.
COUNTER_SLOTS = 64

# The iterator secret (shardlog/secret.py: meta streams/iterator_secret) is made with the schema, so
# nodes starting together cannot each make one of their own.
_SECRET = ("streams", "iterator_secret")

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

# Keys are order-preserving byte strings: PostgreSQL compares bytea with memcmp (then length), whatever
# the database's collation, so a range read on the primary key returns a partition in sort-key order.
_DDL = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version integer NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS items (
        table_id integer NOT NULL,
        h bigint NOT NULL,
        pk bytea NOT NULL,
        sk bytea NOT NULL,
        item bytea NOT NULL,
        PRIMARY KEY (table_id, h, pk, sk)
    )""",
    """CREATE TABLE IF NOT EXISTS index_entries (
        table_id integer NOT NULL,
        index_id integer NOT NULL,
        h bigint NOT NULL,
        pk bytea NOT NULL,
        sk bytea NOT NULL,
        base_pk bytea NOT NULL,
        base_sk bytea NOT NULL,
        item bytea NOT NULL,
        PRIMARY KEY (table_id, index_id, h, pk, sk, base_pk, base_sk)
    )""",
    # index_id 0 is the table itself; a table's totals are the sums over its slots (deltas added by
    # writers on different connections to different rows: version 3 had one row, every writer's)
    """CREATE TABLE IF NOT EXISTS counters (
        table_id integer NOT NULL,
        index_id integer NOT NULL,
        slot integer NOT NULL DEFAULT 0,
        item_count bigint NOT NULL,
        size_bytes bigint NOT NULL,
        PRIMARY KEY (table_id, index_id, slot)
    )""",
    """CREATE TABLE IF NOT EXISTS meta (
        kind text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (kind, key)
    )""",
    # One slot read from a sequence number is a range on the primary key; so is retention's trim
    # (storage/log_trim.py), so no index on created_at is kept up to date (version 1 had one).
    """CREATE TABLE IF NOT EXISTS stream_records (
        stream_id integer NOT NULL,
        slot integer NOT NULL,
        seq bigint NOT NULL,
        created_at double precision NOT NULL,
        payload bytea NOT NULL,
        PRIMARY KEY (stream_id, slot, seq)
    )""",
    "DROP INDEX IF EXISTS stream_records_created_at",
    # Every record numbered at or below it committed before the upgrade from version 3 (whose one
    # counter of every stream record, `sequence`, it took over; 0 in a database made by version 4): the
    # floor of every shard's ceiling
    """CREATE TABLE IF NOT EXISTS sequence_floor (
        id integer PRIMARY KEY CHECK (id = 0),
        last bigint NOT NULL
    )""",
    # Stream record numbers (unique: one sequence; in commit order per shard: append_records below).
    # CACHE 1 (the default): a number drawn after another, by any session, is greater.
    "CREATE SEQUENCE IF NOT EXISTS stream_seq AS bigint",
    # One row per stream shard (stream_id, slot; the control slot's too): the highest number committed
    # in it. A transaction appending to a shard locks its row before drawing numbers and keeps it until
    # COMMIT, so the shard's numbers grow in commit order and its committed row is its ceiling.
    """CREATE TABLE IF NOT EXISTS shard_sequence (
        stream_id integer NOT NULL,
        slot integer NOT NULL,
        last bigint NOT NULL,
        PRIMARY KEY (stream_id, slot)
    )""",
    # Append a group's stream records (in array order) and return their numbers. Each statement of a
    # function runs after the one before, so the numbers are drawn only once every lock is held:
    # 1. each stream's order lock, ascending: shared when only its data slots are written, exclusive
    #    when a record goes to a control slot (a shard boundary marker), so a marker is numbered after
    #    every record of the stream committed before it and before every record committed after it;
    # 2. each shard's row, locked in (stream_id, slot) order, created first if missing (no deadlock
    #    between groups: every group takes its locks in the one order);
    # 3. the numbers (nextval, in array order), the records, and each shard row moved to its last number.
    # One primary-key lookup per shard, not a join with the arrays: the planner's join over a small,
    # often updated table cost the writer's backend ~40% more CPU a group (bench/shard_overlap.py).
    f"""CREATE OR REPLACE FUNCTION append_records(
        p_stream integer[], p_slot integer[], p_created double precision[], p_payload bytea[]
    ) RETURNS bigint[] LANGUAGE plpgsql AS $$
    DECLARE
        v_stream integer;
        v_slot integer;
        v_last bigint;
        v_marker boolean;
        numbers bigint[];
    BEGIN
        FOR v_stream, v_marker IN
            SELECT r.s, bool_or(r.slot < 0) FROM unnest(p_stream, p_slot) AS r (s, slot)
            GROUP BY r.s ORDER BY r.s
        LOOP
            IF v_marker THEN
                PERFORM pg_advisory_xact_lock({locks.STREAM_ORDER_KEY}, v_stream);
            ELSE
                PERFORM pg_advisory_xact_lock_shared({locks.STREAM_ORDER_KEY}, v_stream);
            END IF;
        END LOOP;
        FOR v_stream, v_slot IN
            SELECT DISTINCT r.s, r.slot FROM unnest(p_stream, p_slot) AS r (s, slot) ORDER BY 1, 2
        LOOP
            PERFORM FROM shard_sequence WHERE stream_id = v_stream AND slot = v_slot FOR UPDATE;
            IF NOT FOUND THEN  -- (a concurrent insert of the row makes this wait for its transaction)
                INSERT INTO shard_sequence (stream_id, slot, last) VALUES (v_stream, v_slot, 0)
                    ON CONFLICT (stream_id, slot) DO NOTHING;
                PERFORM FROM shard_sequence WHERE stream_id = v_stream AND slot = v_slot FOR UPDATE;
            END IF;
        END LOOP;
        numbers := ARRAY(SELECT nextval('stream_seq') FROM generate_series(1, cardinality(p_stream)));
        INSERT INTO stream_records (stream_id, slot, seq, created_at, payload)
            SELECT * FROM unnest(p_stream, p_slot, numbers, p_created, p_payload);
        FOR v_stream, v_slot, v_last IN
            SELECT r.s, r.slot, max(r.n) FROM unnest(p_stream, p_slot, numbers) AS r (s, slot, n)
            GROUP BY r.s, r.slot
        LOOP
            UPDATE shard_sequence SET last = v_last WHERE stream_id = v_stream AND slot = v_slot;
        END LOOP;
        RETURN numbers;
    END $$""",
    # moved by every commit that changes a table definition: a node whose copy of the catalog is of
    # another version reads it again (a missed notification cannot leave a node stale)
    """CREATE TABLE IF NOT EXISTS catalog_version (
        id integer PRIMARY KEY CHECK (id = 0),
        version bigint NOT NULL
    )""",
    # uses of a stream shard its per-shard limits count, by every node (shard_uses.py); unlogged: they
    # last seconds, and losing them in a crash only forgets some counting
    """CREATE UNLOGGED TABLE IF NOT EXISTS shard_use (
        shard text COLLATE "C" NOT NULL,
        ticket bigint NOT NULL,
        until double precision NOT NULL,
        records integer NOT NULL,
        size bigint NOT NULL,
        PRIMARY KEY (shard, ticket)
    )""",
    # a GetRecords call's use, taken in one statement (each statement of the function has a snapshot of
    # its own: the count after the lock sees every use committed before it was granted)
    f"""CREATE OR REPLACE FUNCTION shard_take(
        p_shard text, p_ticket bigint, p_now double precision, p_until double precision, p_at_most integer
    ) RETURNS bigint LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({locks.SHARD_USE}, hashtext(p_shard));
        DELETE FROM shard_use WHERE shard = p_shard AND until <= p_now;
        IF (SELECT count(*) FROM shard_use WHERE shard = p_shard) >= p_at_most THEN
            RETURN NULL;
        END IF;
        INSERT INTO shard_use (shard, ticket, until, records, size) VALUES (p_shard, p_ticket, p_until, 0, 0);
        RETURN p_ticket;
    END $$""",
)


def check_schema_name(schema: str | None) -> None:
    if schema is not None and (not _SCHEMA_NAME.match(schema) or schema.lower().startswith("pg_")):
        raise ValueError(f"not a plain PostgreSQL schema name: {schema!r}")


def connect(url: str, schema: str | None, *, autocommit: bool, **settings: str) -> psycopg.Connection[Any]:
    """A connection whose search_path is `schema` (when given) plus the given session settings.

    `url` may list several hosts (libpq's syntax: `postgresql://h1:5432,h2:5433/db`, or `host=/a,/b` for
    Unix sockets); they are tried in order. Headwater needs the primary (it writes, and a standby's reads
    may lag behind an acknowledged write), so such a URL gets `target_session_attrs=read-write` unless it
    says otherwise: after a failover, every new connection finds the promoted standby."""
    options = dict(settings)
    if schema is not None:
        options["search_path"] = schema
    # which node a session belongs to shows in pg_stat_activity (unless the URL names the application)
    node = f"headwater {os.getpid()}"
    conn: psycopg.Connection[Any] = psycopg.connect(
        connection_target(url), autocommit=autocommit, fallback_application_name=node
    )
    try:
        for name, value in options.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        if not autocommit:
            conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


def connection_target(url: str) -> str:
    """The URL, with `target_session_attrs=read-write` when it lists several hosts and says nothing."""
    params = conninfo_to_dict(url)
    hosts = max(len(str(params.get(name) or "").split(",")) for name in ("host", "hostaddr"))
    if hosts > 1 and "target_session_attrs" not in params:
        return make_conninfo(url, target_session_attrs="read-write")
    return url


def server_timeline(conn: psycopg.Connection[Any]) -> int:
    """The timeline the (primary) server writes WAL on: a promoted standby starts a new one, so a change
    says a failover happened (transaction ids given out after it may repeat ones of the old primary)."""
    row = conn.execute("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)").fetchone()
    if not conn.autocommit:
        conn.commit()
    assert row is not None
    return int(row[0], 16)


def create_schema(conn: psycopg.Connection[Any], schema: str | None) -> None:
    """Create the schema and tables if missing and check the stored schema version (one transaction, one
    node at a time: concurrent CREATE TABLE IF NOT EXISTS can collide)."""
    try:
        conn.execute(f"SELECT pg_advisory_xact_lock(%s, {locks.SCHEMA_KEY})", (locks.SCHEMA_SETUP, schema))
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for statement in _DDL:
            conn.execute(statement)
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
        elif row[0] > SCHEMA_VERSION:
            raise InternalServerError(
                f"database schema version {row[0]} is newer than this Headwater ({SCHEMA_VERSION})"
            )
        elif row[0] < SCHEMA_VERSION:
            if row[0] < 4:
                _numbered_per_shard(conn)
            conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))
        conn.execute("INSERT INTO sequence_floor (id, last) VALUES (0, 0) ON CONFLICT (id) DO NOTHING")
        conn.execute("INSERT INTO catalog_version (id, version) VALUES (0, 0) ON CONFLICT (id) DO NOTHING")
        conn.execute(
            "INSERT INTO meta (kind, key, value) VALUES (%s, %s, %s) ON CONFLICT (kind, key) DO NOTHING",
            (*_SECRET, os.urandom(32)),
        )
        conn.commit()
    except BaseException:
        if not conn.broken:
            conn.rollback()
        raise


def _numbered_per_shard(conn: psycopg.Connection[Any]) -> None:
    """From version 3: numbers continue after the one `sequence` row's, which becomes every shard's
    floor, and the counters table gets its slot column. The old table goes, so that a version 3 node
    still running fails its writes (and a version 3 node starts no more: the version is newer) instead
    of numbering records from the old row."""
    found = conn.execute("SELECT to_regclass('sequence') IS NOT NULL").fetchone()
    if found is not None and found[0]:
        conn.execute(
            "INSERT INTO sequence_floor (id, last) SELECT 0, last FROM sequence WHERE id = 0 "
            "ON CONFLICT (id) DO UPDATE SET last = excluded.last"
        )
        conn.execute(
            "SELECT setval('stream_seq', last, true) FROM sequence_floor WHERE id = 0 "
            "AND last > (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM stream_seq)"
        )
        conn.execute("DROP TABLE sequence")
    conn.execute("ALTER TABLE counters ADD COLUMN IF NOT EXISTS slot integer NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE counters DROP CONSTRAINT IF EXISTS counters_pkey")
    conn.execute("ALTER TABLE counters ADD PRIMARY KEY (table_id, index_id, slot)")


# The highest stream record number drawn so far (committed or not): every number drawn later is greater.
LAST_DRAWN = "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM stream_seq"


def load_sequence(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(LAST_DRAWN).fetchone()
    conn.commit()
    return 0 if row is None else int(row[0])


def load_catalog(conn: psycopg.Connection[Any]) -> tuple[dict[str, bytes], int]:
    """The committed catalog and its version, as of one snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        catalog = read_catalog(conn)
        version = read_catalog_version(conn)
    return catalog, version


def read_catalog(conn: psycopg.Connection[Any]) -> dict[str, bytes]:
    """The catalog, read in the connection's transaction."""
    query = "SELECT key, value FROM meta WHERE kind = %s"
    rows = conn.execute(query, (CATALOG_KIND,), binary=True).fetchall()
    return {key: bytes(value) for key, value in rows}


def read_catalog_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT version FROM catalog_version WHERE id = 0").fetchone()
    return 0 if row is None else int(row[0])


def transaction_status(conn: psycopg.Connection[Any], xid: str) -> str | None:
    """'committed', 'aborted' or 'in progress' for a transaction id of pg_current_xact_id(); None when
    PostgreSQL no longer knows it."""
    row = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()
    conn.commit()
    return None if row is None else row[0]
