"""Online GSI changes: backfill of a new index from the table, and removal of a dropped index's entries.

Both run in chunks through the single writer (never the whole table in memory). A new index is in the
table spec (CREATING) before backfill starts, so concurrent writes maintain it through `item_change`;
the backfill re-reads each chunk's items in the writer and upserts their entries. Entries are exact;
the index counters may drift while both touch the same items, so they are recounted at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..errors import ResourceNotFoundException
from ..model.keys import partition_hash
from ..model.schema import IndexSpec, TableSpec
from ..model.size import item_size
from ..storage.base import CatalogView, IndexKey, IndexWrite, ItemKey, Row, Storage, WriteSet
from . import stored
from .catalog import current_table
from .changes import index_entry, project_for_index
from .progress import Count

CHUNK = 500


@dataclass(frozen=True, slots=True)
class BackfillOp:
    table: TableSpec
    index: IndexSpec
    item_keys: tuple[ItemKey, ...]

    @property
    def keys(self) -> Sequence[ItemKey]:
        return self.item_keys

    def resolve(self, catalog: CatalogView) -> BackfillOp:
        """ResourceNotFoundException when the table or the index went away meanwhile."""
        table = current_table(catalog, self.table)
        index = next((ix for ix in table.indexes if ix.index_id == self.index.index_id), None)
        if index is None or index.status == "DELETING":
            raise ResourceNotFoundException("Requested resource not found")
        if table is self.table and index is self.index:
            return self
        return dataclasses.replace(self, table=table, index=index)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        ws = WriteSet()
        for key, raw in zip(self.item_keys, old_items, strict=True):
            if raw is None:
                continue
            item = stored.unpack(raw)
            entry = index_entry(self.table, self.index, item)
            if entry is None:
                continue
            projected = project_for_index(self.table, self.index, item)
            pk, sk = entry
            index_key = IndexKey(
                self.table.table_id, self.index.index_id, partition_hash(pk), pk, sk, key.pk, key.sk
            )
            size = item_size(projected)
            ws.indexes.append(IndexWrite(index_key, stored.pack(projected, size)))
            ws.count(self.table.table_id, 1, size, self.index.index_id)
        return ws


@dataclass(frozen=True, slots=True)
class IndexEntriesOp:
    """Index entry writes and a counter correction, no item involved."""

    writes: tuple[IndexWrite, ...]
    table_id: int
    index_id: int
    count_delta: int = 0
    size_delta: int = 0

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> IndexEntriesOp:
        return self  # exact entries of a known index (a dropped table's are dropped with it)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        ws = WriteSet(indexes=list(self.writes))
        if self.count_delta or self.size_delta:
            ws.count(self.table_id, self.count_delta, self.size_delta, self.index_id)
        return ws


async def _next_chunk(rows: Iterator[Row]) -> list[Row]:
    return await asyncio.to_thread(lambda: list(itertools.islice(rows, CHUNK)))


async def backfill(storage: Storage, table: TableSpec, index: IndexSpec, count: Count | None = None) -> None:
    """Fill `index` from the table's items, chunk by chunk; `count` (progress) counts the items gone
    through."""
    rows = storage.scan(table.table_id, 0)
    while chunk := await _next_chunk(rows):
        keys = tuple(ItemKey(table.table_id, r.h, r.pk, r.sk) for r in chunk)
        try:
            await storage.write(BackfillOp(table, index, keys))
        except ResourceNotFoundException:  # the table or the index is gone: nothing left to fill
            return
        if count is not None:
            count.done += len(chunk)
    await recount(storage, table.table_id, index.index_id)


async def recount(storage: Storage, table_id: int, index_id: int) -> None:
    """Set the index counters to what its entries hold."""

    def measure() -> tuple[int, int]:
        count = size = 0
        for row in storage.scan(table_id, index_id):
            count += 1
            size += stored.size_of(row.item)
        return count, size

    count, size = await asyncio.to_thread(measure)
    stored_count, stored_size = storage.counters(table_id, index_id)
    if (count, size) != (stored_count, stored_size):
        await storage.write(IndexEntriesOp((), table_id, index_id, count - stored_count, size - stored_size))


async def drop_entries(storage: Storage, table_id: int, index_id: int) -> None:
    """Delete every entry of an index no longer in the table spec, then zero its counters."""
    rows = storage.scan(table_id, index_id)
    while chunk := await _next_chunk(rows):
        writes = tuple(
            IndexWrite(IndexKey(table_id, index_id, r.h, r.pk, r.sk, r.base_pk, r.base_sk), None)
            for r in chunk
        )
        await storage.write(IndexEntriesOp(writes, table_id, index_id))
    count, size = storage.counters(table_id, index_id)
    if count or size:
        await storage.write(IndexEntriesOp((), table_id, index_id, -count, -size))
