"""UpdateGlobalTableSettings (global tables version 2017.11.29): billing mode and write capacity of every
replica, read capacity per replica, and their GSIs'."""

from __future__ import annotations

import dataclasses
from typing import Any

from ...core.database import Database
from ...model.schema import TableSpec, Throughput
from ._legacy_global import not_a_replica, require, settings


def _index_throughput(table: TableSpec, name: str, read: int | None, write: int | None) -> TableSpec:
    indexes = []
    for index in table.indexes:
        if index.name == name:
            current = index.throughput
            throughput = Throughput(read if read is not None else current.read, write or current.write)
            index = dataclasses.replace(index, throughput=throughput)
        indexes.append(index)
    return table.evolve(indexes=tuple(indexes))


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    name = request["GlobalTableName"]
    async with db.catalog.lock:
        tables = {t.namespace.region: t for t in require(db, name)}
        for update in request.get("ReplicaSettingsUpdate", ()):
            if update["RegionName"] not in tables:
                raise not_a_replica(update["RegionName"])
        mode = request.get("GlobalTableBillingMode")
        write = request.get("GlobalTableProvisionedWriteCapacityUnits")
        for region, table in list(tables.items()):
            if mode is not None:
                table = table.evolve(billing_mode=mode)
            if write is not None:
                table = table.evolve(throughput=Throughput(table.throughput.read, write))
            for index in request.get("GlobalTableGlobalSecondaryIndexSettingsUpdate", ()):
                units = index.get("ProvisionedWriteCapacityUnits")
                table = _index_throughput(table, index["IndexName"], None, units)
            for update in request.get("ReplicaSettingsUpdate", ()):
                if update["RegionName"] != region:
                    continue
                read = update.get("ReplicaProvisionedReadCapacityUnits")
                if read is not None:
                    table = table.evolve(throughput=Throughput(read, table.throughput.write))
                for index in update.get("ReplicaGlobalSecondaryIndexSettingsUpdate", ()):
                    units = index.get("ProvisionedReadCapacityUnits")
                    table = _index_throughput(table, index["IndexName"], units, None)
            await db.scoped(table.namespace).catalog.save(table)
            tables[region] = table
    return settings(name, sorted(tables.values(), key=lambda t: t.namespace.region))
