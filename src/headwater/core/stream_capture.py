"""The stream record a change produces, built inside the write so it commits with it.

The stored payload is the record without the fields fixed at commit or read time (SequenceNumber,
eventID, eventSourceARN); `headwater.streams.records` renders the wire record from it.
"""

from __future__ import annotations

import orjson

from ..model.schema import TableSpec
from ..model.size import item_size
from ..model.values import Item
from ..storage.base import ItemKey, StreamWrite


def stream_write(
    table: TableSpec, key: ItemKey, old: Item | None, new: Item | None, now: float, *, ttl_delete: bool
) -> StreamWrite:
    assert table.stream_id is not None  # callers check; a programming error otherwise
    view = table.stream.view_type or "KEYS_ONLY"
    source = new if new is not None else old
    assert source is not None
    keys = {name: source[name] for name in table.key.names}
    event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    dynamodb: dict[str, object] = {"ApproximateCreationDateTime": int(now), "Keys": keys}
    size = item_size(keys)
    if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        dynamodb["NewImage"] = new
        size += item_size(new)
    if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        dynamodb["OldImage"] = old
        size += item_size(old)
    dynamodb["SizeBytes"] = size
    dynamodb["StreamViewType"] = view
    payload: dict[str, object] = {"eventName": event, "dynamodb": dynamodb}
    if ttl_delete:
        payload["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    return StreamWrite(table.stream_id, key.h % table.stream.shards, now, orjson.dumps(payload))
