"""UpdateKinesisStreamingDestination: the ApproximateCreationDateTime precision of an ACTIVE destination
(UPDATING, then ACTIVE; changes keep flowing meanwhile)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...core.database import Database
from ...errors import ValidationException
from ._kinesis import active_table, find, not_streaming, save_then_settle


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    arn = request["StreamArn"]
    config = request.get("UpdateKinesisStreamingConfiguration") or {}
    precision = config.get("ApproximateCreationDateTimePrecision")
    if precision is None:
        raise ValidationException(
            "One or more parameter values were invalid: UpdateKinesisStreamingConfiguration must specify "
            "ApproximateCreationDateTimePrecision"
        )
    async with db.catalog.lock:
        table = active_table(db, request["TableName"])
        destination = find(table, arn)
        if destination is None or destination.status != "ACTIVE":
            raise not_streaming(table, arn)
        if destination.precision == precision:
            raise ValidationException(
                f"The ApproximateCreationDateTimePrecision of the destination is already {precision}"
            )
        updated = dataclasses.replace(destination, status="UPDATING", precision=precision)
        await save_then_settle(db, table, updated, "ACTIVE")
    return {
        "TableName": table.name,
        "StreamArn": arn,
        "DestinationStatus": "UPDATING",
        "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": precision},
    }
