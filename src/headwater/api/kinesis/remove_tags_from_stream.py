"""RemoveTagsFromStream."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...kinesis.ops import UpdateStreamOp


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    service = db.kinesis
    keys = tuple(str(k) for k in request["TagKeys"])
    await db.storage.write(UpdateStreamOp(service.name_of(request), service.namespace, remove_tags=keys))
    return {}
