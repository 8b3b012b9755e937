"""What the four Kinesis streaming destination operations share: the table and destination they name,
the status changes (ENABLING -> ACTIVE, DISABLING -> DISABLED, UPDATING -> ACTIVE after the table
status delay) and the wire form of a destination."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...core.database import Database
from ...errors import ResourceInUseException, ResourceNotFoundException, ValidationException
from ...model.schema import DestinationStatus, KinesisDestination, TableSpec

MAX_DESTINATIONS = 2  # enabled at once


def active_table(db: Database, name: str) -> TableSpec:
    table = db.catalog.require_table(name)
    if table.status != "ACTIVE":
        raise ResourceInUseException(
            f"Attempt to change a resource which is still in use: Table: {table.name}"
        )
    return table


def stream_name(db: Database, table: TableSpec, arn: str) -> str:
    """The Kinesis stream an ARN names, which must be one of the table's own account and region;
    ResourceNotFound for any other."""
    prefix = table.namespace.arn("kinesis", "stream/")
    name = arn[len(prefix) :] if arn.startswith(prefix) else ""
    if not name or db.kinesis.scoped(table.namespace).doc(name) is None:
        raise ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")
    return name


def find(table: TableSpec, arn: str) -> KinesisDestination | None:
    return next((d for d in table.kinesis if d.stream_arn == arn), None)


def not_streaming(table: TableSpec, arn: str) -> ValidationException:
    return ValidationException(f"Table {table.name} is not streaming to Kinesis data stream {arn}")


def replaced(table: TableSpec, destination: KinesisDestination) -> TableSpec:
    kept = tuple(d for d in table.kinesis if d.stream_arn != destination.stream_arn)
    return table.evolve(kinesis=(*kept, destination))


async def save_then_settle(
    db: Database, table: TableSpec, destination: KinesisDestination, final: DestinationStatus
) -> None:
    """Save the destination in its transitional status; it reaches `final` after the table status delay."""
    await db.catalog.save(replaced(table, destination))

    async def settle() -> None:
        async with db.catalog.lock:
            current = db.catalog.latest(table)
            if current is None:
                return
            now = find(current, destination.stream_arn)
            if now is not None and now.status == destination.status:
                await db.catalog.save(replaced(current, dataclasses.replace(now, status=final)))

    db.later(db.settings.table_status_delay, settle)


def wire(db: Database, table: TableSpec, destination: KinesisDestination) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StreamArn": destination.stream_arn,
        "DestinationStatus": destination.status,
        "ApproximateCreationDateTimePrecision": destination.precision,
    }
    if destination.capturing and db.kinesis.scoped(table.namespace).doc(destination.stream_name) is None:
        out["DestinationStatusDescription"] = "The Kinesis data stream does not exist any more"
    return out
