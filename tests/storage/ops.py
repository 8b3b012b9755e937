"""Tiny WriteOperations for the storage tests (the real ones live in core)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from headwater.errors import ConditionalCheckFailedException
from headwater.storage.base import (
    CatalogView,
    IndexWrite,
    ItemKey,
    ItemWrite,
    MetaWrite,
    StreamWrite,
    WriteSet,
)


def key(pk: bytes, sk: bytes = b"", *, table_id: int = 1, h: int | None = None) -> ItemKey:
    return ItemKey(table_id, sum(pk) % 7 if h is None else h, pk, sk)


@dataclass(frozen=True, slots=True)
class Put:
    """Put (or with item=None delete) one item, with optional index entries, stream records and meta.

    Result: the old item. `expect_old`, when given, is a condition on the old item.
    """

    key: ItemKey
    item: bytes | None
    indexes: tuple[IndexWrite, ...] = ()
    stream: tuple[StreamWrite, ...] = ()
    meta: tuple[MetaWrite, ...] = ()
    check: bool = False
    expect_old: bytes | None = None

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (self.key,)

    def resolve(self, catalog: CatalogView) -> Put:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        old = old_items[0]
        if self.check and old != self.expect_old:
            raise ConditionalCheckFailedException()
        ws = WriteSet(
            items=[ItemWrite(self.key, self.item)],
            indexes=list(self.indexes),
            stream=list(self.stream),
            meta=list(self.meta),
            result=old,
        )
        new_size = 0 if self.item is None else len(self.item)
        old_size = 0 if old is None else len(old)
        ws.count(self.key.table_id, int(self.item is not None) - int(old is not None), new_size - old_size)
        return ws


@dataclass(frozen=True, slots=True)
class Increment:
    """Read a decimal counter item and write it plus one, with a stream record; result: the new value."""

    key: ItemKey
    stream_id: int = 0

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (self.key,)

    def resolve(self, catalog: CatalogView) -> Increment:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        old = old_items[0]
        value = (0 if old is None else int(old)) + 1
        body = str(value).encode()
        ws = WriteSet(items=[ItemWrite(self.key, body)], result=value)
        if self.stream_id:
            ws.stream.append(StreamWrite(self.stream_id, 0, 1000.0, body))
        return ws


@dataclass(frozen=True, slots=True)
class Raw:
    """Commit a prepared WriteSet as is (no keys read)."""

    ws: WriteSet

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> Raw:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(
            items=list(self.ws.items),
            indexes=list(self.ws.indexes),
            stream=list(self.ws.stream),
            meta=list(self.ws.meta),
            counters=dict(self.ws.counters),
            drop_tables=list(self.ws.drop_tables),
            drop_streams=list(self.ws.drop_streams),
            result=self.ws.result,
        )


@dataclass(frozen=True, slots=True)
class Crash:
    """An operation whose apply has a bug (raises a plain Python exception)."""

    key: ItemKey

    @property
    def keys(self) -> Sequence[ItemKey]:
        return (self.key,)

    def resolve(self, catalog: CatalogView) -> Crash:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        raise ZeroDivisionError("a bug in apply")
