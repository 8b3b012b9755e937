"""TagResource."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ValidationException
from ._tags import table_for_arn

MAX_TAGS = 50


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        table = table_for_arn(db, request["ResourceArn"])
        tags = dict(table.tags)
        for tag in request["Tags"]:
            tags[tag["Key"]] = tag["Value"]
        if len(tags) > MAX_TAGS:
            raise ValidationException("One or more parameter values were invalid: Too many tags")
        await db.catalog.save(table.evolve(tags=tuple(tags.items())))
    return {}
