"""SplitShard: the parent closes and two children open at one boundary marker."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.errors import ResourceNotFoundException
from ...kinesis.hashing import parse_shard_id
from ...kinesis.ops import ReshardOp
from ...kinesis.service import SHARD_LIMIT


def shard_index(db: Database, name: str, given: str) -> int:
    index = parse_shard_id(given)
    if index is None:
        raise ResourceNotFoundException(
            f"Could not find shard {given} in stream {name} under account {db.kinesis.account}."
        )
    return index


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    service = db.kinesis
    name = service.name_of(request)
    slot = shard_index(db, name, request["ShardToSplit"])
    hash_key = int(request["NewStartingHashKey"])
    now = db.clock.now()
    op = ReshardOp(
        name, service.namespace, now, "split", shard=slot, hash_key=hash_key, shard_limit=SHARD_LIMIT
    )
    await db.storage.write(op)
    return {}
