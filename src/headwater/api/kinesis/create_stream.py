"""CreateStream: PROVISIONED with ShardCount, or ON_DEMAND (4 shards to start with, as Kinesis does)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.errors import InvalidArgumentException, LimitExceededException
from ...kinesis.ops import CreateStreamOp
from ...kinesis.service import ON_DEMAND_SHARDS, SHARD_LIMIT

LIMITS_PAGE = "http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html"


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["StreamName"]
    given: int | None = request.get("ShardCount")
    mode = (request.get("StreamModeDetails") or {}).get("StreamMode")
    if mode is None:
        mode = "PROVISIONED" if given is not None else "ON_DEMAND"
    if mode == "ON_DEMAND":
        if given is not None:
            raise InvalidArgumentException("ShardCount is not allowed for an ON_DEMAND stream.")
        given = ON_DEMAND_SHARDS
    if given is None:
        raise InvalidArgumentException("ShardCount is required for a PROVISIONED stream.")
    count = given
    service = db.kinesis
    async with db.catalog.lock:  # the stream-id counter is shared with DynamoDB streams
        current = service.open_shard_count()
        if current + count > SHARD_LIMIT:
            raise LimitExceededException(
                f"This request would exceed the shard limit for the account {service.account} in "
                f"{db.region}. Current shard count for the account: {current}. Limit: {SHARD_LIMIT}. "
                f"Number of additional shards that would have resulted from this request: {count}. "
                f"Refer to the AWS Service Limits page ({LIMITS_PAGE}) "
                "for current limits and how to request higher limits."
            )
        doc, counter = service.new_doc(name, count, mode, dict(request.get("Tags") or {}))
        await db.storage.write(CreateStreamOp(doc, service.namespace, counter))
    return {}
