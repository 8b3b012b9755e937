"""GetShardIterator."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._service import stream_service


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return stream_service(db).get_shard_iterator(
        request["StreamArn"], request["ShardId"], request["ShardIteratorType"], request.get("SequenceNumber")
    )
