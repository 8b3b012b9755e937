"""EnableKinesisStreamingDestination: the table's changes go to a Kinesis data stream as well (ENABLING,
then ACTIVE); independent of DynamoDB Streams."""

from __future__ import annotations

from typing import Any, cast

from ...core.database import Database
from ...errors import LimitExceededException, ResourceInUseException
from ...model.schema import KinesisDestination
from ._kinesis import MAX_DESTINATIONS, active_table, find, save_then_settle, stream_name


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    arn = request["StreamArn"]
    config = request.get("EnableKinesisStreamingConfiguration") or {}
    precision = config.get("ApproximateCreationDateTimePrecision") or "MILLISECOND"
    async with db.catalog.lock:
        table = active_table(db, request["TableName"])
        name = stream_name(db, table, arn)
        existing = find(table, arn)
        if existing is not None and existing.status not in ("DISABLED", "ENABLE_FAILED"):
            raise ResourceInUseException(
                f"Table {table.name} is already streaming to Kinesis data stream {arn} ({existing.status})"
            )
        enabled = [d for d in table.kinesis if d.status not in ("DISABLED", "ENABLE_FAILED")]
        if len(enabled) >= MAX_DESTINATIONS:
            raise LimitExceededException(
                f"Table {table.name} already streams to {MAX_DESTINATIONS} Kinesis data streams"
            )
        destination = KinesisDestination(arn, name, "ENABLING", cast(Any, precision), table.namespace.region)
        await save_then_settle(db, table, destination, "ACTIVE")
    return {
        "TableName": table.name,
        "StreamArn": arn,
        "DestinationStatus": "ENABLING",
        "EnableKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": precision},
    }
