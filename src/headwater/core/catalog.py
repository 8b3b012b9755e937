"""The table catalog: table specs persisted as metadata through the single writer.

The committed catalog is held by the writer (`Storage.catalog()`, updated in the same step that commits
a change), and every write operation is resolved against it at apply time (`current_table`): a write
queued while its table's definition changed uses the definition current at its commit, never the one
its request saw. Request handlers read the same state.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ResourceNotFoundException
from ..model.namespace import Namespace
from ..model.schema import TableSpec
from ..storage.base import CATALOG_KIND, CatalogView, ItemKey, MetaWrite, Storage, StreamWrite, WriteSet
from . import pitr_log
from .codec import decode_spec, encode_spec
from .lww import stamp_table_id
from .table_names import table_named

TABLE_KIND = CATALOG_KIND
COUNTER_KIND = "counter"


@functools.lru_cache(maxsize=1024)
def spec_of(document: bytes) -> TableSpec:
    """The spec a catalog document holds; one shared object per document, so an unchanged table
    resolves to the very spec its request saw."""
    return decode_spec(document)


def catalog_key(table: TableSpec) -> str:
    """Where the catalog keeps a table: `<account>/<region>/<name>`."""
    return table.namespace.prefix + table.name


def current_table(catalog: CatalogView, table: TableSpec) -> TableSpec:
    """`table` as the catalog has it now; ResourceNotFoundException if it was deleted (or deleted and
    created again: a new table id) since."""
    document = catalog.get(table.namespace.prefix + table.name)
    if document is None:
        raise ResourceNotFoundException("Requested resource not found")
    current = spec_of(document)
    if current is table:
        return table
    if current.table_id != table.table_id:
        raise ResourceNotFoundException("Requested resource not found")
    return current


@dataclass(frozen=True, slots=True)
class MetaOp:
    """A write of metadata only (no items): catalog changes, stream and mapping state."""

    writes: tuple[MetaWrite, ...]
    drop_tables: tuple[int, ...] = ()
    result: Any = None
    keys: Sequence[ItemKey] = field(default=())
    stream: tuple[StreamWrite, ...] = ()  # e.g. shard boundary markers, committed with the catalog change
    drop_streams: tuple[int, ...] = ()  # logs dropped with it (a point-in-time recovery log)

    def resolve(self, catalog: CatalogView) -> MetaOp:
        return self  # built under catalog.lock from the committed catalog

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(
            meta=list(self.writes),
            drop_tables=list(self.drop_tables),
            result=self.result,
            stream=list(self.stream),
            drop_streams=list(self.drop_streams),
        )


def _split(
    extra: tuple[MetaWrite | StreamWrite, ...],
) -> tuple[tuple[MetaWrite, ...], tuple[StreamWrite, ...]]:
    return (
        tuple(w for w in extra if isinstance(w, MetaWrite)),
        tuple(w for w in extra if isinstance(w, StreamWrite)),
    )


class CatalogLock:
    """`async with catalog.lock:` one catalog change at a time: in this process (an asyncio lock), and
    among the nodes sharing the database (`Storage.hold_catalog`). Inside it, the catalog and the table
    id counter are as the last change, on whichever node, left them."""

    def __init__(self, storage: Storage, shared: _Shared) -> None:
        self._storage = storage
        self._shared = shared
        self._local = asyncio.Lock()

    def locked(self) -> bool:
        return self._local.locked()

    async def __aenter__(self) -> None:
        await self._local.acquire()
        try:
            shared = await self._storage.hold_catalog()
        except BaseException:
            self._local.release()
            raise
        if not shared:
            return
        try:  # another node may have taken table ids
            stored = self._storage.meta_get(COUNTER_KIND, "table_id")
            self._shared.next_id = max(self._shared.next_id, int(stored) if stored else 1)
        except BaseException:
            await self.__aexit__()
            raise

    async def __aexit__(self, *exc: object) -> None:
        try:
            self._storage.release_catalog()
        finally:
            self._local.release()


@dataclass(slots=True)
class _Shared:
    """What every namespace's view of the catalog shares: one id counter, one lock for catalog changes."""

    next_id: int = 1
    lock: CatalogLock | None = None


