"""DescribeStream."""

from __future__ import annotations

from typing import Any

from ...core.database import Database


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    shard_filter = request.get("ShardFilter") or {}
    child_of = shard_filter.get("ShardId") if shard_filter.get("Type") == "CHILD_SHARDS" else None
    return db.streams.describe_stream(
        request["StreamArn"], request.get("Limit") or 100, request.get("ExclusiveStartShardId"), child_of
    )
