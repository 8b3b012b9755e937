"""Shard iterators: stateless tokens `<stream arn>|001|<base64 body + HMAC>`.

The body carries the stream id, the shard (slot and lower boundary), the next sequence number to read
and the issue time; the HMAC (a per-database secret) makes them unforgeable, so nothing is kept
server-side. They expire 15 minutes after issue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from ..errors import ExpiredIteratorException, ValidationException

EXPIRY_SECONDS = 15 * 60
MAX_LENGTH = 2048
_BODY = struct.Struct(">QhqqQ")  # stream_id, slot, lo, pos, issued (ms)
_MAC_BYTES = 16
_VERSION = "001"


@dataclass(frozen=True, slots=True)
class Position:
    stream_id: int
    slot: int
    lo: int  # identifies the shard within its slot
    pos: int  # the next sequence number to read
    issued_ms: int


def _mac(secret: bytes, arn: bytes, body: bytes) -> bytes:
    return hmac.new(secret, arn + b"|" + body, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(secret: bytes, arn: str, position: Position) -> str:
    body = _BODY.pack(position.stream_id, position.slot, position.lo, position.pos, position.issued_ms)
    token = base64.b64encode(body + _mac(secret, arn.encode(), body)).decode("ascii")
    return f"{arn}|{_VERSION}|{token}"


def decode(secret: bytes, text: str, now: float) -> tuple[str, Position]:
    """(stream arn, position); ValidationException if forged or malformed, ExpiredIterator if old."""
    parts = text.rsplit("|", 2)
    if len(parts) != 3 or parts[1] != _VERSION or len(text) > MAX_LENGTH:
        raise ValidationException("Invalid ShardIterator")
    arn, _, token = parts
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationException("Invalid ShardIterator") from None
    if len(raw) != _BODY.size + _MAC_BYTES:
        raise ValidationException("Invalid ShardIterator")
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(mac, _mac(secret, arn.encode(), body)):
        raise ValidationException("Invalid ShardIterator")
    position = Position(*_BODY.unpack(body))
    if now * 1000 - position.issued_ms > EXPIRY_SECONDS * 1000:
        raise ExpiredIteratorException("Iterator expired. The iterator was created more than 15 minutes ago.")
    return arn, position
