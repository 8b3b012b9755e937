"""Kinesis records as stored and as GetRecords answers them.

Stored payload: a version byte, an 8-byte nonce (PutRecords finds its own records by it after the commit,
to answer their sequence numbers), the partition key as a JSON string and the data. GetRecords splices
these into its JSON with the sequence number and arrival time, base64 being the only work per record.
"""

from __future__ import annotations

import base64
import struct

import orjson

_VERSION = b"\x01"
_HEAD = struct.Struct(">8sH")
NONCE_BYTES = 8
PREFIX = len(_VERSION) + NONCE_BYTES


def pack(nonce: bytes, partition_key: str, data: bytes) -> bytes:
    key = orjson.dumps(partition_key)
    return _VERSION + _HEAD.pack(nonce, len(key)) + key + data


def nonce_of(payload: bytes) -> bytes:
    return payload[1:PREFIX]


def unpack(payload: bytes) -> tuple[bytes, bytes]:
    """(the partition key as a JSON string, the data)."""
    _, size = _HEAD.unpack_from(payload, 1)
    start = 1 + _HEAD.size
    return payload[start : start + size], payload[start + size :]


def partition_key(payload: bytes) -> str:
    key: str = orjson.loads(unpack(payload)[0])
    return key


def data_size(payload: bytes) -> int:
    size: int = _HEAD.unpack_from(payload, 1)[1]
    return len(payload) - 1 - _HEAD.size - size


def render(seq_text: bytes, created_at: float, payload: bytes) -> bytes:
    key, data = unpack(payload)
    return b'{"SequenceNumber":"%s","ApproximateArrivalTimestamp":%s,"Data":"%s","PartitionKey":%s}' % (
        seq_text,
        repr(round(created_at, 3)).encode(),
        base64.b64encode(data),
        key,
    )
