"""How an item (or an index entry) is kept in storage: its DynamoDB size, then its wire JSON.

Storage treats these bytes as opaque. Keeping the size beside the JSON means that nothing sizes an item
twice: reads (1 MB pages, capacity units) and the writer (the old item's size) take it from the header,
and a page that needs no filter or projection passes the JSON through without decoding it.
"""

from __future__ import annotations

import struct

import orjson

from ..model.values import Item

_HEADER = struct.Struct("<I")
HEADER_SIZE = _HEADER.size


def pack(item: Item, size: int) -> bytes:
    return _HEADER.pack(size) + orjson.dumps(item)


def pack_json(json: bytes, size: int) -> bytes:
    return _HEADER.pack(size) + json


def size_of(data: bytes) -> int:
    size: int = _HEADER.unpack_from(data)[0]
    return size


def json_of(data: bytes) -> bytes:
    return data[HEADER_SIZE:]


def unpack(data: bytes) -> Item:
    item: Item = orjson.loads(memoryview(data)[HEADER_SIZE:])
    return item


def unpack_optional(data: bytes | None) -> tuple[Item | None, int]:
    """(item, size) of a stored value, or (None, 0) when there is none."""
    if data is None:
        return None, 0
    return unpack(data), size_of(data)
