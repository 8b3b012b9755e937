"""GetRecords: answered as pre-rendered bytes (the hot path of every stream reader)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database


async def handle(db: Database, request: dict[str, Any]) -> bytes:
    return await db.streams.get_records(request["ShardIterator"], request.get("Limit") or 1000)
