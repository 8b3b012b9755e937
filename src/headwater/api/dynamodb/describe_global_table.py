"""DescribeGlobalTable (global tables version 2017.11.29)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._legacy_global import description, require


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["GlobalTableName"]
    return {"GlobalTableDescription": description(db, name, require(db, name))}
