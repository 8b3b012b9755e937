"""An item write applies against the table definition current at its commit, on every backend.

A write's request reads the table spec; the writer applies it later. A catalog change (stream enabled,
GSI created, table deleted or re-created) committed in between, in an earlier group or earlier in the
same group, must be what the write sees: otherwise a stream record or an index entry goes missing, or
rows land in a dropped table. The interleavings are forced: the writer is held inside an operation while
the change and the write are queued in a known order (asyncio runs new tasks in the order they were
created, and `Storage.write` queues before its first suspension).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Literal

import pytest

from headwater.api.dynamodb._gsi_updates import apply_gsi_updates
from headwater.api.dynamodb._items import storage_key
from headwater.api.registry import DYNAMODB_OPERATIONS
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.database import Database
from headwater.core.tables import open_stream
from headwater.core.writes import ItemWriteOp
from headwater.errors import ResourceNotFoundException
from headwater.model.keys import item_key
from headwater.model.namespace import Namespace
from headwater.model.schema import StreamSpec, TableSpec
from headwater.storage.base import CatalogView, ItemKey, Storage, WriteSet

Order = Literal["earlier group", "same group"]
ORDERS: tuple[Order, ...] = ("earlier group", "same group")


class Hold:
    """Keeps the writer busy inside `apply` until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()

    @property
    def keys(self) -> Sequence[ItemKey]:
        return ()

    def resolve(self, catalog: CatalogView) -> Hold:
        return self

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        self.entered.set()
        self.released.wait(60)
        return WriteSet()


def _db(storage: Storage) -> Database:
    db = Database(Settings(in_memory=True), storage, FakeClock())
    db.catalog.load()
    return db


def _run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


