"""DescribeTableReplicaAutoScaling: the auto scaling settings of every replica of a global table
(Headwater does not scale capacity: it keeps and describes what UpdateTableReplicaAutoScaling set)."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...model.schema import TableSpec
from ._replicas import AUTO_SCALING


def auto_scaling_description(table: TableSpec) -> dict[str, Any]:
    settings: dict[str, Any] = table.extra.get(AUTO_SCALING, {})
    gsis = [index.name for index in table.indexes if index.kind == "GSI"]
    regions = sorted([(table.namespace.region, "ACTIVE"), *((r.region, r.status) for r in table.replicas)])
    replicas = []
    for region, status in regions:
        doc: dict[str, Any] = {"RegionName": region, "ReplicaStatus": status}
        mine = settings.get("replicas", {}).get(region, {})
        doc.update(mine.get("table", {}))
        doc["GlobalSecondaryIndexes"] = [
            dict({"IndexName": name, "IndexStatus": "ACTIVE"}, **mine.get("indexes", {}).get(name, {}))
            for name in gsis
        ]
        replicas.append(doc)
    return {"TableName": table.name, "TableStatus": table.status, "Replicas": replicas}


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    table = db.catalog.require_table(request["TableName"])
    return {"TableAutoScalingDescription": auto_scaling_description(table)}
