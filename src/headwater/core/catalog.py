"""The table catalog: specs in memory, persisted as metadata through the single writer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ResourceNotFoundException
from ..model.schema import TableSpec
from ..storage.base import ItemKey, MetaWrite, Storage, StreamWrite, WriteSet
from .codec import decode_spec, encode_spec

TABLE_KIND = "table"
COUNTER_KIND = "counter"


@dataclass(frozen=True, slots=True)
class MetaOp:
    """A write of metadata only (no items): catalog changes, stream and mapping state."""

    writes: tuple[MetaWrite, ...]
    drop_tables: tuple[int, ...] = ()
    result: Any = None
    keys: Sequence[ItemKey] = field(default=())
    stream: tuple[StreamWrite, ...] = ()  # e.g. shard boundary markers, committed with the catalog change

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(
            meta=list(self.writes),
            drop_tables=list(self.drop_tables),
            result=self.result,
            stream=list(self.stream),
        )


def _split(
    extra: tuple[MetaWrite | StreamWrite, ...],
) -> tuple[tuple[MetaWrite, ...], tuple[StreamWrite, ...]]:
    return (
        tuple(w for w in extra if isinstance(w, MetaWrite)),
        tuple(w for w in extra if isinstance(w, StreamWrite)),
    )


class Catalog:
    """Live tables by name. Changes are serialised by `lock` and committed before memory changes."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._tables: dict[str, TableSpec] = {}
        self._next_id = 1
        self.lock = asyncio.Lock()

    def load(self) -> None:
        self._tables = {}
        for _, value in self._storage.meta_list(TABLE_KIND):
            spec = decode_spec(value)
            self._tables[spec.name] = spec
        stored = self._storage.meta_get(COUNTER_KIND, "table_id")
        self._next_id = int(stored) if stored else 1

    def get(self, name: str) -> TableSpec | None:
        return self._tables.get(name)

    def require(self, name: str) -> TableSpec:
        """For item operations: DynamoDB's short message. A table still being created is not there yet."""
        spec = self._tables.get(name)
        if spec is None or spec.status == "CREATING":
            raise ResourceNotFoundException("Requested resource not found")
        return spec

    def require_table(self, name: str) -> TableSpec:
        """For table operations: DynamoDB names the table."""
        spec = self._tables.get(name)
        if spec is None:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
        return spec

    def names(self) -> list[str]:
        return sorted(self._tables)

    def specs(self) -> Iterable[TableSpec]:
        return list(self._tables.values())

    def allocate_id(self) -> tuple[int, MetaWrite]:
        """A fresh table id and the metadata write that persists the counter with it."""
        table_id = self._next_id
        self._next_id += 1
        return table_id, MetaWrite(COUNTER_KIND, "table_id", str(self._next_id).encode())

    async def save(self, spec: TableSpec, *extra: MetaWrite | StreamWrite) -> None:
        meta, stream = _split(extra)
        await self._storage.write(
            MetaOp((MetaWrite(TABLE_KIND, spec.name, encode_spec(spec)), *meta), stream=stream)
        )
        self._tables[spec.name] = spec

    async def drop(self, spec: TableSpec, *extra: MetaWrite | StreamWrite) -> None:
        """Remove the table and every item and index entry it had, in one commit."""
        meta, stream = _split(extra)
        await self._storage.write(
            MetaOp(
                (MetaWrite(TABLE_KIND, spec.name, None), *meta),
                # the table's item-collection counters live under its negated id (core/collections.py)
                drop_tables=(spec.table_id, -spec.table_id),
                stream=stream,
            )
        )
        current = self._tables.get(spec.name)
        if current is not None and current.table_id == spec.table_id:
            del self._tables[spec.name]
