"""DescribeImport."""

from __future__ import annotations

from typing import Any

from ...core import jobs
from ...core.database import Database
from ...errors import ImportNotFoundException


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    found = jobs.get(db, jobs.IMPORT_KIND, request["ImportArn"])
    if found is None:
        raise ImportNotFoundException(f"Import not found: {request['ImportArn']}")
    return {"ImportTableDescription": found}
