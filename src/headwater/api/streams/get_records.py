"""GetRecords: answered as pre-rendered bytes (the hot path of every stream reader)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ValidationException
from ...streams.records import REPLICATION_ORIGIN, REPLICATION_STAMPS

MAX_ORIGIN = 64  # characters of a region name in REPLICATION_ORIGIN


async def handle(db: Database, request: dict[str, Any]) -> bytes:
    stamps = request.get(REPLICATION_STAMPS) is True  # a replication link (Headwater's own members)
    origin = request.get(REPLICATION_ORIGIN) if stamps else None
    if origin is not None and (not isinstance(origin, str) or not 0 < len(origin) <= MAX_ORIGIN):
        raise ValidationException(
            f"{REPLICATION_ORIGIN} must be a region name of at most {MAX_ORIGIN} characters"
        )
    limit = request.get("Limit") or 1000
    return await db.streams.get_records(request["ShardIterator"], limit, stamps=stamps, origin=origin)
