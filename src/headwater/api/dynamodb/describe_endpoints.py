"""DescribeEndpoints: this server's own address."""

from __future__ import annotations

from typing import Any

from ...core.database import Database

CACHE_MINUTES = 1440


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return {"Endpoints": [{"Address": db.settings.endpoint_address, "CachePeriodInMinutes": CACHE_MINUTES}]}
