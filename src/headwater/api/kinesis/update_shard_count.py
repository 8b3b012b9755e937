"""UpdateShardCount (UNIFORM_SCALING): splits and merges to the target count, lineage kept exact."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.ops import ReshardOp
from ...kinesis.service import SHARD_LIMIT


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    service = db.kinesis
    name = service.name_of(request)
    current = len(service.require(name).open)
    target = request["TargetShardCount"]
    op = ReshardOp(name, service.namespace, db.clock.now(), "count", target=target, shard_limit=SHARD_LIMIT)
    await db.storage.write(op)
    return {
        "StreamName": name,
        "CurrentShardCount": current,
        "TargetShardCount": target,
        "StreamARN": service.arn(name),
    }