class Catalog:
    """The live tables of one namespace, by name. Changes are serialised by `lock` (one for every
    namespace); the writer publishes them as it commits.

    The committed catalog holds every namespace's tables, each under `<account>/<region>/<name>`
    (`catalog_key`): tables of different namespaces with the same name are different tables, and an
    operation resolves its table by that key at apply time (`current_table`) like any other."""

    def __init__(self, storage: Storage, namespace: Namespace, shared: _Shared | None = None) -> None:
        self._storage = storage
        self.namespace = namespace
        self._prefix = namespace.prefix
        self._shared = shared or _Shared()
        if self._shared.lock is None:
            self._shared.lock = CatalogLock(storage, self._shared)

    def scoped(self, namespace: Namespace) -> Catalog:
        """The same catalog as `namespace` sees it."""
        return Catalog(self._storage, namespace, self._shared)

    @property
    def lock(self) -> CatalogLock:
        assert self._shared.lock is not None
        return self._shared.lock

    def load(self) -> None:
        stored = self._storage.meta_get(COUNTER_KIND, "table_id")
        self._shared.next_id = int(stored) if stored else 1

    def resolve(self, name: str) -> tuple[Namespace, str]:
        """The namespace and plain name a request's TableName (a name, or a table ARN) names."""
        return table_named(name, self.namespace)

    def get(self, name: str) -> TableSpec | None:
        """The table `name` (a name of this namespace, or a table ARN) names, if there is one."""
        key = self._prefix + name
        if name.startswith("arn:"):
            namespace, name = table_named(name, self.namespace)
            key = namespace.prefix + name
        document = self._storage.catalog().get(key)
        if document is None:
            # another node may have created it a moment ago (its notification still on its way). Look
            # again whatever the refresh says: the writer may have taken the change in meanwhile, and
            # then the versions agree although the first look missed it
            self._storage.refresh_catalog()
            document = self._storage.catalog().get(key)
        return None if document is None else spec_of(document)

    def latest(self, table: TableSpec) -> TableSpec | None:
        """The committed definition of `table` (the same table: same namespace, name and id), or None once
        it is gone."""
        document = self._storage.catalog().get(catalog_key(table))
        current = None if document is None else spec_of(document)
        return current if current is not None and current.table_id == table.table_id else None

    def require(self, name: str) -> TableSpec:
        """For item operations: DynamoDB's short message. A table still being created is not there yet."""
        spec = self.get(name)
        if spec is not None and spec.status == "CREATING":
            self._storage.refresh_catalog()
            spec = self.get(name)  # made ACTIVE by another node a moment ago (or meanwhile)
        if spec is None or spec.status == "CREATING":
            raise ResourceNotFoundException("Requested resource not found")
        return spec

    def require_table(self, name: str) -> TableSpec:
        """For table operations: DynamoDB names the table. They are rare, and they see every change
        another node has committed (one look at the catalog's version when other nodes share it)."""
        self._storage.refresh_catalog()
        spec = self.get(name)
        if spec is None:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
        return spec

    def names(self) -> list[str]:
        """This namespace's table names, in order (as every node has committed them)."""
        self._storage.refresh_catalog()
        prefix = self._prefix
        return sorted(key[len(prefix) :] for key in self._storage.catalog() if key.startswith(prefix))

    def every_table(self) -> Iterable[TableSpec]:
        """The tables of every namespace (background work: TTL)."""
        return [spec_of(document) for document in self._storage.catalog().values()]

    def allocate_id(self) -> tuple[int, MetaWrite]:
        """A fresh table id (unique across namespaces) and the metadata write that persists the counter."""
        table_id = self._shared.next_id
        self._shared.next_id += 1
        return table_id, MetaWrite(COUNTER_KIND, "table_id", str(self._shared.next_id).encode())

    async def save(self, spec: TableSpec, *extra: MetaWrite | StreamWrite) -> None:
        meta, stream = _split(extra)
        await self._storage.write(
            MetaOp((MetaWrite(TABLE_KIND, catalog_key(spec), encode_spec(spec)), *meta), stream=stream)
        )

    async def drop(self, spec: TableSpec, *extra: MetaWrite | StreamWrite) -> None:
        """Remove the table and every item and index entry it had, and its point-in-time recovery data,
        in one commit."""
        meta, stream = _split(extra)
        recovery_stores, recovery_logs = pitr_log.stores(spec)
        await self._storage.write(
            MetaOp(
                (MetaWrite(TABLE_KIND, catalog_key(spec), None), *meta),
                # the table's item-collection counters live under its negated id (core/collections.py),
                # a global table's last-writer-wins stamps under another (core/lww.py), its point-in-time
                # recovery data in stores of its own
                drop_tables=(spec.table_id, -spec.table_id, stamp_table_id(spec.table_id), *recovery_stores),
                stream=stream,
                drop_streams=recovery_logs,
            )
        )
