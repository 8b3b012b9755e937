"""DeleteStream: the stream, its shards and its records go at once."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.ops import DeleteStreamOp


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    service = db.kinesis
    await db.storage.write(DeleteStreamOp(service.name_of(request), service.namespace))
    return {}
