"""GetRecords: answered as pre-rendered bytes (the hot path of every stream reader)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...streams.records import REPLICATION_STAMPS


async def handle(db: Database, request: dict[str, Any]) -> bytes:
    stamps = request.get(REPLICATION_STAMPS) is True  # a replication link (Headwater's own member)
    return await db.streams.get_records(request["ShardIterator"], request.get("Limit") or 1000, stamps=stamps)
