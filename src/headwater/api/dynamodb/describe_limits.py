"""DescribeLimits: the default account and table capacity quotas."""

from __future__ import annotations

from typing import Any

from ...core.database import Database

ACCOUNT_MAX_UNITS = 80_000
TABLE_MAX_UNITS = 40_000


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_UNITS,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_UNITS,
        "TableMaxReadCapacityUnits": TABLE_MAX_UNITS,
        "TableMaxWriteCapacityUnits": TABLE_MAX_UNITS,
    }
