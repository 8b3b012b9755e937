"""Kinesis records as stored and as GetRecords answers them.

Stored payload: a version byte, the partition key's length, the partition key as a JSON string and the
data. GetRecords splices these into its JSON with the sequence number and arrival time, base64 being the
only work per record. Version 1 (written before the writer told PutRecords its sequence numbers) also
held an 8-byte nonce after the version byte; it is still read.
"""

from __future__ import annotations

import base64
import struct

import orjson

_VERSION = 2
_VERSION_BYTE = bytes((_VERSION,))
_KEY_SIZE = struct.Struct(">H")
_KEY_AT = {1: 9, 2: 1}  # where the key's length is, by version (version 1: after its nonce)


def pack(partition_key: str, data: bytes) -> bytes:
    return header(partition_key) + data


def header(partition_key: str) -> bytes:
    """What a stored payload holds before its data."""
    key = orjson.dumps(partition_key)
    return _VERSION_BYTE + _KEY_SIZE.pack(len(key)) + key


def unpack(payload: bytes) -> tuple[bytes, bytes]:
    """(the partition key as a JSON string, the data)."""
    at = _KEY_AT[payload[0]]
    (size,) = _KEY_SIZE.unpack_from(payload, at)
    start = at + _KEY_SIZE.size
    return payload[start : start + size], payload[start + size :]


def partition_key(payload: bytes) -> str:
    key: str = orjson.loads(unpack(payload)[0])
    return key


def data_size(payload: bytes) -> int:
    at = _KEY_AT[payload[0]]
    size: int = _KEY_SIZE.unpack_from(payload, at)[0]
    return len(payload) - at - _KEY_SIZE.size - size


def render(seq_text: bytes, created_at: float, payload: bytes) -> bytes:
    key, data = unpack(payload)
    return b'{"SequenceNumber":"%s","ApproximateArrivalTimestamp":%s,"Data":"%s","PartitionKey":%s}' % (
        seq_text,
        repr(round(created_at, 3)).encode(),
        base64.b64encode(data),
        key,
    )
