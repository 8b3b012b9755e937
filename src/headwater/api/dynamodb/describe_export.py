"""DescribeExport."""

from __future__ import annotations

from typing import Any

from ...core import exports
from ...core.database import Database
from ...errors import ExportNotFoundException


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    found = exports.get(db, request["ExportArn"])
    if found is None:
        raise ExportNotFoundException(f"Export not found: {request['ExportArn']}")
    return {"ExportDescription": found}
