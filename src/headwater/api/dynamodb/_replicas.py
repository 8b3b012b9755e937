"""UpdateTable's ReplicaUpdates (global tables version 2019.11.21): a replica is the same table in
another region, made, changed and removed here, under `catalog.lock`, for every region of the server.

Creating a replica creates the table in that region's namespace (same key schema, indexes and billing,
a NEW_AND_OLD_IMAGES stream) in status CREATING with the region it is copied from (`replica_source`);
the replication service (replication/) copies the items and follows the streams, then makes it ACTIVE.
Every region's table lists the other regions' replicas, so each one knows whose streams to follow.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson

from ...core.codec import decode_spec, encode_spec
from ...core.database import Database
from ...core.replicas import SOURCE, group, with_replica, without_replica
from ...core.tables import open_stream
from ...errors import ValidationException
from ...model.namespace import Namespace, arn_namespace
from ...model.schema import ReplicaSpec, StreamSpec, TableSpec
from ...replication.peers import Peers
from ...storage.base import MetaWrite, StreamWrite
from ._legacy_global import LEGACY

AUTO_SCALING = "replica_auto_scaling"  # TableSpec.extra: UpdateTableReplicaAutoScaling's settings
GLOBAL_TABLE_VERSION = "2019.11.21"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
LOCAL_REGION = (
    "Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, "
    "DeleteTable, or UpdateTable as required."
)
_SETTINGS = (
    "KMSMasterKeyId",
    "ProvisionedThroughputOverride",
    "OnDemandThroughputOverride",
    "GlobalSecondaryIndexes",
    "TableClassOverride",
)


async def apply_replica_updates(
    db: Database, table: TableSpec, updates: list[dict[str, Any]]
) -> tuple[TableSpec, list[MetaWrite | StreamWrite]]:
    """Check every update first, then carry them out; `table` as it is to be saved, with its writes."""
    for update in updates:
        _check(db, table, update)
    writes: list[MetaWrite | StreamWrite] = []
    for update in updates:
        if "Create" in update:
            table, more = await _create(db, table, update["Create"])
            writes.extend(more)
        elif "Delete" in update:
            table = await _delete(db, table, update["Delete"]["RegionName"])
        else:
            table = await _update(db, table, update["Update"])
    return table, writes


def _check(db: Database, table: TableSpec, update: dict[str, Any]) -> None:
    actions = [name for name in ("Create", "Update", "Delete") if update.get(name) is not None]
    if len(actions) != 1:
        raise ValidationException(
            "One or more parameter values were invalid: exactly one of Create, Update or Delete must be "
            "specified in a ReplicationGroupUpdate"
        )
    region = update[actions[0]]["RegionName"]
    if LEGACY in table.extra:
        raise ValidationException(
            "Table is a replica of a global table of version 2017.11.29: change its replicas with "
            "UpdateGlobalTable"
        )
    if region == table.namespace.region:
        raise ValidationException(LOCAL_REGION)
    if _REGION.fullmatch(region) is None:
        raise ValidationException(f"Invalid region name: {region}")
    existing = table.replica(region)
    if actions[0] == "Create":
        if existing is not None:
            raise ValidationException(
                f"Failed to create a replica of table {table.name} in region {region}: the table is "
                "already replicated there"
            )
        if db.scoped(Namespace(table.namespace.account, region)).catalog.get(table.name) is not None:
            raise ValidationException(already_tables(table.name))
        if table.stream.enabled and table.stream.view_type != "NEW_AND_OLD_IMAGES":
            raise ValidationException(
                "One or more parameter values were invalid: Table has a stream with view type "
                f"{table.stream.view_type}; global tables replicate through a NEW_AND_OLD_IMAGES stream"
            )
        if table.billing_mode == "PROVISIONED" and not table.extra.get(AUTO_SCALING):
            raise ValidationException("Table write capacity should either be Pay-Per-Request or AutoScaled.")
        for index in table.indexes:
            if index.status != "ACTIVE":
                raise ValidationException(
                    f"Cannot add a replica while the index {index.name} is {index.status}"
                )
    elif existing is None:
        raise ValidationException(
            f"Cannot {actions[0].lower()} a replica in region {region}: the table has no replica there"
        )
    elif existing.status != "ACTIVE":
        raise ValidationException(
            f"Cannot {actions[0].lower()} the replica in region {region} while it is {existing.status}"
        )


def _settings(request: dict[str, Any]) -> dict[str, Any]:
    return {name: request[name] for name in _SETTINGS if request.get(name) is not None}


async def _create(
    db: Database, table: TableSpec, request: dict[str, Any]
) -> tuple[TableSpec, list[MetaWrite | StreamWrite]]:
    region = request["RegionName"]
    here = table.namespace.region
    writes: list[MetaWrite | StreamWrite] = []  # none yet: what _create opens is committed at once
    if not table.stream.enabled:
        # committed before the replica's stream is numbered: stream ids come from one stored counter
        table, opened = open_stream(db, table, StreamSpec(True, "NEW_AND_OLD_IMAGES"))
        await db.catalog.save(table, *opened)
    settings = _settings(request)
    regions = [here, *(replica.region for replica in table.replicas)]
    remote = Peers(db.settings)
    try:
        if remote.is_remote(region):
            body = {"Spec": orjson.loads(encode_spec(table)), "Region": region, "Replicas": regions}
            await remote.admin(region, "join", dict(body, Source=here, Settings=settings))
        else:
            target_db = db.scoped(Namespace(table.namespace.account, region))
            await create_replica(target_db, table, regions, settings)
        for peer in group(db, table):
            await db.scoped(peer.namespace).catalog.save(with_replica(peer, ReplicaSpec(region, "CREATING")))
        await remote.tell(table, {"Add": region}, but=region)
    finally:
        await remote.close()
    return with_replica(table, ReplicaSpec(region, "CREATING", settings)), writes


async def membership(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    """`POST /_headwater/replicas/membership` from another server: a region joined or left the global
    table whose replica here `TableArn` names."""
    arn, added, removed = request.get("TableArn"), request.get("Add"), request.get("Remove")
    namespace = arn_namespace(arn) if isinstance(arn, str) else None
    if namespace is None or not isinstance(added or removed, str):
        raise ValidationException("Expected TableArn and Add or Remove (a region)")
    target_db = db.scoped(namespace)
    async with db.catalog.lock:
        table = target_db.catalog.require_table(str(arn))
        if isinstance(added, str) and table.replica(added) is None:
            await target_db.catalog.save(with_replica(table, ReplicaSpec(added, "CREATING")))
        elif isinstance(removed, str) and table.replica(removed) is not None:
            await target_db.catalog.save(without_replica(table, removed))
    return {}


async def create_replica(
    target_db: Database, table: TableSpec, regions: list[str], settings: dict[str, Any]
) -> TableSpec:
    """`table`'s replica in `target_db`'s region, CREATING, copied from `table`'s region; it lists
    `regions` as its replicas. The caller holds `catalog.lock`."""
    table_id, counter = target_db.catalog.allocate_id()
    replica = TableSpec(
        table_id=table_id,
        name=table.name,
        table_uuid=str(uuid.uuid4()),
        key=table.key,
        attribute_definitions=table.attribute_definitions,
        created_at=round(target_db.clock.now(), 3),
        namespace=target_db.namespace,
        status="CREATING",
        billing_mode=table.billing_mode,
        billing_mode_updated_at=table.billing_mode_updated_at,
        throughput=table.throughput,
        indexes=table.indexes,
        ttl=table.ttl,
        sse=table.sse,
        table_class=str(settings.get("TableClassOverride", table.table_class)),
        replicas=tuple(ReplicaSpec(region) for region in sorted(regions)),
        extra={SOURCE: table.namespace.region},
    )
    replica, stream_writes = open_stream(target_db, replica, StreamSpec(True, "NEW_AND_OLD_IMAGES"))
    await target_db.catalog.save(replica, counter, *stream_writes)
    return replica


async def join(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    """`POST /_headwater/replicas/join` from the server of a global table's region: make the replica
    of its table in `Region`, a region of this server (what its UpdateTable's Create asked for)."""
    try:
        table = decode_spec(orjson.dumps(request["Spec"]))
        region, regions = str(request["Region"]), [str(r) for r in request["Replicas"]]
        settings = dict(request.get("Settings") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationException(f"Not a replica to join: {exc}") from None
    target_db = db.scoped(Namespace(table.namespace.account, region))
    async with db.catalog.lock:
        if target_db.catalog.get(table.name) is not None:
            raise ValidationException(already_tables(table.name))
        replica = await create_replica(target_db, table, regions, settings)
    return {"TableArn": replica.arn}


def already_tables(name: str) -> str:
    return (
        f"Failed to create a the new replica of table with name: '{name}' because one or more replicas "
        "already existed as tables."
    )


async def _delete(db: Database, table: TableSpec, region: str) -> TableSpec:
    """DELETING in every replica of this server: the replication service removes it (replication/
    replica_changes.py), from every replica and its server, and deletes its table."""
    deleting = ReplicaSpec(region, "DELETING")
    for peer in group(db, table):
        if peer.namespace.region != region:
            await db.scoped(peer.namespace).catalog.save(with_replica(peer, deleting))
    return with_replica(table, deleting)


async def _update(db: Database, table: TableSpec, request: dict[str, Any]) -> TableSpec:
    region = request["RegionName"]
    current = table.replica(region)
    settings = dict(current.settings if current is not None else {}, **_settings(request))
    target_db = db.scoped(Namespace(table.namespace.account, region))
    target = target_db.catalog.get(table.name)
    if target is not None and "TableClassOverride" in request:
        await target_db.catalog.save(target.evolve(table_class=request["TableClassOverride"]))
    # UPDATING until the replication service has seen it (replication/replica_changes.py), as on AWS
    return with_replica(table, ReplicaSpec(region, "UPDATING", settings))


def replica_descriptions(table: TableSpec) -> list[dict[str, Any]]:
    """DescribeTable's `Replicas`: the other regions' replicas."""
    out = []
    gsis = [{"IndexName": index.name} for index in table.indexes if index.kind == "GSI"]
    for replica in table.replicas:
        doc: dict[str, Any] = {"RegionName": replica.region, "ReplicaStatus": replica.status}
        if replica.status == "CREATING":
            doc["ReplicaStatusDescription"] = "Copying the table's items and following its stream"
        settings = replica.settings
        if "KMSMasterKeyId" in settings:
            doc["KMSMasterKeyId"] = settings["KMSMasterKeyId"]
        for name in ("ProvisionedThroughputOverride", "OnDemandThroughputOverride"):
            if name in settings:
                doc[name] = settings[name]
        overrides = {g.get("IndexName"): g for g in settings.get("GlobalSecondaryIndexes", ())}
        if gsis:
            doc["GlobalSecondaryIndexes"] = [dict(overrides.get(g["IndexName"], {}), **g) for g in gsis]
        if "TableClassOverride" in settings:
            doc["ReplicaTableClassSummary"] = {"TableClass": settings["TableClassOverride"]}
        out.append(doc)
    return out
