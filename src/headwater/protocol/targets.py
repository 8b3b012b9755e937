"""Parse the `X-Amz-Target` header into (service, operation)."""

from __future__ import annotations

import functools
from typing import Final

from headwater.errors import UnknownOperationException
from headwater.protocol.service import DYNAMODB, STREAMS, load_service

PREFIXES: Final = {"DynamoDB_20120810": DYNAMODB, "DynamoDBStreams_20120810": STREAMS}


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
