"""One group's pending writes, kept in memory and flushed to PostgreSQL in a few set-based statements.

Round trips, not rows, are what a PostgreSQL write costs. So the writer reads the old items of a whole
group in one SELECT (with BEGIN, its locks and the transaction id, one round trip), lets every operation
see the earlier operations' writes through this overlay (the last write of each key wins; a dropped table
reads as empty), and then writes the final state of each touched row with one statement (an `unnest` CTE
per kind) followed by COMMIT, in a second round trip.

Several nodes may write the same schema (storage/postgres/locks.py): a group's first round trip takes
the catalog lock (shared; exclusive for a group that changes a table definition) and the item key locks
of every key it will read, before reading them, so the old items an operation sees stay as read until
its COMMIT. Stream records are numbered by the database, per shard: the flush appends them through
`append_records` (schema.py), which locks the row of each shard they go to until COMMIT and only then
draws their numbers from one sequence, so within a shard sequence order is commit order whichever node
commits, and groups writing different shards do not wait for each other. Counter deltas go to the rows
of this connection's slot (`claim_counter_slot`), not to one row per table that every writer would take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from headwater.storage.base import TRIM_MARK_KIND, ItemKey, WriteSet, answer
from headwater.storage.postgres import locks
from headwater.storage.postgres.locks import ItemTuple
from headwater.storage.postgres.schema import COUNTER_SLOTS

IndexTuple = tuple[int, int, int, bytes, bytes, bytes, bytes]

# One primary-key lookup per key, whatever the statistics say: as a join, the plan cached for this
# prepared statement while the table was small chose a hash join over a full scan, and each group's read
# grew with the table (1.75 ms a group at 15,000 items). A scalar subquery cannot be turned into one.
_READ_ITEMS = (
    "SELECT k.table_id, k.h, k.pk, k.sk, (SELECT i.item FROM items i WHERE i.table_id = k.table_id "
    "AND i.h = k.h AND i.pk = k.pk AND i.sk = k.sk) "
    "FROM unnest(%s::integer[], %s::bigint[], %b::bytea[], %b::bytea[]) AS k (table_id, h, pk, sk)"
)
_DROP = (
    "DELETE FROM items WHERE table_id = ANY(%s::integer[])",
    "DELETE FROM index_entries WHERE table_id = ANY(%s::integer[])",
    "DELETE FROM counters WHERE table_id = ANY(%s::integer[])",
)
_DROP_STREAMS = (
    "DELETE FROM stream_records WHERE stream_id = ANY(%s::integer[])",
    "DELETE FROM shard_sequence WHERE stream_id = ANY(%s::integer[])",
    # the trim marks of those streams: keys "<stream_id:012d>:<slot>" (meta keys compare bytewise)
    "DELETE FROM meta m USING unnest(%s::text[]) AS s (prefix) "
    "WHERE m.kind = %s AND m.key >= s.prefix || ':' AND m.key < s.prefix || ';'",
)
_PUT_ITEMS = (
    "INSERT INTO items (table_id, h, pk, sk, item) "
    "SELECT * FROM unnest(%s::integer[], %s::bigint[], %b::bytea[], %b::bytea[], %b::bytea[]) "
    "ON CONFLICT (table_id, h, pk, sk) DO UPDATE SET item = excluded.item"
)
_DELETE_ITEMS = (
    "DELETE FROM items i USING unnest(%s::integer[], %s::bigint[], %b::bytea[], %b::bytea[]) "
    "AS k (table_id, h, pk, sk) "
    "WHERE i.table_id = k.table_id AND i.h = k.h AND i.pk = k.pk AND i.sk = k.sk"
)
_PUT_INDEX = (
    "INSERT INTO index_entries (table_id, index_id, h, pk, sk, base_pk, base_sk, item) "
    "SELECT * FROM unnest(%s::integer[], %s::integer[], %s::bigint[], %b::bytea[], %b::bytea[], "
    "%b::bytea[], %b::bytea[], %b::bytea[]) "
    "ON CONFLICT (table_id, index_id, h, pk, sk, base_pk, base_sk) DO UPDATE SET item = excluded.item"
)
_DELETE_INDEX = (
    "DELETE FROM index_entries x USING unnest(%s::integer[], %s::integer[], %s::bigint[], %b::bytea[], "
    "%b::bytea[], %b::bytea[], %b::bytea[]) AS k (table_id, index_id, h, pk, sk, base_pk, base_sk) "
    "WHERE x.table_id = k.table_id AND x.index_id = k.index_id AND x.h = k.h AND x.pk = k.pk "
    "AND x.sk = k.sk AND x.base_pk = k.base_pk AND x.base_sk = k.base_sk"
)
_ADD_COUNTERS = (
    "INSERT INTO counters AS c (table_id, index_id, slot, item_count, size_bytes) "
    "SELECT * FROM unnest(%s::integer[], %s::integer[], %s::integer[], %s::bigint[], %s::bigint[]) "
    "ON CONFLICT (table_id, index_id, slot) DO UPDATE SET item_count = c.item_count + excluded.item_count, "
    "size_bytes = c.size_bytes + excluded.size_bytes"
)
_PUT_META = (
    "INSERT INTO meta (kind, key, value) SELECT * FROM unnest(%s::text[], %s::text[], %b::bytea[]) "
    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value"
)
_DELETE_META = (
    "DELETE FROM meta m USING unnest(%s::text[], %s::text[]) AS k (kind, key) "
    "WHERE m.kind = k.kind AND m.key = k.key"
)
# the shard row locks it takes are held to COMMIT: the next transaction appending to one of those
# shards waits for this one (schema.py says why the numbers then follow commit order per shard)
_APPEND_RECORDS = "SELECT append_records(%s::integer[], %s::integer[], %s::float8[], %b::bytea[])"
_BUMP_CATALOG = "UPDATE catalog_version SET version = version + 1 WHERE id = 0 RETURNING version"
_NOTIFY = "SELECT pg_notify(%s, %s)"
_XACT_ID = "SELECT pg_current_xact_id()::text"
_BEGIN = "BEGIN"  # READ COMMITTED: the key locks make it enough (bench/multinode_isolation.py compares)
_CATALOG_LOCK = f"SELECT pg_advisory_xact_lock_shared(%s, {locks.SCHEMA_KEY})"
_CATALOG_LOCK_EXCLUSIVE = f"SELECT pg_advisory_xact_lock(%s, {locks.SCHEMA_KEY})"
_CATALOG_VERSION = "SELECT version FROM catalog_version WHERE id = 0"
# in the array's order (ascending): see locks.key_lock_ids
_KEY_LOCKS = "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k"


# the lowest slot no other session of the schema holds, held for the session's life (the WHERE is tried
# row by row until LIMIT is met, so at most one is taken)
_CLAIM_COUNTER_SLOT = (
    f"SELECT s FROM generate_series(0, {COUNTER_SLOTS - 1}) AS s "
    f"WHERE pg_try_advisory_lock({locks.COUNTER_SLOT} + s, {locks.SCHEMA_KEY}) LIMIT 1"
)


def claim_counter_slot(conn: psycopg.Connection[Any], schema: str | None) -> int:
    """The counters row slot the groups of this (autocommit) connection add to, one no other writer
    connection of the schema holds while this one lives: writers (lanes, nodes) never take each other's
    counters rows, and one connection's groups, which commit one after another, always take the same
    one. Past COUNTER_SLOTS writers, some share a slot (and then wait for each other's COMMIT)."""
    row = conn.execute(_CLAIM_COUNTER_SLOT, (schema,)).fetchone()
    return int(row[0]) if row is not None else conn.info.backend_pid % COUNTER_SLOTS


def catalog_channel(schema: str | None) -> str:
    """The LISTEN/NOTIFY channel on which a catalog change is announced (one per schema)."""
    return f"headwater_catalog_{schema or 'default'}"


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to per-column lists (the arrays `unnest` takes)."""
    cols: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for col, value in zip(cols, row, strict=True):
            col.append(value)
    return cols


def read_items_statement(keys: Iterable[ItemTuple]) -> tuple[str, list[list[Any]]]:
    """The SELECT of the stored items of `keys` (each key once; rows (table_id, h, pk, sk, item or
    NULL)) and its parameters."""
    return _READ_ITEMS, _columns(dict.fromkeys(keys), 4)


def read_items(conn: psycopg.Connection[Any], keys: Iterable[ItemTuple]) -> dict[ItemTuple, bytes | None]:
    """The stored items of `keys` (None when missing), in one SELECT."""
    wanted = list(dict.fromkeys(keys))
    found: dict[ItemTuple, bytes | None] = dict.fromkeys(wanted)
    if wanted:
        # in a pipeline: the BEGIN psycopg sends first travels with it (one round trip, not two)
        with conn.pipeline():
            cursor = conn.execute(*read_items_statement(wanted), binary=True)
        for t, h, pk, sk, item in cursor:
            if item is not None:
                found[(t, h, pk, sk)] = item
    return found


@dataclass(frozen=True, slots=True)
class Begun:
    """What a group's first round trip learnt: the stored items (None: not read), the transaction id and
    the catalog version, all under the group's locks."""

    items: dict[ItemTuple, bytes | None] | None
    xid: str
    catalog_version: int


def begin_group(
    conn: psycopg.Connection[Any],
    schema: str | None,
    keys: Iterable[ItemTuple],
    *,
    exclusive: bool = False,
    read: bool = True,
) -> Begun:
    """A group's first round trip on the (autocommit) write connection: BEGIN, the catalog lock (shared,
    or `exclusive` for a group that changes a table definition), the catalog version, the item key locks
    of `keys`, then (with `read`) their stored items (None when missing) and the transaction's id (taken
    now, so that it is known before COMMIT is sent with the writes). The locks come first and the reads
    after them, each statement with a snapshot of its own: what they read is what the last holder of
    those locks committed."""
    wanted = list(dict.fromkeys(keys))
    lock_ids = locks.key_lock_ids(schema, wanted)
    with conn.pipeline():
        conn.execute(_BEGIN, prepare=False)
        conn.execute(_CATALOG_LOCK_EXCLUSIVE if exclusive else _CATALOG_LOCK, (locks.CATALOG, schema))
        version = conn.execute(_CATALOG_VERSION)
        if lock_ids:
            conn.execute(_KEY_LOCKS, (lock_ids,))
        items = conn.execute(*read_items_statement(wanted), binary=True) if read and wanted else None
        xid = conn.execute(_XACT_ID)
    found: dict[ItemTuple, bytes | None] | None = None
    if read:
        found = dict.fromkeys(wanted)
        for t, h, pk, sk, item in items or ():
            if item is not None:
                found[(t, h, pk, sk)] = item
    row, version_row = xid.fetchone(), version.fetchone()
    assert row is not None and version_row is not None
    return Begun(found, str(row[0]), int(version_row[0]))


def _trim_mark_prefix(stream_id: int) -> str:
    return f"{stream_id:012d}:"


def item_tuple(key: ItemKey) -> ItemTuple:
    return (key.table_id, key.h, key.pk, key.sk)


class Pending:
    """The writes of a group not yet sent to the database, plus what it knows of the stored items."""

    def __init__(
        self,
        cache: dict[ItemTuple, bytes | None] | None,
        last_seq: int,
        channel: str = "",
        counter_slot: int = 0,
    ) -> None:
        # stored items as of the last flush (None entries: known missing); None: ask the database
        self.cache = cache
        self.drops: list[int] = []
        self.dropped_streams: list[int] = []
        self.items: dict[ItemTuple, bytes | None] = {}
        self.indexes: dict[IndexTuple, bytes | None] = {}
        self.meta: dict[tuple[str, str], bytes | None] = {}
        self.counters: dict[tuple[int, int], tuple[int, int]] = {}
        self.records: list[tuple[int, int, float, bytes]] = []  # (stream_id, slot, created_at, payload)
        self.last_seq = last_seq  # the highest sequence number this transaction knows to be taken
        self.numbered = False  # some flush of this transaction numbered records
        self.xid: str | None = None  # the transaction's id, once it has written something
        self.bump_catalog = False  # the next flush moves the catalog version and announces it
        self.catalog_version: int | None = None  # the version it moved to
        self._channel = channel
        self.counter_slot = counter_slot  # the counters rows this transaction adds to
        # (where its answer goes, the WriteSet, how many records of this flush came before its own):
        # answered once the flush has learnt where its numbers start
        self._unanswered: list[tuple[int, WriteSet, int]] = []
        self.answers: dict[int, Any] = {}

    def read(self, conn: psycopg.Connection[Any], keys: Sequence[ItemKey]) -> list[bytes | None]:
        """Old items as this group has left them so far."""
        wanted = [item_tuple(k) for k in keys]
        missing = [k for k in wanted if k not in self.items and k[0] not in self.drops]
        if self.cache is None:
            stored = read_items(conn, missing)
        else:
            unknown = [k for k in missing if k not in self.cache]
            if unknown:
                self.cache.update(read_items(conn, unknown))
            stored = self.cache
        out: list[bytes | None] = []
        for k in wanted:
            if k in self.items:
                out.append(self.items[k])
            elif k[0] in self.drops:
                out.append(None)
            else:
                out.append(stored[k])
        return out

    def add(self, ws: WriteSet, index: int) -> None:
        """Take in one operation's WriteSet; its answer (`answers[index]`) is made by the next flush, once
        its records are numbered."""
        for table_id in ws.drop_tables:
            if table_id not in self.drops:
                self.drops.append(table_id)
            self.items = {k: v for k, v in self.items.items() if k[0] != table_id}
            self.indexes = {k: v for k, v in self.indexes.items() if k[0] != table_id}
            self.counters = {k: v for k, v in self.counters.items() if k[0] != table_id}
        for stream_id in ws.drop_streams:
            if stream_id not in self.dropped_streams:
                self.dropped_streams.append(stream_id)
            self.records = [r for r in self.records if r[0] != stream_id]
            prefix = _trim_mark_prefix(stream_id)
            self.meta = {
                k: v for k, v in self.meta.items() if not (k[0] == TRIM_MARK_KIND and k[1].startswith(prefix))
            }
        for iw in ws.items:
            self.items[item_tuple(iw.key)] = iw.item
        for xw in ws.indexes:
            x = xw.key
            self.indexes[(x.table_id, x.index_id, x.h, x.pk, x.sk, x.base_pk, x.base_sk)] = xw.item
        for ck, (count, size) in ws.counters.items():
            old_count, old_size = self.counters.get(ck, (0, 0))
            self.counters[ck] = (old_count + count, old_size + size)
        for mw in ws.meta:
            self.meta[(mw.kind, mw.key)] = mw.value
        self._unanswered.append((index, ws, len(self.records)))
        for sw in ws.stream:
            self.records.append((sw.stream_id, sw.slot, sw.created_at, sw.payload))

    def flush(self, conn: psycopg.Connection[Any], *, commit: bool = False) -> None:
        """Send everything pending in one round trip, its records numbered by the database; then start
        empty. With `commit`, COMMIT travels in the same round trip (a failed write skips it).

        Every kind of row goes in one statement (one data-modifying CTE per kind: its keys are distinct,
        so no two touch the same row), which ends by asking for the transaction's id. Dropped tables go
        first, in statements of their own, so a group may drop a table and write a fresh one with the
        same id.
        """
        drops: list[tuple[str, Sequence[Any]]] = []
        if self.drops:
            drops += [(sql, [self.drops]) for sql in _DROP]
        if self.dropped_streams:
            prefixes = [f"{stream_id:012d}" for stream_id in self.dropped_streams]
            drops.append((_DROP_STREAMS[0], [self.dropped_streams]))
            drops.append((_DROP_STREAMS[1], [self.dropped_streams]))
            drops.append((_DROP_STREAMS[2], [prefixes, TRIM_MARK_KIND]))
        writes: list[tuple[str, Sequence[Any]]] = []
        puts = [(*k, v) for k, v in self.items.items() if v is not None]
        deletes = [k for k, v in self.items.items() if v is None]
        if deletes:
            writes.append((_DELETE_ITEMS, _columns(deletes, 4)))
        if puts:
            writes.append((_PUT_ITEMS, _columns(puts, 5)))
        x_puts = [(*k, v) for k, v in self.indexes.items() if v is not None]
        x_deletes = [k for k, v in self.indexes.items() if v is None]
        if x_deletes:
            writes.append((_DELETE_INDEX, _columns(x_deletes, 7)))
        if x_puts:
            writes.append((_PUT_INDEX, _columns(x_puts, 8)))
        # rows several nodes' transactions update: always in the same order, so they cannot deadlock
        counters = sorted((*k, self.counter_slot, *v) for k, v in self.counters.items())
        if counters:
            writes.append((_ADD_COUNTERS, _columns(counters, 5)))
        m_puts = sorted((*k, v) for k, v in self.meta.items() if v is not None)
        m_deletes = sorted(k for k, v in self.meta.items() if v is None)
        if m_deletes:
            writes.append((_DELETE_META, _columns(m_deletes, 2)))
        if m_puts:
            writes.append((_PUT_META, _columns(m_puts, 3)))
        count = len(self.records)
        numbers: list[int] = []
        bump = self.bump_catalog
        if drops or writes or commit or bump:
            # the transaction's id, so that a COMMIT whose answer is lost can be looked up afterwards
            ctes = ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(writes))
            statement = (f"WITH {ctes} " if ctes else "") + _XACT_ID
            params = [param for _, group in writes for param in group]
            taken = version = None
            with conn.pipeline():
                for drop in drops:
                    conn.execute(*drop)
                if count:  # before every other row of the flush: shard rows come first in the lock order
                    taken = conn.execute(_APPEND_RECORDS, _columns(self.records, 4))
                if bump:
                    version = conn.execute(_BUMP_CATALOG)
                    conn.execute(_NOTIFY, (self._channel, ""))
                cursor = conn.execute(statement, params)
                if commit:
                    conn.execute("COMMIT", prepare=False)
            row = cursor.fetchone()
            self.xid = None if row is None else str(row[0])
            if taken is not None:
                taken_row = taken.fetchone()
                assert taken_row is not None
                numbers = taken_row[0]
                self.last_seq = max(self.last_seq, numbers[-1])
                self.numbered = True
            if version is not None:
                version_row = version.fetchone()
                assert version_row is not None
                self.catalog_version = int(version_row[0])
                self.bump_catalog = False
        for index, ws, before in self._unanswered:
            self.answers[index] = answer(ws, numbers[before : before + len(ws.stream)])
        self._unanswered = []
        self._flushed()

    def _flushed(self) -> None:
        if self.cache is not None:
            for k in self.cache:
                if k[0] in self.drops:
                    self.cache[k] = None
            self.cache.update(self.items)
        self.drops, self.dropped_streams = [], []
        self.items, self.indexes, self.meta = {}, {}, {}
        self.counters, self.records = {}, []
