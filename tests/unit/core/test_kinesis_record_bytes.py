"""The exact bytes of a table's Kinesis records (core/kinesis_capture.py), pinned: what GetRecords hands a
reader is these bytes, so a change to how the record is built must not change one of them."""

from __future__ import annotations

from typing import Literal

from headwater.core.changes import item_change
from headwater.core.kinesis_capture import Destinations
from headwater.kinesis.docs import StreamDoc
from headwater.kinesis.hashing import uniform_ranges
from headwater.model.keys import encode_key_value, partition_hash
from headwater.model.schema import KeyAttribute, KeySchema, KinesisDestination, TableSpec
from headwater.model.values import Item
from headwater.shardlog.markers import SlotRange
from headwater.storage.base import ItemKey, WriteSet

from .helpers import NAMESPACE

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/dest"
NOW = 1_700_000_000.123456
HASH, RANGE = KeyAttribute("pk", "S"), KeyAttribute("sk", "N")
KEY_SCHEMA = KeySchema.single(HASH, RANGE)
Precision = Literal["MILLISECOND", "MICROSECOND"]
OLD: Item = {
    "pk": {"S": "ü-1"},
    "sk": {"N": "7"},
    "name": {"S": 'old "quoted" \u2603'},
    "tags": {"SS": ["a", "b"]},
    "m": {"M": {"n": {"N": "-1.5E3"}, "l": {"L": [{"BOOL": True}, {"NULL": True}, {"B": "AAE="}]}}},
}
NEW: Item = {**OLD, "name": {"S": "new"}, "count": {"N": "12345678901234567890"}}


def _table(precision: Precision) -> TableSpec:
    destination = KinesisDestination(ARN, "dest", "ACTIVE", precision)
    return TableSpec(
        5,
        "Orders.v2",
        "uuid",
        KEY_SCHEMA,
        (HASH, RANGE),
        0.0,
        NAMESPACE,
        kinesis=(destination,),
    )


def _destinations() -> Destinations:
    shards = tuple(SlotRange(i, start, end) for i, (start, end) in enumerate(uniform_ranges(4)))
    doc = StreamDoc("dest", ARN, 9, "ACTIVE", "ON_DEMAND", 0.0, 24, 0, shards, shards, 4)
    return Destinations([doc.encode()])


def _key(item: Item) -> ItemKey:
    pk = encode_key_value("S", item["pk"])
    return ItemKey(5, partition_hash(pk), pk, encode_key_value("N", item["sk"]))


def _record(
    old: Item | None, new: Item | None, *, ttl_delete: bool = False, precision: Precision = "MILLISECOND"
) -> tuple[int, int, float, bytes]:
    ws = WriteSet()
    item_change(
        ws, _table(precision), _key(OLD), old, new, NOW, ttl_delete=ttl_delete, destinations=_destinations()
    )
    (record,) = ws.stream
    return record.stream_id, record.slot, record.created_at, record.payload


def records() -> dict[str, tuple[int, int, float, bytes]]:
    return {
        "insert": _record(None, NEW),
        "modify": _record(OLD, NEW),
        "remove": _record(OLD, None),
        "ttl": _record(OLD, None, ttl_delete=True),
        "micro": _record(None, NEW, precision="MICROSECOND"),
    }


