"""ListTagsOfResource."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._tags import table_for_arn


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = table_for_arn(db, request["ResourceArn"])
    return {"Tags": [{"Key": k, "Value": v} for k, v in table.tags]}
