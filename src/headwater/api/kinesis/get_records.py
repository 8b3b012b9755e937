"""GetRecords: up to Limit (10,000) records or 10 MB of one shard, MillisBehindLatest, and ChildShards
once a closed shard is read to its end (then no NextShardIterator)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database


async def handle(db: Database, request: dict[str, Any]) -> bytes:
    return await db.kinesis_reader.get_records(request["ShardIterator"], request.get("Limit") or 10000)
