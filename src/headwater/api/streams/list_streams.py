"""ListStreams."""

from __future__ import annotations

from typing import Any

from ...core.database import Database


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return db.streams.list_streams(
        request.get("TableName"), request.get("Limit") or 100, request.get("ExclusiveStartStreamArn")
    )
