"""ListTables: names in order, paginated by ExclusiveStartTableName / LastEvaluatedTableName."""

from __future__ import annotations

import bisect
from typing import Any

from ...core.database import Database

DEFAULT_LIMIT = 100


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    names = db.catalog.names()
    start = request.get("ExclusiveStartTableName")
    first = bisect.bisect_right(names, start) if start is not None else 0
    limit = request.get("Limit") or DEFAULT_LIMIT
    page = names[first : first + limit]
    out: dict[str, Any] = {"TableNames": page}
    if first + limit < len(names):
        out["LastEvaluatedTableName"] = page[-1]
    return out