PINNED: dict[str, tuple[int, int, float, bytes]] = {
    "insert": (
        9,
        3,
        1700000000.123456,
        b'\x02\x00""AEEE3BE6F14A90F177ABC3A8C2AB4F7F"{"awsRegion":"us-east-1","eventID":"05291c0'
        b'c-7b6d-4f8f-922c-a6d3dffa6bf3","eventName":"INSERT","userIdentity":null,"recordF'
        b'ormat":"application/json","tableName":"Orders.v2","dynamodb":{"ApproximateCreati'
        b'onDateTime":1700000000123,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"NewImage":{'
        b'"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags":{"SS":["a","b"]},"m":'
        b'{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE="}]}}},'
        b'"count":{"N":"12345678901234567890"}},"SizeBytes":72},"eventSource":"aws:dynamod'
        b'b"}',
    ),
    "modify": (
        9,
        3,
        1700000000.123456,
        b'\x02\x00""AEEE3BE6F14A90F177ABC3A8C2AB4F7F"{"awsRegion":"us-east-1","eventID":"91eee77'
        b'1-d787-4df9-9593-453ee53a874a","eventName":"MODIFY","userIdentity":null,"recordF'
        b'ormat":"application/json","tableName":"Orders.v2","dynamodb":{"ApproximateCreati'
        b'onDateTime":1700000000123,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"NewImage":{'
        b'"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags":{"SS":["a","b"]},"m":'
        b'{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE="}]}}},'
        b'"count":{"N":"12345678901234567890"}},"OldImage":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7'
        b'"},"name":{"S":"old \\"quoted\\" \xe2\x98\x83"},"tags":{"SS":["a","b"]},"m":{"M":{"n":{"N":'
        b'"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE="}]}}}},"SizeBytes":13'
        b'1},"eventSource":"aws:dynamodb"}',
    ),
    "remove": (
        9,
        3,
        1700000000.123456,
        b'\x02\x00""AEEE3BE6F14A90F177ABC3A8C2AB4F7F"{"awsRegion":"us-east-1","eventID":"b789a38'
        b'9-6555-463e-85b2-e1c59078ba0c","eventName":"REMOVE","userIdentity":null,"recordF'
        b'ormat":"application/json","tableName":"Orders.v2","dynamodb":{"ApproximateCreati'
        b'onDateTime":1700000000123,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"OldImage":{'
        b'"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"old \\"quoted\\" \xe2\x98\x83"},"tags":{"SS":'
        b'["a","b"]},"m":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"'
        b'B":"AAE="}]}}}},"SizeBytes":69},"eventSource":"aws:dynamodb"}',
    ),
    "ttl": (
        9,
        3,
        1700000000.123456,
        b'\x02\x00""AEEE3BE6F14A90F177ABC3A8C2AB4F7F"{"awsRegion":"us-east-1","eventID":"b789a38'
        b'9-6555-463e-85b2-e1c59078ba0c","eventName":"REMOVE","userIdentity":{"type":"Serv'
        b'ice","principalId":"dynamodb.amazonaws.com"},"recordFormat":"application/json","'
        b'tableName":"Orders.v2","dynamodb":{"ApproximateCreationDateTime":1700000000123,"'
        b'Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"OldImage":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N"'
        b':"7"},"name":{"S":"old \\"quoted\\" \xe2\x98\x83"},"tags":{"SS":["a","b"]},"m":{"M":{"n":{"'
        b'N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE="}]}}}},"SizeBytes"'
        b':69},"eventSource":"aws:dynamodb"}',
    ),
    "micro": (
        9,
        3,
        1700000000.123456,
        b'\x02\x00""AEEE3BE6F14A90F177ABC3A8C2AB4F7F"{"awsRegion":"us-east-1","eventID":"05291c0'
        b'c-7b6d-4f8f-922c-a6d3dffa6bf3","eventName":"INSERT","userIdentity":null,"recordF'
        b'ormat":"application/json","tableName":"Orders.v2","dynamodb":{"ApproximateCreati'
        b'onDateTime":1700000000123456,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"NewImage'
        b'":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags":{"SS":["a","b"]},"'
        b'm":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE="}]}'
        b'}},"count":{"N":"12345678901234567890"}},"SizeBytes":72},"eventSource":"aws:dyna'
        b'modb"}',
    ),
}


def test_the_records_bytes_are_pinned() -> None:
    """stream id, slot (the shard open for the MD5 of the partition key's hex MD5), creation time and
    the stored payload (partition key, then the record document) of an insert, a modify (with OldImage),
    a remove, a TTL delete (userIdentity) and a record with microsecond ApproximateCreationDateTime."""
    assert records() == PINNED


def test_each_destination_gets_its_own_precision() -> None:
    """Two destinations (the most a table has) get the same record but for ApproximateCreationDateTime,
    which follows each destination's precision."""
    second = "arn:aws:kinesis:us-east-1:000000000000:stream/second"
    table = _table("MILLISECOND")
    table = table.evolve(
        kinesis=(*table.kinesis, KinesisDestination(second, "second", "ACTIVE", "MICROSECOND"))
    )
    shards = (SlotRange(0, 0, 2**128 - 1),)
    docs = [
        StreamDoc("dest", ARN, 9, "ACTIVE", "ON_DEMAND", 0.0, 24, 0, shards, shards, 1).encode(),
        StreamDoc("second", second, 10, "ACTIVE", "ON_DEMAND", 0.0, 24, 0, shards, shards, 1).encode(),
    ]
    ws = WriteSet()
    item_change(ws, table, _key(OLD), None, NEW, NOW, destinations=Destinations(docs))
    first, other = ws.stream
    assert (first.stream_id, other.stream_id) == (9, 10)
    assert b'"ApproximateCreationDateTime":1700000000123,' in first.payload
    assert b'"ApproximateCreationDateTime":1700000000123456,' in other.payload
    assert first.payload.replace(b"1700000000123,", b"1700000000123456,") == other.payload
