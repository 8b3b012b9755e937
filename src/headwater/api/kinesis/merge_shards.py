"""MergeShards: two adjacent shards close and one child opens at one boundary marker."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.ops import ReshardOp
from .split_shard import shard_index


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    service = db.kinesis
    name = service.name_of(request)
    first = shard_index(db, name, request["ShardToMerge"])
    second = shard_index(db, name, request["AdjacentShardToMerge"])
    await db.storage.write(
        ReshardOp(name, service.namespace, db.clock.now(), "merge", shard=first, other=second)
    )
    return {}
