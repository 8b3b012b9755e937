"""DescribeTimeToLive."""

from __future__ import annotations

from typing import Any

from ...core.database import Database


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = db.catalog.require_table(request["TableName"])
    description: dict[str, Any] = {"TimeToLiveStatus": table.ttl.status}
    if table.ttl.attribute is not None and table.ttl.status != "DISABLED":
        description["AttributeName"] = table.ttl.attribute
    return {"TimeToLiveDescription": description}
