"""DisableKinesisStreamingDestination: DISABLING, then DISABLED; changes stop going to the stream."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...core.database import Database
from ._kinesis import active_table, find, not_streaming, save_then_settle


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    arn = request["StreamArn"]
    async with db.catalog.lock:
        table = active_table(db, request["TableName"])
        destination = find(table, arn)
        if destination is None or destination.status not in ("ENABLING", "ACTIVE", "UPDATING"):
            raise not_streaming(table, arn)
        await save_then_settle(db, table, dataclasses.replace(destination, status="DISABLING"), "DISABLED")
    return {
        "TableName": table.name,
        "StreamArn": arn,
        "DestinationStatus": "DISABLING",
        "EnableKinesisStreamingConfiguration": {
            "ApproximateCreationDateTimePrecision": destination.precision
        },
    }
