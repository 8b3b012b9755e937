"""What several Kinesis operations share: finding the stream a request names, describing streams and
shards, and Kinesis's own input checks the model does not carry."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ...core.database import Database
from ...kinesis.docs import StreamDoc
from ...kinesis.errors import InvalidArgumentException, ValidationException
from ...kinesis.hashing import MAX_HASH_KEY, hash_key

MAX_RECORD_BYTES = 1024 * 1024


def stream(db: Database, request: dict[str, Any]) -> StreamDoc:
    service = db.kinesis
    return service.require(service.name_of(request))


def summary(doc: StreamDoc) -> dict[str, Any]:
    return {
        "StreamName": doc.name,
        "StreamARN": doc.arn,
        "StreamStatus": doc.status,
        "StreamModeDetails": {"StreamMode": doc.mode},
        "StreamCreationTimestamp": doc.created_at,
    }


def description_base(doc: StreamDoc) -> dict[str, Any]:
    return {
        **summary(doc),
        "RetentionPeriodHours": doc.retention_hours,
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "EncryptionType": "NONE",
    }


def data_of(raw: str, path: str) -> bytes:
    """A record's Data, base64-decoded (the shape checker has seen it is base64), at most 1 MiB."""
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        from ...kinesis.errors import SerializationException

        raise SerializationException("Invalid Base64 character in value") from None
    if len(data) > MAX_RECORD_BYTES:
        raise ValidationException(
            f"1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim={len(data)} "
            f"cap={len(data)}]' at '{path}' failed to satisfy constraint: Member must have length less than "
            f"or equal to {MAX_RECORD_BYTES}"
        )
    return data


def hash_of(partition_key: str, explicit: str | None) -> int:
    if explicit is None:
        return hash_key(partition_key)
    value = int(explicit)
    if value > MAX_HASH_KEY:
        raise InvalidArgumentException(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {explicit}"
        )
    return value


def retention_hours(value: int) -> int:
    if value < 24:
        raise InvalidArgumentException(
            "Minimum allowed retention period is 24 hours. "
            f"Requested retention period ({value} hours) is too short."
        )
    if value > 8760:
        raise InvalidArgumentException(
            "Maximum allowed retention period is 8760 hours. "
            f"Requested retention period ({value} hours) is too long."
        )
    return value
