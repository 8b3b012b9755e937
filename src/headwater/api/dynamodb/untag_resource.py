"""UntagResource."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._tags import table_for_arn


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        table = table_for_arn(db, request["ResourceArn"])
        remove = set(request["TagKeys"])
        tags = tuple((k, v) for k, v in table.tags if k not in remove)
        await db.catalog.save(table.evolve(tags=tags))
    return {}
