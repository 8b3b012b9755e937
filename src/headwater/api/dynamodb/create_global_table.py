"""CreateGlobalTable (global tables version 2017.11.29): join existing, empty tables of several regions."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import GlobalTableAlreadyExistsException, ValidationException
from ._legacy_global import check_joinable, description, is_legacy, regroup, table_in


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["GlobalTableName"]
    regions = [entry["RegionName"] for entry in request["ReplicationGroup"]]
    if len(set(regions)) != len(regions):
        raise ValidationException("One or more parameter values were invalid: duplicate regions")
    async with db.catalog.lock:
        tables = [table_in(db, name, region) for region in sorted(regions)]
        if any(table.replicas or is_legacy(table) for table in tables):
            raise GlobalTableAlreadyExistsException("Global table with this name already exists")
        for table in tables:
            check_joinable(table, tables[0], db)
        tables = await regroup(db, tables, round(db.clock.now(), 3))
    return {"GlobalTableDescription": description(db, name, tables)}
