"""DynamoDB Streams' shard iterators: `<stream arn>|001|<token>` (a log-layer token bound to the ARN),
at most 2048 characters, expiring 15 minutes after issue."""

from __future__ import annotations

from ..errors import ExpiredIteratorException, ValidationException
from ..shardlog import tokens
from ..shardlog.tokens import Position

EXPIRY_SECONDS = 15 * 60
MAX_LENGTH = 2048
_VERSION = "001"

__all__ = ["Position", "decode", "encode", "iterator_arn"]


def encode(secret: bytes, arn: str, position: Position) -> str:
    return f"{arn}|{_VERSION}|{tokens.encode(secret, arn.encode(), position)}"


def iterator_arn(text: str) -> str | None:
    """The stream ARN an iterator names (unverified: GetRecords verifies it), for routing the call."""
    parts = text.rsplit("|", 2)
    return parts[0] if len(parts) == 3 else None


def decode(secret: bytes, text: str, now: float) -> tuple[str, Position]:
    """(stream arn, position); ValidationException if forged or malformed, ExpiredIterator if old."""
    parts = text.rsplit("|", 2)
    if len(parts) != 3 or parts[1] != _VERSION or len(text) > MAX_LENGTH:
        raise ValidationException("Invalid ShardIterator")
    arn, _, token = parts
    try:
        position = tokens.decode(secret, arn.encode(), token)
    except tokens.InvalidToken:
        raise ValidationException("Invalid ShardIterator") from None
    if tokens.expired(position, now, EXPIRY_SECONDS):
        raise ExpiredIteratorException("Iterator expired. The iterator was created more than 15 minutes ago.")
    return arn, position
