"""UpdateGlobalTable (global tables version 2017.11.29): add or remove replicas."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ReplicaAlreadyExistsException
from ._legacy_global import (
    LEGACY,
    check_joinable,
    description,
    leave,
    not_a_replica,
    regroup,
    require,
    table_in,
)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["GlobalTableName"]
    async with db.catalog.lock:
        tables = require(db, name)
        created = tables[0].extra[LEGACY]["created"]
        leaving = []
        for update in request["ReplicaUpdates"]:
            if update.get("Create") is not None:
                region = update["Create"]["RegionName"]
                if any(t.namespace.region == region for t in tables):
                    raise ReplicaAlreadyExistsException(f"Replica already exists in region {region}")
                table = table_in(db, name, region)
                check_joinable(table, tables[0], db)
                tables.append(table)
            elif update.get("Delete") is not None:
                region = update["Delete"]["RegionName"]
                found = [t for t in tables if t.namespace.region == region]
                if not found:
                    raise not_a_replica(region)
                tables.remove(found[0])
                leaving.append(found[0])
        for table in leaving:
            await leave(db, table)
        tables = await regroup(db, sorted(tables, key=lambda t: t.namespace.region), created)
    return {"GlobalTableDescription": description(db, name, tables)}
