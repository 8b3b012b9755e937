"""Kinesis Data Streams for DynamoDB: a table's change as a record of its Kinesis destinations, appended
in the same WriteSet as the item change (so it commits with the write, in order per item, and is never
lost or written twice: no outbox, nothing to ship later).

The writer reads each destination stream's document with the operation (see kinesis/docs.py), so the
record goes to the shard that is open for its hash key when the write commits. The record is the one AWS
documents: awsRegion, eventID, eventName, userIdentity, recordFormat, tableName, dynamodb
{ApproximateCreationDateTime (ms or µs), Keys, NewImage, OldImage, SizeBytes}, eventSource; both images
whatever the table's stream view type; the Kinesis partition key is the hex MD5 of the item's partition
key, so every change of an item goes to one shard.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence

import orjson

from ..kinesis.docs import ACTIVE_STATES, StreamDoc, doc_key
from ..kinesis.hashing import hash_key_of, hex_digest
from ..kinesis.records import DYNAMODB_HEAD, EVENTS
from ..model.schema import TableSpec
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import ItemKey, StreamWrite, WriteSet


def destination_keys(tables: Iterable[TableSpec]) -> tuple[ItemKey, ...]:
    """The documents of the Kinesis streams the given tables capture to (distinct, first-seen order)."""
    seen: dict[ItemKey, None] = {}
    for table in tables:
        for destination in table.kinesis:
            if destination.capturing:
                seen.setdefault(doc_key(table.namespace, destination.stream_name))
    return tuple(seen)


class Destinations:
    """The destination streams' documents as the writer read them, by stream ARN."""

    def __init__(self, olds: Sequence[bytes | None]) -> None:
        docs = (StreamDoc.decode(old) for old in olds if old is not None)
        self._docs = {doc.arn: doc for doc in docs}

    @staticmethod
    def of(olds: Sequence[bytes | None]) -> Destinations:
        """The Destinations of these documents, made once for them: a group's writes read one bytes
        object of each document (storage/sqlite/writes.GroupReads), and a Destinations is never changed."""
        return _destinations(tuple(olds))

    def append(
        self,
        ws: WriteSet,
        table: TableSpec,
        key: ItemKey,
        old: Item | None,
        new: Item | None,
        now: float,
        *,
        ttl_delete: bool,
        sizes: tuple[int, int],
        new_json: bytes | None,
        old_json: bytes | None = None,
    ) -> None:
        """`new_json` and `old_json` are the images' encodings when the caller has them (the item's own
        bytes, the DynamoDB stream record's): no image is encoded twice for one change."""
        record: _Record | None = None
        for destination in table.kinesis:
            if destination.status not in ACTIVE_STATES:  # not capturing
                continue
            doc = self._docs.get(destination.stream_arn)
            if doc is None or doc.status not in ACTIVE_STATES:
                continue  # the stream is gone: DescribeKinesisStreamingDestination says so
            if record is None:
                record = _record(table, key, old, new, now, ttl_delete, sizes, new_json, old_json)
            form, head, parts, hashed = record
            # ApproximateCreationDateTime: the one part that may differ between destinations
            stamp = int(now * 1_000_000) if destination.precision == "MICROSECOND" else int(now * 1000)
            ws.stream.append(StreamWrite(doc.stream_id, doc.route(hashed), now, form % (head, stamp, *parts)))


_EVENT_NAMES = {letter: name for letter, (name, _) in EVENTS.items()}


@functools.lru_cache(maxsize=256)
def _destinations(olds: tuple[bytes | None, ...]) -> Destinations:
    return Destinations(olds)


# a change's record for every destination: the stored payload's form (by which images it has), its parts
# before ApproximateCreationDateTime's value and after it, and the partition key's hash key
_Record = tuple[bytes, bytes, tuple[bytes | int, ...], int]

# the stored (version 3) payload after ApproximateCreationDateTime's value: Keys' value, the images,
# SizeBytes' value
_INSERT = b'%s%d\0%s,"NewImage":%s,"SizeBytes":%d'
_MODIFY = b'%s%d\0%s,"NewImage":%s,"OldImage":%s,"SizeBytes":%d'
_REMOVE = b'%s%d\0%s,"OldImage":%s,"SizeBytes":%d'
_NEITHER = b'%s%d\0%s,"SizeBytes":%d'  # (no change has neither image; kept total)


@functools.lru_cache(maxsize=1024)
def _framing(region: str, table_name: str) -> bytes:
    """A table's records' constant fields, as a stored (version 3) record holds them."""
    return b"%s\0%s\0" % (region.encode(), orjson.dumps(table_name))


def _record(
    table: TableSpec,
    key: ItemKey,
    old: Item | None,
    new: Item | None,
    now: float,
    ttl_delete: bool,
    sizes: tuple[int, int],
    new_json: bytes | None,
    old_json: bytes | None,
) -> _Record:
    """One change's record for every destination, in as few steps as it takes (a put into a table with
    a destination builds one): stored as kinesis/records.py's version 3 (the document's constant framing
    filled in when it is read), the images' encodings spliced in as they are, each destination's payload
    made by one formatting."""
    source = new if new is not None else old
    keys = {name: source[name] for name in table.key.names} if source is not None else {}
    event = b"I" if old is None else (b"T" if ttl_delete else b"R") if new is None else b"M"
    seed = b"%d|%d|%s|%s|%r|%s" % (table.table_id, key.h, key.pk, key.sk, now, _EVENT_NAMES[event])
    size = item_size(keys)
    keys_json = orjson.dumps(keys)
    form = _NEITHER
    parts: tuple[bytes | int, ...]
    if new is not None:
        new_image = new_json if new_json is not None else orjson.dumps(new)
        if old is not None:
            old_image = old_json if old_json is not None else orjson.dumps(old)
            form, parts = _MODIFY, (keys_json, new_image, old_image, size + sizes[0] + sizes[1])
        else:
            form, parts = _INSERT, (keys_json, new_image, size + sizes[1])
    elif old is not None:
        old_image = old_json if old_json is not None else orjson.dumps(old)
        form, parts = _REMOVE, (keys_json, old_image, size + sizes[0])
    else:
        parts = (keys_json, size)
    # the Kinesis partition key: the hex MD5 of the item's partition key, so an item's changes share a
    # shard
    partition_key = hex_digest(key.pk)
    head = b'%s%s"%s%s\0%s\0' % (
        DYNAMODB_HEAD,
        partition_key,
        _framing(table.namespace.region, table.name),
        _uuid4_text(hashlib.blake2b(seed, digest_size=16).digest()),
        event,
    )
    return form, head, parts, hash_key_of(partition_key)


def _uuid4_text(digest: bytes) -> bytes:
    """What str(uuid.UUID(bytes=digest, version=4)) gives, at a fraction of the cost (a change builds
    one): the version nibble set to 4, the variant's two bits to 10."""
    h = digest.hex().encode()
    variant = b"89ab"[digest[8] >> 4 & 3]
    return b"%s-%s-4%s-%c%s-%s" % (h[:8], h[8:12], h[13:16], variant, h[17:20], h[20:])


def capturing(table: TableSpec) -> bool:
    return any(d.capturing for d in table.kinesis)
