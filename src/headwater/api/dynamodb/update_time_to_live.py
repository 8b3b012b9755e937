"""UpdateTimeToLive: enable or disable expiry on one Number attribute."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.replicas import group
from ...errors import ValidationException
from ...model.schema import TtlSpec
from ._replica_settings import pending_for_remote


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
        for peer in group(db, table):  # a global table's TTL setting is every replica's
            await db.scoped(peer.namespace).catalog.save(peer.evolve(ttl=ttl))
        await db.catalog.save(pending_for_remote(db, table.evolve(ttl=ttl), request))  # and other servers
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}
