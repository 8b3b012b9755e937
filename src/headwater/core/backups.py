"""On-demand backups: a frozen copy of a table's items, kept apart from the table so that it outlives it.

A backup's rows live in the items store under a table id of their own (allocated from the table id
counter, so never a table's and never reused): no request can reach them, DeleteTable does not drop them,
and a restore reads them back like any table. Its description is a metadata document (`BACKUP_KIND`,
keyed by the backup's ARN) holding the source table's definition as it was.

Taking one never holds up writes: the table is read in a read transaction of its own
(`Storage.snapshot`: one commit, the rows numbered up to `seq`), opened before CreateBackup answers, and
copied chunk by chunk through the single writer in the background; the backup is CREATING until the last
chunk commits, then AVAILABLE. A backup left CREATING by a stopped server is dropped at the next start.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

import orjson

from ..errors import BackupNotFoundException, TableNotFoundException
from ..model.namespace import Namespace
from ..model.schema import TableSpec
from ..storage.base import CatalogView, ItemKey, ItemWrite, MetaWrite, Row, TableSnapshot, WriteSet
from . import stored
from .catalog import MetaOp, spec_of
from .codec import encode_spec
from .database import Database

log = logging.getLogger(__name__)

BACKUP_KIND = "backup"
CHUNK = 500


@dataclass(frozen=True, slots=True)
class CopyOp:
    """A chunk of a snapshot's rows into a backup's own store."""

    storage_id: int
    rows: tuple[Row, ...]

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> CopyOp:
        return self  # the backup's store is no table of the catalog

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        ws = WriteSet()
        size = 0
        for row in self.rows:
            ws.items.append(ItemWrite(ItemKey(self.storage_id, row.h, row.pk, row.sk), row.item))
            size += stored.size_of(row.item)
        ws.count(self.storage_id, len(self.rows), size)
        return ws


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup's document."""

    arn: str
    name: str
    namespace: Namespace
    storage_id: int
    status: str  # CREATING, AVAILABLE (DELETED is only ever answered, never stored)
    backup_type: str  # USER (SYSTEM: made by DeleteTable's backup option, not offered here)
    created_at: float
    size: int
    item_count: int
    spec: TableSpec  # the source table as it was when the backup was taken
    seq: int  # the snapshot's sequence number

    def to_document(self) -> bytes:
        return orjson.dumps(
            {
                "arn": self.arn,
                "name": self.name,
                "namespace": [self.namespace.account, self.namespace.region],
                "storage_id": self.storage_id,
                "status": self.status,
                "type": self.backup_type,
                "created_at": self.created_at,
                "size": self.size,
                "item_count": self.item_count,
                "spec": orjson.loads(encode_spec(self.spec)),
                "seq": self.seq,
            }
        )

    @classmethod
    def from_document(cls, data: bytes) -> Backup:
        doc: dict[str, Any] = orjson.loads(data)
        return cls(
            arn=doc["arn"],
            name=doc["name"],
            namespace=Namespace(*doc["namespace"]),
            storage_id=doc["storage_id"],
            status=doc["status"],
            backup_type=doc["type"],
            created_at=doc["created_at"],
            size=doc["size"],
            item_count=doc["item_count"],
            spec=spec_of(orjson.dumps(doc["spec"])),
            seq=doc["seq"],
        )

    def evolve(self, **changes: Any) -> Backup:
        return replace(self, **changes)


def backup_arn(table: TableSpec, millis: int) -> str:
    """AWS's shape: `<table arn>/backup/<14-digit epoch milliseconds>-<8 hex digits>`."""
    return f"{table.arn}/backup/{millis:014d}-{secrets.token_hex(4)}"


def position(backup: Backup) -> tuple[int, str]:
    """Where a backup sorts: its creation (milliseconds, as in its ARN), then its ARN."""
    return round(backup.created_at * 1000), backup.arn


def get(db: Database, arn: str) -> Backup | None:
    """The namespace's backup `arn` names, if any (another namespace's backups are not there)."""
    stored_doc = db.storage.meta_get(BACKUP_KIND, arn)
    if stored_doc is None:
        return None
    backup = Backup.from_document(stored_doc)
    return backup if backup.namespace == db.namespace else None


