"""The stream record a change produces, built inside the write so it commits with it.

The stored payload is the record without the fields fixed at commit or read time (SequenceNumber,
eventID, awsRegion...): `{"dynamodb":{...},"eventName":"..."[,"userIdentity":{...}]}`, `dynamodb` first
so that `headwater.streams.records` can splice SequenceNumber in without parsing. Built as bytes from
the item encodings (the new image reuses the bytes written for the item itself).
"""

from __future__ import annotations

import orjson

from ..model.schema import TableSpec
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import ItemKey, StreamWrite
from ..streams.records import STAMP_MEMBER
from .lww import Stamp

_TTL_IDENTITY = b',"userIdentity":{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}'
NEW_VIEWS = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
OLD_VIEWS = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})


def stream_write(
    table: TableSpec,
    key: ItemKey,
    old: Item | None,
    new: Item | None,
    now: float,
    *,
    ttl_delete: bool,
    sizes: tuple[int, int] | None = None,
    new_bytes: bytes | None = None,
    old_bytes: bytes | None = None,
    stamp: Stamp | None = None,
) -> StreamWrite:
    """`sizes` (old, new item sizes), `new_bytes` and `old_bytes` (the encoded items) save recomputing
    them.

    A global table's record carries the change's stamp as a last `replication` member (`writeTime`,
    `region` of origin): what the other replicas need to apply it, and to ship only their own changes.
    GetRecords leaves it out for everyone but replication links (streams/records.py)."""
    stream_id = table.stream_id if table.stream_id is not None else 0
    view = table.stream.view_type or "KEYS_ONLY"
    source = new if new is not None else old
    keys = {name: source[name] for name in table.key.names} if source is not None else {}
    if old is None:
        event = b"INSERT"
    elif new is None:
        event = b"REMOVE"
    else:
        event = b"MODIFY"
    old_size, new_size = sizes if sizes is not None else (_size(old), _size(new))
    size = item_size(keys)
    parts = [b'{"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":%s' % (int(now), orjson.dumps(keys))]
    if new is not None and view in NEW_VIEWS:
        parts.append(b',"NewImage":' + (new_bytes if new_bytes is not None else orjson.dumps(new)))
        size += new_size
    if old is not None and view in OLD_VIEWS:
        parts.append(b',"OldImage":' + (old_bytes if old_bytes is not None else orjson.dumps(old)))
        size += old_size
    parts.append(b',"SizeBytes":%d,"StreamViewType":"%s"},"eventName":"%s"' % (size, view.encode(), event))
    if ttl_delete:
        parts.append(_TTL_IDENTITY)
    if stamp is not None:
        parts.append(STAMP_MEMBER[:-1] + orjson.dumps(stamp.to_wire()))  # last: see without_stamp
    parts.append(b"}")
    return StreamWrite(stream_id, key.h % table.stream.shards, now, b"".join(parts))


def _size(item: Item | None) -> int:
    return item_size(item) if item is not None else 0
