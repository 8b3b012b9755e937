"""TagResource."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ValidationException
from ._tags import INVALID, MAX_TAGS, check_tags, table_for_arn


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        check_tags(request["Tags"])
        table = table_for_arn(db, request["ResourceArn"])
        tags = dict(table.tags)
        for tag in request["Tags"]:
            tags[tag["Key"]] = tag["Value"]
        if len(tags) > MAX_TAGS:
            raise ValidationException(INVALID + "Too many tags")
        await db.catalog.save(table.evolve(tags=tuple(tags.items())))
    return {}
