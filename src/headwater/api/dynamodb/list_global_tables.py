"""ListGlobalTables (global tables version 2017.11.29): the account's, by name, optionally of one region."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ._legacy_global import is_legacy


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    account = db.namespace.account
    groups: dict[str, list[str]] = {}
    for table in db.catalog.every_table():
        if table.namespace.account == account and is_legacy(table) and table.status != "DELETING":
            groups.setdefault(table.name, []).append(table.namespace.region)
    region = request.get("RegionName")
    names = sorted(name for name, regions in groups.items() if region is None or region in regions)
    start = request.get("ExclusiveStartGlobalTableName")
    if start is not None:
        names = [name for name in names if name > start]
    limit = request.get("Limit", 100)
    out: dict[str, Any] = {
        "GlobalTables": [
            {"GlobalTableName": name, "ReplicationGroup": [{"RegionName": r} for r in sorted(groups[name])]}
            for name in names[:limit]
        ]
    }
    if len(names) > limit:
        out["LastEvaluatedGlobalTableName"] = names[limit - 1]
    return out
