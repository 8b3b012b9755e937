"""UpdateTimeToLive: enable or disable expiry on one Number attribute."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ValidationException
from ...model.schema import TtlSpec


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    spec = request["TimeToLiveSpecification"]
    enabled = spec["Enabled"]
    attribute = spec["AttributeName"]
    async with db.catalog.lock:
        table = db.catalog.require_table(request["TableName"])
        current = table.ttl
        if enabled:
            if current.status == "ENABLED":
                raise ValidationException("TimeToLive is already enabled")
            ttl = TtlSpec(attribute, "ENABLED")
        else:
            if current.status != "ENABLED":
                raise ValidationException("TimeToLive is already disabled")
            if current.attribute != attribute:
                raise ValidationException(
                    "TimeToLive is active on a different AttributeName: current AttributeName is "
                    f"{current.attribute}"
                )
            ttl = TtlSpec(None, "DISABLED")
        await db.catalog.save(table.evolve(ttl=ttl))
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}
