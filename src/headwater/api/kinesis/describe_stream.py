"""DescribeStream: the stream and a page of its shards (Limit, ExclusiveStartShardId)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.hashing import parse_shard_id
from ._streams import description_base, stream


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    doc = stream(db, request)
    limit = request.get("Limit") or 100
    shards = db.kinesis.visible_shards(doc)
    start = request.get("ExclusiveStartShardId")
    if start is not None:
        after = parse_shard_id(start)
        shards = [s for s in shards if after is None or s.slot > after]
    page = shards[:limit]
    description = description_base(doc)
    description["Shards"] = [db.kinesis.shard_wire(doc, s) for s in page]
    description["HasMoreShards"] = len(shards) > limit
    return {"StreamDescription": description}
