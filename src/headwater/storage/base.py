"""The storage interface: what every backend (SQLite, PostgreSQL) provides.

One write path: a `WriteOperation` names the item keys it touches; the backend's single writer reads
their current values, calls the operation's pure `apply(old_items)`, and commits the resulting
`WriteSet` (items, index entries, stream records, counters, metadata) in one transaction, sharing the
commit with other concurrent operations (group commit). Readers use their own connections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from headwater.storage.shard_uses import ShardUses


@dataclass(frozen=True, slots=True)
class ItemKey:
    """Where an item lives: table, partition hash, encoded partition and sort key (b"" if none)."""

    table_id: int
    h: int
    pk: bytes
    sk: bytes = b""


@dataclass(frozen=True, slots=True)
class IndexKey:
    """An index entry: the index's own key, then the base item's key (index keys are not unique)."""

    table_id: int
    index_id: int
    h: int
    pk: bytes
    sk: bytes
    base_pk: bytes
    base_sk: bytes


@dataclass(frozen=True, slots=True)
class ItemWrite:
    key: ItemKey
    item: bytes | None  # the orjson-encoded wire-form item; None deletes it


@dataclass(frozen=True, slots=True)
class IndexWrite:
    key: IndexKey
    item: bytes | None  # the projected item; None deletes the entry


# Records in negative ("control") slots are never trimmed: the log layer keeps shard boundary markers
# there (headwater.shardlog.markers).
CONTROL_SLOT = -1
# `trim_stream_records` leaves, per (stream, slot) it trimmed, the highest trimmed sequence number as
# meta (TRIM_MARK_KIND, trim_mark_key(stream_id, slot)) = b"<seq>", in the same transaction.
TRIM_MARK_KIND = "stream_trim"


def trim_mark_key(stream_id: int, slot: int) -> str:
    return f"{stream_id:012d}:{slot:05d}"


# The writer holds the committed metadata of this kind (the table catalog: one document per table, keyed
# `<account>/<region>/<name>` by core/catalog.py; storage treats the keys as opaque)
# in memory, updated in the same step that commits a change to it, and operations resolve the table
# definitions they depend on against it at apply time (`WriteOperation.resolve`). Writer tasks never
# write this kind.
CATALOG_KIND = "table"


class CatalogView(Protocol):
    """The catalog as an operation being applied sees it: every earlier commit and every earlier
    operation of its own group (catalog key -> the catalog document)."""

    def get(self, name: str, /) -> bytes | None: ...


class StreamWrite(NamedTuple):
    """A stream record to append; the writer assigns its sequence number at commit (the next one after
    every record of earlier commits and earlier records of the same WriteSet, so a record in a control
    slot marks an exact boundary in every slot). A named tuple: made once per streamed write, it costs
    half a frozen dataclass."""

    stream_id: int
    slot: int  # which of the stream's shard slots (from the partition hash)
    created_at: float  # epoch seconds
    payload: bytes  # the record without its sequence number (streams.records decides the shape)


@dataclass(frozen=True, slots=True)
class MetaWrite:
    """Catalog-like state (tables, streams, shards, mappings): a small document per (kind, key)."""

    kind: str
    key: str
    value: bytes | None  # None deletes


@dataclass(slots=True)
class WriteSet:
    """Everything one operation changes. Committed all together or not at all."""

    items: list[ItemWrite] = field(default_factory=list)
    indexes: list[IndexWrite] = field(default_factory=list)
    stream: list[StreamWrite] = field(default_factory=list)
    meta: list[MetaWrite] = field(default_factory=list)
    # (table_id, index_id) -> (item count delta, size bytes delta); index_id 0 is the table itself
    counters: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    # tables whose items, index entries and counters are dropped (DeleteTable)
    drop_tables: list[int] = field(default_factory=list)
    # streams whose records (control slots included) and trim marks are dropped (end of retention)
    drop_streams: list[int] = field(default_factory=list)
    # what the caller of `write` receives once committed
    result: Any = None

    def count(self, table_id: int, items: int, size: int, index_id: int = 0) -> None:
        old_items, old_size = self.counters.get((table_id, index_id), (0, 0))
        self.counters[(table_id, index_id)] = (old_items + items, old_size + size)


@dataclass(frozen=True, slots=True)
class Numbered:
    """A WriteSet result that wants to know the sequence numbers its stream records got: the writer
    answers `(value, numbers)`, a tuple of the records' numbers in WriteSet order (increasing; on SQLite
    consecutive, on PostgreSQL maybe not: groups writing other shards draw numbers at the same time)."""

    value: Any


def answer(ws: WriteSet, numbers: Sequence[int]) -> Any:
    """What the caller of `write` receives for `ws`, whose stream records were given `numbers`."""
    result = ws.result
    return (result.value, tuple(numbers)) if type(result) is Numbered else result


class WriteOperation(Protocol):
    """A read-modify-write unit. `apply` is pure: same old items in, same WriteSet out.

    It may raise a DynamoDBError (e.g. a failed condition); then nothing it describes is written and
    the error reaches the caller. It must not do I/O.

    An operation is built when the request arrives, but applied later: `resolve` gives the operation to
    apply, re-reading every table definition it depends on from `catalog` (a table deleted, or deleted
    and created again, in between: a DynamoDBError). The writer calls it right before `apply`; an
    operation that depends on no table returns itself. Its `keys` must not change.
    """

    @property
    def keys(self) -> Sequence[ItemKey]: ...

    def resolve(self, catalog: CatalogView) -> WriteOperation: ...

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet: ...


@dataclass(frozen=True, slots=True)
class Row:
    """One item (or index entry) read back: its keys and its encoded body."""

    h: int
    pk: bytes
    sk: bytes
    item: bytes
    base_pk: bytes = b""  # index rows only
    base_sk: bytes = b""


@dataclass(frozen=True, slots=True)
class PairedRow:
    """One key of `Storage.scan_paired`: its row in each of the two tables (None where it has none)."""

    h: int
    pk: bytes
    sk: bytes
    item: bytes | None
    other: bytes | None


@dataclass(frozen=True, slots=True)
class SortBound:
    value: bytes
    inclusive: bool


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    created_at: float
    payload: bytes


@dataclass(frozen=True, slots=True)
class TableSnapshot:
    """One table's items as committed at one instant, read while writes go on (backups, point-in-time
    recovery): `seq` is the commit ceiling at that instant of the shard the snapshot was asked about
    (`Storage.snapshot`'s `log`), so that shard's records numbered after it are exactly those whose
    changes the rows do not show; without one, the highest number committed by then."""

    seq: int
    rows: Iterator[Row]  # the table's items in (h, pk, sk) order, read lazily in chunks


class Lease(Protocol):
    """The right to run the background work (TTL, retention, rollover, triggers, sinks, replication),
    held by at most one of the nodes sharing a database. Both calls block for a round trip."""

    def take(self) -> bool:
        """Try to hold it without waiting; True when this node holds it now (also: still holds it)."""
        ...

    def release(self) -> None: ...


class Storage(Protocol):
    """A backend. Reads are synchronous and cheap; writes go through the single writer (one per node:
    PostgreSQL lets several nodes share a database, SQLite does not)."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    async def write(self, op: WriteOperation) -> Any:
        """Commit `op` (group commit); return its WriteSet's result or raise its error."""
        ...

    def write_sync(self, op: WriteOperation) -> Any:
        """The same from a thread that is not running an event loop."""
        ...

    def catalog(self) -> Mapping[str, bytes]:
        """The committed catalog (metadata of CATALOG_KIND by key), as the writer holds it: the state
        operations are resolved against. A snapshot: the writer replaces it, never changes it."""
        ...

    def on_commit(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call `listener(last sequence number)` after every commit that assigned sequence numbers. It
        runs on the writer's thread: it must be quick and thread-safe (e.g. `call_soon_threadsafe`).
        Returns what unsubscribes it."""
        ...

    def on_catalog_change(self, listener: Callable[[], object]) -> None:
        """Call `listener()` after every commit that changed the catalog, before that commit's callers
        are woken (how front processes learn of a new table definition before the client does)."""
        ...

    def refresh_catalog(self) -> bool:
        """Another node may have changed the catalog: read it again if it did (True then). For a lookup
        that found nothing; blocks for a round trip or two."""
        ...

    async def hold_catalog(self) -> bool:
        """Wait until no other node is changing the catalog and hold that right (`release_catalog`);
        the catalog is then as the last node to change it left it. True when other nodes share the
        database (counters kept beside the catalog, such as the table id's, must be read again); one
        node: nothing to wait for, False."""
        ...

    def release_catalog(self) -> None: ...

    def started_alone(self) -> bool:
        """Called once at start: True when no other node uses the database (so work cut short by the
        last stop may be cleaned up)."""
        ...

    def background_lease(self) -> Lease | None:
        """The background work's lease; None when this node is always the only one."""
        ...

    def shard_uses(self) -> ShardUses:
        """Where stream shards' per-shard limits count their uses: this process, or the database when
        several nodes share it."""
        ...

    def get_item(self, key: ItemKey) -> bytes | None: ...

    async def read_item(self, key: ItemKey) -> bytes | None:
        """GetItem's read, awaited on the event loop: a backend whose reads are round trips (PostgreSQL)
        gathers those of one pass of the loop; others answer at once."""
        ...

    def query(
        self,
        table_id: int,
        index_id: int,
        h: int,
        pk: bytes,
        *,
        lower: SortBound | None = None,
        upper: SortBound | None = None,
        forward: bool = True,
        start_after: tuple[bytes, bytes, bytes] | None = None,
        expected: int | None = None,
    ) -> Iterator[Row]:
        """Rows of one partition in sort-key order (index 0 is the table itself).

        `start_after` is (sk, base_pk, base_sk) of the last row of the previous page; `expected` says
        how many rows the caller means to read (a page's Limit), so the first fetch can be sized to it.
        """
        ...

    def scan(
        self,
        table_id: int,
        index_id: int,
        *,
        h_from: int = 0,
        h_to: int = 0xFFFFFFFF,
        start_after: tuple[int, bytes, bytes, bytes, bytes] | None = None,
        expected: int | None = None,
    ) -> Iterator[Row]:
        """Rows with h_from <= h <= h_to in (h, pk, sk, base_pk, base_sk) order, after `start_after`."""
        ...

    def scan_paired(
        self, table_id: int, other_id: int, start_after: tuple[int, bytes, bytes] | None, limit: int
    ) -> list[PairedRow]:
        """The first `limit` keys (h, pk, sk) after `start_after` that either table's items have (a table's
        items and the rows kept beside them under another table id, such as a global table's stamps),
        each with both rows, read at one instant."""
        ...

    def snapshot(
        self, table_id: int, log: tuple[int, int] | None = None
    ) -> AbstractContextManager[TableSnapshot]:
        """A consistent read of one table's items at one commit, for as long as the context is open,
        that never holds up the writer (a read transaction of its own). Use it off the event loop.
        `log`: the (stream id, slot) whose ceiling `seq` is (point-in-time recovery's change log)."""
        ...

    def counters(self, table_id: int, index_id: int = 0) -> tuple[int, int]:
        """(item count, total item bytes) of a table (index_id 0) or one of its indexes."""
        ...

    def meta_get(self, kind: str, key: str) -> bytes | None: ...

    def meta_list(self, kind: str) -> list[tuple[str, bytes]]: ...

    def stream_records(
        self, stream_id: int, slot: int, seq_from: int, seq_to: int | None, limit: int
    ) -> list[StoredRecord]:
        """Records of one slot with seq_from <= seq (<= seq_to), oldest first, at most `limit`."""
        ...

    def last_stream_seq(self, stream_id: int, slot: int, seq_from: int, seq_to: int | None) -> int | None:
        """The highest seq of one slot's records with seq_from <= seq (<= seq_to), or None."""
        ...

    def first_stream_seq_at(
        self, stream_id: int, slot: int, created_from: float, seq_from: int, seq_to: int | None
    ) -> int | None:
        """The lowest seq of one slot's records with seq_from <= seq (<= seq_to) created at or after
        `created_from` (epoch seconds), or None."""
        ...

    def last_sequence(self) -> int:
        """The highest sequence number ever assigned (0 if none): every number assigned later is
        greater. Not a commit ceiling where several writers number records at once (PostgreSQL): a
        smaller number may still commit in some shard; readers of a shard use `shard_ceiling`."""
        ...

    def shard_ceiling(self, stream_id: int, slot: int) -> int:
        """The commit ceiling of one shard's slot: every record of the slot, and of the stream's control
        slot (shard boundary markers), numbered at or below it has committed, and every record of the
        slot committed later gets a greater number. What a reader of the slot may read up to
        (shardlog/pages.py). With one writer (SQLite) it is `last_sequence()`."""
        ...

    def trim_stream_records(self, stream_id: int, created_before: float) -> int:
        """Delete one log's records older than its retention cut-off (never in control slots) and update
        its trim marks (see TRIM_MARK_KIND); returns how many went."""
        ...
