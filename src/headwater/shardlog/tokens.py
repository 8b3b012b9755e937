"""Stateless shard iterator tokens: base64 of a position and its HMAC.

The body carries the log's stream id, the shard (slot and lower boundary), the next sequence number to
read and the issue time; the HMAC (a per-database secret, over a dialect's context as well) makes them
unforgeable, so nothing is kept server-side. Each dialect decides the expiry and wraps the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

_BODY = struct.Struct(">QhqqQ")  # stream_id, slot, lo, pos, issued (ms)
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class Position:
    stream_id: int
    slot: int
    lo: int  # identifies the shard within its slot
    pos: int  # the next sequence number to read
    issued_ms: int


class InvalidToken(ValueError):
    """Forged, truncated or not a token at all."""


def _mac(secret: bytes, context: bytes, body: bytes) -> bytes:
    return hmac.new(secret, context + b"|" + body, hashlib.sha256).digest()[:_MAC_BYTES]


SEALED_BYTES = _BODY.size + _MAC_BYTES


def seal(secret: bytes, context: bytes, position: Position) -> bytes:
    body = _BODY.pack(position.stream_id, position.slot, position.lo, position.pos, position.issued_ms)
    return body + _mac(secret, context, body)


def unseal(secret: bytes, context: bytes, raw: bytes) -> Position:
    if len(raw) != SEALED_BYTES:
        raise InvalidToken(raw.hex())
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    if not hmac.compare_digest(mac, _mac(secret, context, body)):
        raise InvalidToken(raw.hex())
    return Position(*_BODY.unpack(body))


def encode(secret: bytes, context: bytes, position: Position) -> str:
    return base64.b64encode(seal(secret, context, position)).decode("ascii")


def decode(secret: bytes, context: bytes, token: str) -> Position:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidToken(token) from None
    return unseal(secret, context, raw)


def expired(position: Position, now: float, seconds: float) -> bool:
    return now * 1000 - position.issued_ms > seconds * 1000
