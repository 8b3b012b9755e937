"""Increase/DecreaseStreamRetentionPeriod share one change of the stream's document."""

from __future__ import annotations

from typing import Any, Literal

from ...core.database import Database
from ...kinesis.ops import UpdateStreamOp
from ._streams import retention_hours


async def change(db: Database, request: dict[str, Any], direction: Literal["increase", "decrease"]) -> None:
    hours = retention_hours(request["RetentionPeriodHours"])
    service = db.kinesis
    name = service.name_of(request)
    service.require(name)
    await db.storage.write(
        UpdateStreamOp(name, service.namespace, retention_hours=hours, retention_direction=direction)
    )
