"""DescribeKinesisStreamingDestination: every destination the table has had, with its status."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._kinesis import wire


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = db.catalog.require_table(request["TableName"])
    return {
        "TableName": table.name,
        "KinesisDataStreamDestinations": [wire(db, table, d) for d in table.kinesis],
    }
