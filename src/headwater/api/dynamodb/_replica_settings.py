"""A global table's settings kept alike in every replica, as version 2019.11.21 does: its TTL setting
and its global secondary indexes. A change is made in every replica of this server in the request that
makes it; each replica on another server is marked UPDATING with the change pending
(core/replicas.with_pending), and the replication service sends it (`POST /_headwater/replicas/settings`,
`apply_settings` below on that server) and marks it ACTIVE again: in the catalog, so a crash or that
server being down delays it, never loses it."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.replicas import with_pending
from ...core.tables import update_table
from ...errors import ValidationException
from ...model.namespace import arn_namespace
from ...model.schema import TableSpec, TtlSpec
from ._gsi_updates import Task, apply_gsi_updates

TTL = "TimeToLiveSpecification"
GSI = "GlobalSecondaryIndexUpdates"


def remote_regions(db: Database) -> frozenset[str]:
    return frozenset(region for region, _ in db.settings.region_endpoints)


def pending_for_remote(db: Database, table: TableSpec, request: dict[str, Any]) -> TableSpec:
    """`table` with the settings change of `request` (its TTL or GSI part) pending for its replicas on
    other servers."""
    change = {k: request[k] for k in (TTL, GSI, "AttributeDefinitions") if request.get(k) is not None}
    remote = remote_regions(db)
    if not change or not any(replica.region in remote for replica in table.replicas):
        return table
    return with_pending(table, remote, change)


def ttl_spec(request: dict[str, Any]) -> TtlSpec:
    return TtlSpec(request["AttributeName"], "ENABLED") if request["Enabled"] else TtlSpec(None, "DISABLED")


async def apply_settings(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    """`POST /_headwater/replicas/settings` from another server: make the replica here that `TableArn`
    names take its table's TTL setting or index changes. Sent again after a crash, so a change already
    made is left alone (an index created or deleted before)."""
    arn = request.get("TableArn")
    namespace = arn_namespace(arn) if isinstance(arn, str) else None
    if namespace is None or not (isinstance(request.get(TTL), dict) or isinstance(request.get(GSI), list)):
        raise ValidationException(f"Expected TableArn and {TTL} or {GSI}")
    target_db = db.scoped(namespace)
    tasks: list[Task] = []
    async with db.catalog.lock:
        table = target_db.catalog.require_table(str(arn))
        if isinstance(request.get(TTL), dict):
            table = table.evolve(ttl=ttl_spec(request[TTL]))
        updates = [update for update in request.get(GSI) or () if not _done(table, update)]
        if updates:
            table, tasks = apply_gsi_updates(target_db, table, dict(request, **{GSI: updates}))
        await update_table(target_db, table, [])
    for task in tasks:
        db.later(0, task)
    return {}


def _done(table: TableSpec, update: dict[str, Any]) -> bool:
    if update.get("Create") is not None:
        return table.index(str(update["Create"].get("IndexName"))) is not None
    if update.get("Delete") is not None:
        return table.index(str(update["Delete"].get("IndexName"))) is None
    return False
