"""The exact bytes of a table's Kinesis records (core/kinesis_capture.py), pinned as a reader receives them
(GetRecords' Data and PartitionKey), so a change to how the record is built or stored must not change one
of them; and the stored form, which leaves the document's constant framing out (kinesis/records.py)."""

from __future__ import annotations

from typing import Literal

import orjson

from headwater.core.changes import item_change
from headwater.core.kinesis_capture import Destinations
from headwater.kinesis.docs import StreamDoc
from headwater.kinesis.hashing import uniform_ranges
from headwater.kinesis.records import data_size, pack, partition_key, render, unpack
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


def stored() -> dict[str, tuple[int, int, float, bytes]]:
    return {
        "insert": _record(None, NEW),
        "modify": _record(OLD, NEW),
        "remove": _record(OLD, None),
        "ttl": _record(OLD, None, ttl_delete=True),
        "micro": _record(None, NEW, precision="MICROSECOND"),
    }


PINNED: dict[str, tuple[int, int, float, bytes, bytes]] = {
    "insert": (
        9,
        3,
        1700000000.123456,
        b'"AEEE3BE6F14A90F177ABC3A8C2AB4F7F"',
        b'{"awsRegion":"us-east-1","eventID":"05291c0c-7b6d-4f8f-922c-a6d3dffa6bf3'
        b'","eventName":"INSERT","userIdentity":null,"recordFormat":"application/j'
        b'son","tableName":"Orders.v2","dynamodb":{"ApproximateCreationDateTime":1'
        b'700000000123,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"NewImage":{"pk":'
        b'{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags":{"SS":["a","b"]},"'
        b'm":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"'
        b'AAE="}]}}},"count":{"N":"12345678901234567890"}},"SizeBytes":72},"eventS'
        b'ource":"aws:dynamodb"}',
    ),
    "modify": (
        9,
        3,
        1700000000.123456,
        b'"AEEE3BE6F14A90F177ABC3A8C2AB4F7F"',
        b'{"awsRegion":"us-east-1","eventID":"91eee771-d787-4df9-9593-453ee53a874a'
        b'","eventName":"MODIFY","userIdentity":null,"recordFormat":"application/j'
        b'son","tableName":"Orders.v2","dynamodb":{"ApproximateCreationDateTime":1'
        b'700000000123,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"NewImage":{"pk":'
        b'{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags":{"SS":["a","b"]},"'
        b'm":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"'
        b'AAE="}]}}},"count":{"N":"12345678901234567890"}},"OldImage":{"pk":{"S":"'
        b'\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"old \\"quoted\\" \xe2\x98\x83"},"tags":{"SS":["a'
        b'","b"]},"m":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":tru'
        b'e},{"B":"AAE="}]}}}},"SizeBytes":131},"eventSource":"aws:dynamodb"}',
    ),
    "remove": (
        9,
        3,
        1700000000.123456,
        b'"AEEE3BE6F14A90F177ABC3A8C2AB4F7F"',
        b'{"awsRegion":"us-east-1","eventID":"b789a389-6555-463e-85b2-e1c59078ba0c'
        b'","eventName":"REMOVE","userIdentity":null,"recordFormat":"application/j'
        b'son","tableName":"Orders.v2","dynamodb":{"ApproximateCreationDateTime":1'
        b'700000000123,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"OldImage":{"pk":'
        b'{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"old \\"quoted\\" \xe2\x98\x83"},"tags":{"S'
        b'S":["a","b"]},"m":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NUL'
        b'L":true},{"B":"AAE="}]}}}},"SizeBytes":69},"eventSource":"aws:dynamodb"}',
    ),
    "ttl": (
        9,
        3,
        1700000000.123456,
        b'"AEEE3BE6F14A90F177ABC3A8C2AB4F7F"',
        b'{"awsRegion":"us-east-1","eventID":"b789a389-6555-463e-85b2-e1c59078ba0c'
        b'","eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"d'
        b'ynamodb.amazonaws.com"},"recordFormat":"application/json","tableName":"O'
        b'rders.v2","dynamodb":{"ApproximateCreationDateTime":1700000000123,"Keys"'
        b':{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"OldImage":{"pk":{"S":"\xc3\xbc-1"},"sk":{'
        b'"N":"7"},"name":{"S":"old \\"quoted\\" \xe2\x98\x83"},"tags":{"SS":["a","b"]},"m":{'
        b'"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B":"AAE='
        b'"}]}}}},"SizeBytes":69},"eventSource":"aws:dynamodb"}',
    ),
    "micro": (
        9,
        3,
        1700000000.123456,
        b'"AEEE3BE6F14A90F177ABC3A8C2AB4F7F"',
        b'{"awsRegion":"us-east-1","eventID":"05291c0c-7b6d-4f8f-922c-a6d3dffa6bf3'
        b'","eventName":"INSERT","userIdentity":null,"recordFormat":"application/j'
        b'son","tableName":"Orders.v2","dynamodb":{"ApproximateCreationDateTime":1'
        b'700000000123456,"Keys":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"}},"NewImage":{"p'
        b'k":{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags":{"SS":["a","b"]'
        b'},"m":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},{"NULL":true},{"B'
        b'":"AAE="}]}}},"count":{"N":"12345678901234567890"}},"SizeBytes":72},"eve'
        b'ntSource":"aws:dynamodb"}',
    ),
}

# the insert as stored: version 3, the framing left out (kinesis/records.py)
STORED_INSERT = (
    b'\x03\x00""AEEE3BE6F14A90F177ABC3A8C2AB4F7F"us-east-1\x00"Orders.v2"\x0005291c0c-7b6d'
    b'-4f8f-922c-a6d3dffa6bf3\x00I\x001700000000123\x00{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"'
    b'}},"NewImage":{"pk":{"S":"\xc3\xbc-1"},"sk":{"N":"7"},"name":{"S":"new"},"tags'
    b'":{"SS":["a","b"]},"m":{"M":{"n":{"N":"-1.5E3"},"l":{"L":[{"BOOL":true},'
    b'{"NULL":true},{"B":"AAE="}]}}},"count":{"N":"12345678901234567890"}},"Si'
    b'zeBytes":72'
)


def test_the_records_bytes_are_pinned() -> None:
    """stream id, slot (the shard open for the MD5 of the partition key's hex MD5), creation time, the
    partition key and the record document a reader gets, of an insert, a modify (with OldImage), a
    remove, a TTL delete (userIdentity) and a record with microsecond ApproximateCreationDateTime."""
    read = {name: (*record[:3], *unpack(record[3])) for name, record in stored().items()}
    assert read == PINNED


def test_a_record_is_stored_without_its_framing() -> None:
    assert stored()["insert"][3] == STORED_INSERT


def test_records_stored_before_the_framing_was_left_out_read_the_same() -> None:
    """A data directory's records of a table's changes stored whole (version 2) render as they did, and
    as the same change stored now does."""
    for name, (_, _, created_at, payload) in stored().items():
        key, data = PINNED[name][3:]
        whole = pack(orjson.loads(key), data)
        assert whole[0] == 2
        assert render(b"49", created_at, whole) == render(b"49", created_at, payload)
        assert unpack(whole) == (key, data)
        assert (partition_key(whole), data_size(whole)) == (partition_key(payload), data_size(payload))


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
    (_, one), (_, two) = unpack(first.payload), unpack(other.payload)
    assert b'"ApproximateCreationDateTime":1700000000123,' in one
    assert b'"ApproximateCreationDateTime":1700000000123456,' in two
    assert one.replace(b"1700000000123,", b"1700000000123456,") == two
