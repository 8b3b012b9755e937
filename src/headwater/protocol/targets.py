"""Parse the `X-Amz-Target` header into (service, operation)."""

from __future__ import annotations

import functools
from typing import Final

from headwater.errors import UnknownOperationException
from headwater.protocol.service import DAX, DYNAMODB, KINESIS, STREAMS, load_service

PREFIXES: Final = {
    "DynamoDB_20120810": DYNAMODB,
    "DynamoDBStreams_20120810": STREAMS,
    "Kinesis_20131202": KINESIS,
    "AmazonDAXV3": DAX,
}
JSON_10: Final = b"application/x-amz-json-1.0"
# Kinesis and DAX speak AWS JSON 1.1 (the same JSON, another content type); DynamoDB and Streams JSON 1.0
CONTENT_TYPES: Final = {
    b"Kinesis_20131202": b"application/x-amz-json-1.1",
    b"AmazonDAXV3": b"application/x-amz-json-1.1",
}


@functools.lru_cache(maxsize=512)
def _parse(target: str) -> tuple[str, str] | None:
    prefix, dot, operation = target.partition(".")
    service = PREFIXES.get(prefix)
    if not dot or service is None or not load_service(service).has_operation(operation):
        return None
    return service, operation


def parse_target(target: str | None) -> tuple[str, str]:
    """`DynamoDB_20120810.PutItem` -> ("dynamodb", "PutItem"); anything unknown -> UnknownOperationException.

    The real service answers a missing, malformed or unknown target with a bare
    `com.amazon.coral.service#UnknownOperationException` (HTTP 400, no message).
    """
    found = _parse(target) if target else None
    if found is None:
        raise UnknownOperationException()
    return found


def content_type(target: bytes | None) -> bytes:
    """The response content type for a request's `X-Amz-Target` header (JSON 1.0 unless Kinesis or DAX)."""
    if target is None:
        return JSON_10
    return CONTENT_TYPES.get(target.partition(b".")[0], JSON_10)
