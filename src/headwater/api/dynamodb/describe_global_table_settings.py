"""DescribeGlobalTableSettings (global tables version 2017.11.29): each replica's capacity settings."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._legacy_global import require, settings


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["GlobalTableName"]
    return settings(name, require(db, name))
