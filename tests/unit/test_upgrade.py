"""The data-layout upgrade: what it moves into the default namespace, once, in one write."""

from __future__ import annotations

import asyncio

import orjson

from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.catalog import MetaOp
from headwater.core.database import Database
from headwater.kinesis.docs import STREAMS_TABLE_ID
from headwater.model.keys import partition_hash
from headwater.model.namespace import Namespace
from headwater.storage.base import ItemKey, ItemWrite, MetaWrite, WriteSet
from headwater.storage.sqlite import SqliteStorage
from headwater.triggers.state import MemoryStateStore, ScopedStateStore
from headwater.upgrade import LAYOUT_KIND, NAMESPACES, pending, upgrade

DEFAULT = Namespace("123456789012", "eu-west-1")
OLD_TABLE = {
    "table_id": 1,
    "name": "t",
    "kinesis": [
        ["arn:aws:kinesis:us-east-1:000000000000:stream/s", "s", "ACTIVE", "MILLISECOND", "us-east-1"]
    ],
}


class RawOp:
    """Old-shaped rows, written as the older versions wrote them."""

    def __init__(self, ws: WriteSet) -> None:
        self.ws = ws
        self.keys = ()

    def resolve(self, catalog: object) -> RawOp:
        return self

    def apply(self, old_items: object) -> WriteSet:
        return self.ws


def _old_layout(db: Database) -> None:
    kinesis_doc = {"name": "s", "arn": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "stream_id": 2}
    pk = b"s"
    ws = WriteSet(
        items=[
            ItemWrite(
                ItemKey(STREAMS_TABLE_ID, partition_hash(pk), pk),
                orjson.dumps(kinesis_doc),
            )
        ],
        meta=[
            MetaWrite("table", "t", orjson.dumps(OLD_TABLE)),
            MetaWrite(
                "stream",
                "000000000001",
                orjson.dumps({"arn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x"}),
            ),
            MetaWrite(
                "lambda.function",
                "f",
                orjson.dumps(
                    {"name": "f", "layers": [{"arn": "arn:aws:lambda:us-east-1:000000000000:layer:l:1"}]}
                ),
            ),
            MetaWrite(
                "lambda.mapping",
                "u",
                orjson.dumps(
                    {
                        "uuid": "u",
                        "event_source_arn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
                        "on_failure": None,
                    }
                ),
            ),
            MetaWrite("lambda.checkpoint", "u/shardId-1", b"{}"),
        ],
    )
    db.storage.write_sync(RawOp(ws))


def test_everything_moves_into_the_default_namespace_once() -> None:
    db = Database(Settings(in_memory=True), SqliteStorage(None), FakeClock())
    db.open()
    try:
        _old_layout(db)
        asyncio.run(upgrade(db.storage, DEFAULT))
        storage = db.storage
        assert list(storage.catalog()) == ["123456789012/eu-west-1/t"]
        table = orjson.loads(storage.catalog()["123456789012/eu-west-1/t"])
        assert table["namespace"] == ["123456789012", "eu-west-1"]
        assert table["kinesis"][0][0] == "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
        stream = orjson.loads(storage.meta_get("stream", "000000000001") or b"")
        assert stream["arn"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/x"
        assert [key for key, _ in storage.meta_list("lambda.checkpoint")] == [
            "123456789012/eu-west-1/u/shardId-1"
        ]
        mapping = orjson.loads(storage.meta_get("lambda.mapping", "123456789012/eu-west-1/u") or b"")
        assert mapping["event_source_arn"].startswith("arn:aws:dynamodb:eu-west-1:123456789012:")
        function = orjson.loads(storage.meta_get("lambda.function", "123456789012/eu-west-1/f") or b"")
        assert function["layers"][0]["arn"] == "arn:aws:lambda:eu-west-1:123456789012:layer:l:1"
        rows = list(storage.scan(STREAMS_TABLE_ID, 0))
        assert [row.pk for row in rows] == [b"123456789012/eu-west-1/s"]
        assert orjson.loads(rows[0].item)["arn"] == "arn:aws:kinesis:eu-west-1:123456789012:stream/s"
        assert storage.meta_get(LAYOUT_KIND, NAMESPACES) == b"1"
        assert pending(storage, DEFAULT) is None  # once
    finally:
        asyncio.run(db.close())


def test_a_new_database_is_only_marked() -> None:
    db = Database(Settings(in_memory=True), SqliteStorage(None), FakeClock())
    db.open()
    try:
        op = pending(db.storage, DEFAULT)
        assert op is not None
        assert op.meta == (MetaWrite(LAYOUT_KIND, NAMESPACES, b"1"),)
        assert op.kinesis_keys == ()
        db.storage.write_sync(MetaOp(op.meta))
        assert pending(db.storage, DEFAULT) is None
    finally:
        asyncio.run(db.close())


def test_a_scoped_state_store_sees_its_namespace_only() -> None:
    shared = MemoryStateStore()
    east, west = ScopedStateStore(shared, "1/us-east-1/"), ScopedStateStore(shared, "1/eu-west-1/")

    async def scenario() -> None:
        await east.put("lambda.function", "f", {"v": 1})
        await west.put("lambda.function", "f", {"v": 2})
        assert await east.get("lambda.function", "f") == {"v": 1}
        assert await west.list("lambda.function") == [("f", {"v": 2})]
        await west.delete("lambda.function", "f")
        assert await shared.list("lambda.function") == [("1/us-east-1/f", {"v": 1})]

    asyncio.run(scenario())
