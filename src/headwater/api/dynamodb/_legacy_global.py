"""Global tables version 2017.11.29 (Legacy): a global table joins tables that already exist, empty, with
the same name and key schema and a NEW_AND_OLD_IMAGES stream, in several regions of the account. Each
becomes a replica of the others (`TableSpec.replicas`), marked legacy (`LEGACY` in its extra), and
replicates through the same links as version 2019.11.21; DescribeTable does not show the 2019.11.21
members for them (how AWS tells the versions apart: DescribeGlobalTable answers for legacy tables only).
"""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import (
    GlobalTableNotFoundException,
    ReplicaNotFoundException,
    TableNotFoundException,
    ValidationException,
)
from ...model.namespace import Namespace
from ...model.schema import ReplicaSpec, TableSpec

LEGACY = "global_table_2017"  # TableSpec.extra: {"created": epoch seconds}
VERSION = "2017.11.29"


def is_legacy(table: TableSpec) -> bool:
    return LEGACY in table.extra


def table_in(db: Database, name: str, region: str) -> TableSpec:
    """The table `name` of the caller's account in `region`, or TableNotFoundException."""
    table = db.scoped(Namespace(db.namespace.account, region)).catalog.get(name)
    if table is None or table.status == "DELETING":
        raise TableNotFoundException(f"Table not found: Table: '{name}' not found in region: '{region}'.")
    return table


def members(db: Database, name: str) -> list[TableSpec]:
    """The legacy global table `name` of the caller's account: its tables, by region."""
    account = db.namespace.account
    found = [
        table
        for table in db.catalog.every_table()
        if table.name == name
        and table.namespace.account == account
        and is_legacy(table)
        and table.status != "DELETING"
    ]
    return sorted(found, key=lambda t: t.namespace.region)


def require(db: Database, name: str) -> list[TableSpec]:
    found = members(db, name)
    if not found:
        raise GlobalTableNotFoundException("Global table not found")
    return found


def check_joinable(table: TableSpec, first: TableSpec, db: Database) -> None:
    """A table may join a legacy global table: empty, a NEW_AND_OLD_IMAGES stream, the same key schema."""
    where = f"Table: '{table.name}' in region: '{table.namespace.region}'"
    if table.stream.view_type != "NEW_AND_OLD_IMAGES" or not table.stream.enabled:
        raise ValidationException(
            f"One or more parameter values were invalid: {where} must have DynamoDB Streams enabled with "
            "the NEW_AND_OLD_IMAGES stream view type"
        )
    if table.key != first.key:
        raise ValidationException(
            f"One or more parameter values were invalid: {where} must have the same key schema as the "
            "other replicas"
        )
    if db.storage.counters(table.table_id)[0]:
        raise ValidationException(f"One or more parameter values were invalid: {where} must be empty")


async def regroup(db: Database, tables: list[TableSpec], created: float) -> list[TableSpec]:
    """Make `tables` the global table: each the replica of the others."""
    out = []
    regions = [t.namespace.region for t in tables]
    for table in tables:
        others = tuple(ReplicaSpec(r) for r in regions if r != table.namespace.region)
        table = table.evolve(replicas=others, extra=dict(table.extra, **{LEGACY: {"created": created}}))
        await db.scoped(table.namespace).catalog.save(table)
        out.append(table)
    return out


async def leave(db: Database, table: TableSpec) -> None:
    """`table` leaves its global table and stays, on its own."""
    await db.scoped(table.namespace).catalog.save(table.evolve(replicas=(), extra=_without_legacy(table)))


def _without_legacy(table: TableSpec) -> dict[str, Any]:
    return {k: v for k, v in table.extra.items() if k != LEGACY}


def description(db: Database, name: str, tables: list[TableSpec]) -> dict[str, Any]:
    created = tables[0].extra.get(LEGACY, {}).get("created", tables[0].created_at)
    return {
        "ReplicationGroup": [{"RegionName": t.namespace.region, "ReplicaStatus": "ACTIVE"} for t in tables],
        "GlobalTableArn": f"arn:aws:dynamodb::{db.namespace.account}:global-table/{name}",
        "CreationDateTime": created,
        "GlobalTableStatus": "ACTIVE",
        "GlobalTableName": name,
    }


def settings(name: str, tables: list[TableSpec]) -> dict[str, Any]:
    replicas = []
    for table in tables:
        doc: dict[str, Any] = {
            "RegionName": table.namespace.region,
            "ReplicaStatus": "ACTIVE",
            "ReplicaBillingModeSummary": {"BillingMode": table.billing_mode},
            "ReplicaProvisionedReadCapacityUnits": table.throughput.read,
            "ReplicaProvisionedWriteCapacityUnits": table.throughput.write,
            "ReplicaGlobalSecondaryIndexSettings": [
                {
                    "IndexName": index.name,
                    "IndexStatus": index.status,
                    "ProvisionedReadCapacityUnits": index.throughput.read,
                    "ProvisionedWriteCapacityUnits": index.throughput.write,
                }
                for index in table.indexes
                if index.kind == "GSI"
            ],
        }
        replicas.append(doc)
    return {"GlobalTableName": name, "ReplicaSettings": replicas}


def not_a_replica(region: str) -> ReplicaNotFoundException:
    return ReplicaNotFoundException(f"Replica not found: the global table has no replica in region {region}")
