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

import hashlib
from collections.abc import Iterable, Sequence

import orjson

from ..kinesis.docs import ACTIVE_STATES, StreamDoc, doc_key
from ..kinesis.hashing import hash_key
from ..kinesis.records import pack
from ..model.schema import TableSpec
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import ItemKey, StreamWrite, WriteSet

_TTL_IDENTITY = b'{"type":"Service","principalId":"dynamodb.amazonaws.com"}'


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
    ) -> None:
        data: bytes | None = None
        for destination in table.kinesis:
            if not destination.capturing:
                continue
            doc = self._docs.get(destination.stream_arn)
            if doc is None or doc.status not in ACTIVE_STATES:
                continue  # the stream is gone: DescribeKinesisStreamingDestination says so
            if data is None:
                data = _document(
                    table, key, old, new, now, ttl_delete, sizes, new_json, destination.precision
                )
                partition_key = hashlib.md5(key.pk).hexdigest().upper()
                payload = pack(partition_key, data)
                hashed = hash_key(partition_key)
            ws.stream.append(StreamWrite(doc.stream_id, doc.route(hashed), now, payload))


def _uuid4_text(digest: bytes) -> bytes:
    """What str(uuid.UUID(bytes=digest, version=4)) gives, at half the cost (a put builds one)."""
    b = bytearray(digest)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex().encode()
    return b"%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def capturing(table: TableSpec) -> bool:
    return any(d.capturing for d in table.kinesis)


def _document(
    table: TableSpec,
    key: ItemKey,
    old: Item | None,
    new: Item | None,
    now: float,
    ttl_delete: bool,
    sizes: tuple[int, int],
    new_json: bytes | None,
    precision: str,
) -> bytes:
    source = new if new is not None else old
    keys = {name: source[name] for name in table.key.names} if source is not None else {}
    event = b"INSERT" if old is None else b"REMOVE" if new is None else b"MODIFY"
    stamp = int(now * 1_000_000) if precision == "MICROSECOND" else int(now * 1000)
    seed = b"%d|%d|%s|%s|%r|%s" % (table.table_id, key.h, key.pk, key.sk, now, event)
    event_id = _uuid4_text(hashlib.blake2b(seed, digest_size=16).digest())
    region = table.namespace.region
    size = item_size(keys) + sizes[0] * (old is not None) + sizes[1] * (new is not None)
    parts = [
        b'{"awsRegion":"%s","eventID":"%s","eventName":"%s","userIdentity":%s,'
        % (region.encode(), event_id, event, _TTL_IDENTITY if ttl_delete else b"null"),
        b'"recordFormat":"application/json","tableName":%s,' % orjson.dumps(table.name),
        b'"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":%s' % (stamp, orjson.dumps(keys)),
    ]
    if new is not None:
        parts.append(b',"NewImage":' + (new_json if new_json is not None else orjson.dumps(new)))
    if old is not None:
        parts.append(b',"OldImage":' + orjson.dumps(old))
    parts.append(b',"SizeBytes":%d},"eventSource":"aws:dynamodb"}' % size)
    return b"".join(parts)