def require(db: Database, arn: str) -> Backup:
    backup = get(db, arn)
    if backup is None:
        raise BackupNotFoundException(f"Backup not found: {arn}")
    return backup


def every(db: Database) -> list[Backup]:
    """The namespace's backups, oldest first."""
    found = [Backup.from_document(value) for _, value in db.storage.meta_list(BACKUP_KIND)]
    mine = [b for b in found if b.namespace == db.namespace]
    return sorted(mine, key=position)


def creating(db: Database) -> int:
    """Backups being taken now, in every namespace."""
    return sum(orjson.loads(value)["status"] == "CREATING" for _, value in db.storage.meta_list(BACKUP_KIND))


async def save(db: Database, backup: Backup, *extra: MetaWrite) -> None:
    await db.storage.write(MetaOp((MetaWrite(BACKUP_KIND, backup.arn, backup.to_document()), *extra)))


async def create(db: Database, table: TableSpec, name: str) -> Backup:
    """Start a backup of `table` as committed now; it is AVAILABLE once its copy has committed.

    Under the catalog lock, as every table id allocation is (their counter must be persisted in order),
    and so that the table is still there when its snapshot begins."""
    async with db.catalog.lock:
        current = db.catalog.latest(table)
        if current is None:
            raise TableNotFoundException(f"Table not found: {table.name}")
        storage_id, counter = db.catalog.allocate_id()
        millis = int(db.clock.now() * 1000)
        context = db.storage.snapshot(current.table_id)
        snapshot = await asyncio.to_thread(context.__enter__)
        backup = Backup(
            arn=backup_arn(current, millis),
            name=name,
            namespace=current.namespace,
            storage_id=storage_id,
            status="CREATING",
            backup_type="USER",
            created_at=millis / 1000,
            size=0,
            item_count=0,
            spec=current,
            seq=snapshot.seq,
        )
        try:
            await save(db, backup, counter)
        except BaseException:
            await asyncio.to_thread(context.__exit__, None, None, None)
            raise
    db.later(0, lambda: _copy(db, backup, context, snapshot))
    return backup


async def copy_rows(db: Database, rows: Iterator[Row], storage_id: int) -> tuple[int, int]:
    """Copy `rows` (read off the event loop) into store `storage_id`, chunk by chunk through the writer;
    returns (items, bytes) copied."""
    count = size = 0
    while chunk := await asyncio.to_thread(_next, rows):
        await db.storage.write(CopyOp(storage_id, chunk))
        count += len(chunk)
        size += sum(stored.size_of(row.item) for row in chunk)
    return count, size


async def _copy(
    db: Database, backup: Backup, context: AbstractContextManager[TableSnapshot], snapshot: TableSnapshot
) -> None:
    try:
        count, size = await copy_rows(db, snapshot.rows, backup.storage_id)
    except asyncio.CancelledError:  # the server is stopping: the next start drops it
        raise
    except BaseException:
        log.exception("backup %s failed; it is dropped", backup.arn)
        await _drop(db, backup)
        raise
    finally:
        await asyncio.to_thread(context.__exit__, None, None, None)
    await save(db, backup.evolve(status="AVAILABLE", size=size, item_count=count))


def _next(rows: Iterator[Row]) -> tuple[Row, ...]:
    return tuple(itertools.islice(rows, CHUNK))


async def delete(db: Database, backup: Backup) -> None:
    await _drop(db, backup)


async def _drop(db: Database, backup: Backup) -> None:
    await db.storage.write(
        MetaOp((MetaWrite(BACKUP_KIND, backup.arn, None),), drop_tables=(backup.storage_id,))
    )


def in_use(db: Database, backup: Backup) -> bool:
    """Still being created, or being restored from (its rows are being read)."""
    return backup.status != "AVAILABLE" or backup.arn in db.backups_in_use


async def drop_unfinished(db: Database) -> None:
    """At start: a backup still CREATING was cut short by a stop; it never became usable."""
    for _, value in db.storage.meta_list(BACKUP_KIND):
        backup = Backup.from_document(value)
        if backup.status == "CREATING":
            log.warning("dropping backup %s: the server stopped while it was being taken", backup.arn)
            await _drop(db, backup)


def rows(db: Database, backup: Backup) -> Iterator[Row]:
    """The backup's items (read lazily: call off the event loop)."""
    return db.storage.scan(backup.storage_id, 0)
