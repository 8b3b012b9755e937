"""DecreaseStreamRetentionPeriod (24 to 8760 hours; not longer than now)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._retention import change


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    await change(db, request, "decrease")
    return {}
