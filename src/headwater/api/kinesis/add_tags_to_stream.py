"""AddTagsToStream (at most 50 tags on a stream)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.ops import UpdateStreamOp


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    service = db.kinesis
    tags = tuple((str(k), str(v)) for k, v in request["Tags"].items())
    await db.storage.write(UpdateStreamOp(service.name_of(request), service.namespace, add_tags=tags))
    return {}
