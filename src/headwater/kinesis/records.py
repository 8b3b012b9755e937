"""Kinesis records as stored and as GetRecords answers them.

Stored payload: a version byte, the partition key's length, the partition key as a JSON string and the
data. GetRecords splices these into its JSON with the sequence number and arrival time, base64 being the
only work per record. Version 1 (written before the writer told PutRecords its sequence numbers) also
held an 8-byte nonce after the version byte; it is still read.

Version 3 is a table's change record (core/kinesis_capture.py) stored without its document's constant
framing (field names, recordFormat, eventSource: a third of a small item's record, and SQLite's cost of a
row follows its bytes): NUL-separated awsRegion, tableName (JSON), eventID, a letter for eventName and
userIdentity, ApproximateCreationDateTime, then the document from the Keys' value to SizeBytes'. Reading
fills the framing back in with one bytes formatting; a reader receives the same bytes as from version 2,
which tables' records were stored as before (and are still read as they are).
"""

from __future__ import annotations

import base64
import struct

import orjson

_VERSION = 2
_VERSION_BYTE = bytes((_VERSION,))
_DYNAMODB = 3
_KEY_SIZE = struct.Struct(">H")
_KEY_AT = {1: 9, 2: 1, 3: 1}  # where the key's length is, by version (version 1: after its nonce)
SEPARATOR = b"\x00"  # JSON text holds no raw NUL (orjson escapes it), nor do regions and table names
_TTL_IDENTITY = b'{"type":"Service","principalId":"dynamodb.amazonaws.com"}'
# a version 3 record's letter: (eventName, userIdentity)
EVENTS = {b"I": (b"INSERT", b"null"), b"M": (b"MODIFY", b"null"), b"R": (b"REMOVE", b"null")}
EVENTS[b"T"] = (b"REMOVE", _TTL_IDENTITY)  # a TTL delete
_DOCUMENT = (
    b'{"awsRegion":"%s","eventID":"%s","eventName":"%s","userIdentity":%s,"recordFormat":"application/json",'
    b'"tableName":%s,"dynamodb":{"ApproximateCreationDateTime":%s,"Keys":%s},"eventSource":"aws:dynamodb"}'
)


def pack(partition_key: str, data: bytes) -> bytes:
    return header(partition_key) + data


def header(partition_key: str) -> bytes:
    """What a stored payload holds before its data."""
    key = orjson.dumps(partition_key)
    return _VERSION_BYTE + _KEY_SIZE.pack(len(key)) + key


# a version 3 record's header up to its partition key's text (always 32 hex digits: an MD5)
DYNAMODB_HEAD = bytes((_DYNAMODB,)) + _KEY_SIZE.pack(34) + b'"'


def _document(framed: bytes) -> bytes:
    """A version 3 record's document, as AWS documents it."""
    region, table, event_id, event, stamp, rest = framed.split(SEPARATOR, 5)
    name, identity = EVENTS[event]
    return _DOCUMENT % (region, event_id, name, identity, table, stamp, rest)


def unpack(payload: bytes) -> tuple[bytes, bytes]:
    """(the partition key as a JSON string, the data)."""
    version = payload[0]
    at = _KEY_AT[version]
    (size,) = _KEY_SIZE.unpack_from(payload, at)
    start = at + _KEY_SIZE.size
    data = payload[start + size :]
    return payload[start : start + size], _document(data) if version == _DYNAMODB else data


def partition_key(payload: bytes) -> str:
    at = _KEY_AT[payload[0]]
    (size,) = _KEY_SIZE.unpack_from(payload, at)
    start = at + _KEY_SIZE.size
    key: str = orjson.loads(payload[start : start + size])
    return key


def data_size(payload: bytes) -> int:
    return len(unpack(payload)[1])


def render(seq_text: bytes, created_at: float, payload: bytes) -> bytes:
    key, data = unpack(payload)
    return b'{"SequenceNumber":"%s","ApproximateArrivalTimestamp":%s,"Data":"%s","PartitionKey":%s}' % (
        seq_text,
        repr(round(created_at, 3)).encode(),
        base64.b64encode(data),
        key,
    )
