"""DescribeStream."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ValidationException


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return db.streams.describe_stream(
        request["StreamArn"],
        request.get("Limit") or 100,
        request.get("ExclusiveStartShardId"),
        _child_of(request.get("ShardFilter")),
    )


def _child_of(shard_filter: dict[str, Any] | None) -> str | None:
    """The parent shard whose children a ShardFilter asks for. Both members are optional in the model,
    yet a filter without its Type (DynamoDB Local's text) or without the parent's ShardId means nothing."""
    if shard_filter is None:
        return None
    if shard_filter.get("Type") is None:
        raise ValidationException(
            "1 validation error detected: Value 'null' at 'shardFilter.type' failed to satisfy constraint: "
            "Member must be CHILD_SHARDS"
        )
    shard_id = shard_filter.get("ShardId")
    if shard_id is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy constraint: "
            "Member must not be null"
        )
    return str(shard_id)