async def _create(db: Database, name: str) -> TableSpec:
    await DYNAMODB_OPERATIONS["CreateTable"](
        db,
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    return db.catalog.require(name)


def _put(db: Database, table: TableSpec, pk: str, **attrs: Any) -> ItemWriteOp:
    """PutItem's operation as its request builds it, from the spec the request saw."""
    item: dict[str, Any] = {"pk": {"S": pk}, **attrs}
    pk_bytes, sk_bytes = item_key(item, table.key)
    key = storage_key(table, pk_bytes, sk_bytes)
    return ItemWriteOp("put", table, key, {"pk": item["pk"]}, db.clock.now(), item=item)


async def _interleave(
    db: Database, order: Order, change: Callable[[], Awaitable[None]], write: ItemWriteOp
) -> Any:
    """Commit `change`, then `write` (built before the change): in an earlier group, or earlier in the
    same group. Returns the write's result, or the exception it raised."""
    if order == "earlier group":
        await change()
        try:
            return await db.storage.write(write)
        except ResourceNotFoundException as exc:
            return exc
    hold = Hold()
    held = asyncio.ensure_future(db.storage.write(hold))
    await asyncio.to_thread(hold.entered.wait, 60)
    changed = asyncio.ensure_future(change())
    written = asyncio.ensure_future(db.storage.write(write))
    await asyncio.sleep(0)  # both tasks have queued their operations (see the module docstring)
    hold.released.set()
    await held
    await changed
    try:
        return await written
    except ResourceNotFoundException as exc:
        return exc


def _records(storage: Storage, table: TableSpec) -> int:
    assert table.stream_id is not None
    slots = range(table.stream.shards)
    return sum(len(storage.stream_records(table.stream_id, s, 0, None, 100)) for s in slots)


@pytest.mark.parametrize("order", ORDERS)
def test_a_write_queued_while_the_stream_is_enabled_gets_its_record(storage: Storage, order: Order) -> None:
    async def scenario() -> None:
        db = _db(storage)
        table = await _create(db, "streamed")
        streamed, writes = open_stream(db, table, StreamSpec(True, "NEW_IMAGE"))

        async def enable() -> None:
            async with db.catalog.lock:
                await db.catalog.save(streamed, *writes)

        result = await _interleave(db, order, enable, _put(db, table, "a"))
        assert not isinstance(result, Exception)
        assert _records(storage, db.catalog.require("streamed")) == 1

    _run(scenario())


def test_a_write_committed_before_the_stream_is_enabled_has_no_record(storage: Storage) -> None:
    async def scenario() -> None:
        db = _db(storage)
        table = await _create(db, "before")
        streamed, writes = open_stream(db, table, StreamSpec(True, "NEW_IMAGE"))
        hold = Hold()
        held = asyncio.ensure_future(db.storage.write(hold))
        await asyncio.to_thread(hold.entered.wait, 60)
        written = asyncio.ensure_future(db.storage.write(_put(db, table, "a")))
        changed = asyncio.ensure_future(db.catalog.save(streamed, *writes))
        await asyncio.sleep(0)
        hold.released.set()
        await asyncio.gather(held, written, changed)
        assert _records(storage, db.catalog.require("before")) == 0
        assert storage.get_item(_put(db, table, "a").key) is not None

    _run(scenario())


@pytest.mark.parametrize("order", ORDERS)
def test_a_write_queued_while_a_gsi_is_created_gets_its_entry(storage: Storage, order: Order) -> None:
    async def scenario() -> None:
        db = _db(storage)
        table = await _create(db, "indexed")
        request = {
            "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": "byg",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        }
        indexed, _backfill = apply_gsi_updates(db, table, request)

        async def create_index() -> None:
            async with db.catalog.lock:
                await db.catalog.save(indexed)

        result = await _interleave(db, order, create_index, _put(db, table, "a", g={"S": "x"}))
        assert not isinstance(result, Exception)
        index = db.catalog.require("indexed").index("byg")
        assert index is not None
        assert len(list(storage.scan(table.table_id, index.index_id))) == 1

    _run(scenario())


@pytest.mark.parametrize("recreate", [False, True], ids=["deleted", "re-created"])
@pytest.mark.parametrize("order", ORDERS)
def test_a_write_queued_while_its_table_is_deleted_is_refused(
    storage: Storage, order: Order, recreate: bool
) -> None:
    async def scenario() -> None:
        db = _db(storage)
        table = await _create(db, "doomed")

        async def delete() -> None:
            async with db.catalog.lock:
                await db.catalog.drop(table)
            if recreate:
                await _create(db, "doomed")

        result = await _interleave(db, order, delete, _put(db, table, "a"))
        assert isinstance(result, ResourceNotFoundException)
        assert list(storage.scan(table.table_id, 0)) == []  # no orphan rows
        assert storage.counters(table.table_id) == (0, 0)
        if recreate:
            again = db.catalog.require("doomed")
            assert again.table_id != table.table_id
            assert list(storage.scan(again.table_id, 0)) == []

    _run(scenario())


@pytest.mark.parametrize("order", ORDERS)
def test_a_write_resolves_its_own_namespaces_table(storage: Storage, order: Order) -> None:
    """Tables of different namespaces with the same name are different tables: a write queued for one
    while the other is deleted and created again applies to its own (catalog keys
    `<account>/<region>/<name>`)."""

    async def scenario() -> None:
        db = _db(storage)
        east, west = (
            db.scoped(Namespace("000000000000", "us-east-2")),
            db.scoped(Namespace("000000000000", "eu-west-1")),
        )
        mine = await _create(east, "shared")
        theirs = await _create(west, "shared")
        assert (mine.namespace.region, theirs.namespace.region) == ("us-east-2", "eu-west-1")
        assert mine.table_id != theirs.table_id

        async def replace_theirs() -> None:
            async with west.catalog.lock:
                await west.catalog.drop(theirs)
            await _create(west, "shared")

        result = await _interleave(db, order, replace_theirs, _put(east, mine, "a"))
        assert not isinstance(result, Exception)
        assert storage.get_item(_put(east, mine, "a").key) is not None
        assert east.catalog.require("shared").table_id == mine.table_id
        assert db.catalog.get("shared") is None  # the default namespace has no such table
        assert sorted(db.catalog.scoped(Namespace("000000000000", "us-east-2")).names()) == ["shared"]

        async def drop_mine() -> None:
            async with east.catalog.lock:
                await east.catalog.drop(mine)

        refused = await _interleave(db, order, drop_mine, _put(east, mine, "b"))
        assert isinstance(refused, ResourceNotFoundException)
        assert west.catalog.require("shared").table_id not in (mine.table_id, theirs.table_id)

    _run(scenario())
