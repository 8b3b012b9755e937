"""UpdateTableReplicaAutoScaling: auto scaling settings of a table, its GSIs and its replicas, kept in
the table's catalog document and described back. A table whose write capacity is auto scaled may
become a global table while PROVISIONED (the rule UpdateTable's ReplicaUpdates checks)."""

from __future__ import annotations

import copy
from typing import Any

from ...core.database import Database
from ...core.tables import update_table
from ...errors import ResourceInUseException, ResourceNotFoundException
from ._replicas import AUTO_SCALING
from .describe_table_replica_auto_scaling import auto_scaling_description


def _described(settings: dict[str, Any] | None) -> dict[str, Any]:
    """AutoScalingSettingsUpdate -> AutoScalingSettingsDescription (the same members, policies listed)."""
    if not settings:
        return {}
    out = {k: v for k, v in settings.items() if k != "ScalingPolicyUpdate"}
    policy = settings.get("ScalingPolicyUpdate")
    if policy:
        out["ScalingPolicies"] = [
            {
                "PolicyName": policy.get("PolicyName", "DynamoDBWriteCapacityUtilization"),
                "TargetTrackingScalingPolicyConfiguration": policy[
                    "TargetTrackingScalingPolicyConfiguration"
                ],
            }
        ]
    return out


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    async with db.catalog.lock:
        table = db.catalog.require_table(request["TableName"])
        if table.status != "ACTIVE":
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table: {table.name}"
            )
        settings = copy.deepcopy(table.extra.get(AUTO_SCALING, {}))
        regions = {table.namespace.region, *(r.region for r in table.replicas)}
        replicas = settings.setdefault("replicas", {})
        write = _described(request.get("ProvisionedWriteCapacityAutoScalingUpdate"))
        if write:
            settings["write"] = write
            for region in regions:
                replicas.setdefault(region, {}).setdefault("table", {})[
                    "ReplicaProvisionedWriteCapacityAutoScalingSettings"
                ] = write
        for update in request.get("ReplicaUpdates", ()):
            region = update["RegionName"]
            if region not in regions:
                raise ResourceNotFoundException(f"Replica not found in region {region}")
            mine = replicas.setdefault(region, {})
            read = _described(update.get("ReplicaProvisionedReadCapacityAutoScalingUpdate"))
            if read:
                mine.setdefault("table", {})["ReplicaProvisionedReadCapacityAutoScalingSettings"] = read
            for index in update.get("ReplicaGlobalSecondaryIndexUpdates", ()):
                described = _described(index.get("ProvisionedReadCapacityAutoScalingUpdate"))
                mine.setdefault("indexes", {}).setdefault(index["IndexName"], {})[
                    "ProvisionedReadCapacityAutoScalingSettings"
                ] = described
        for index in request.get("GlobalSecondaryIndexUpdates", ()):
            described = _described(index.get("ProvisionedWriteCapacityAutoScalingUpdate"))
            for region in regions:
                replicas.setdefault(region, {}).setdefault("indexes", {}).setdefault(index["IndexName"], {})[
                    "ProvisionedWriteCapacityAutoScalingSettings"
                ] = described
        table = await update_table(db, table.evolve(extra=dict(table.extra, **{AUTO_SCALING: settings})), [])
    return {"TableAutoScalingDescription": auto_scaling_description(table)}
