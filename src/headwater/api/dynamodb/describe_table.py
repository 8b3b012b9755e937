"""DescribeTable."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._describe import table_description


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = db.catalog.require_table(request["TableName"])
    return {"Table": table_description(db, table)}
