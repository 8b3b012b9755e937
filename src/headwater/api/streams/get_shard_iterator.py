"""GetShardIterator."""

from __future__ import annotations

from typing import Any

from ...core.database import Database


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return db.streams.get_shard_iterator(
        request["StreamArn"], request["ShardId"], request["ShardIteratorType"], request.get("SequenceNumber")
    )
