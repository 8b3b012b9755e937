"""UpdateTable: billing mode, throughput, deletion protection, table class and the stream."""

from __future__ import annotations

from typing import Any

from ...core import warm
from ...core.capacity_changes import check_decrease, recorded
from ...core.database import Database
from ...core.replicas import group
from ...core.tables import close_stream, open_stream, update_table
from ...core.throughput import ON_DEMAND
from ...core.warm import INDEX_ON_DEMAND
from ...errors import ResourceInUseException, ValidationException
from ...model.schema import TableSpec, Throughput
from ...storage.base import MetaWrite, StreamWrite
from ._describe import table_description
from ._gsi_updates import Task, apply_gsi_updates
from ._replica_settings import pending_for_remote
from ._replicas import apply_replica_updates
from ._stream_spec import parse_stream_specification
from ._table_spec import INVALID, on_demand_throughput, parse_throughput
from ._warm import check_quota, check_raise

# What an UpdateTable request can change. AttributeDefinitions alone changes nothing (they only serve a
# GSI being created), nor does an empty list of GlobalSecondaryIndexUpdates.
UPDATABLE = (
    "BillingMode",
    "ProvisionedThroughput",
    "DeletionProtectionEnabled",
    "StreamSpecification",
    "TableClass",
    "SSESpecification",
    "OnDemandThroughput",
    "WarmThroughput",
)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    others = [n for n in UPDATABLE if n != "WarmThroughput" and request.get(n) is not None]
    if request.get("WarmThroughput") == {} and (
        others or request.get("GlobalSecondaryIndexUpdates") or request.get("ReplicaUpdates")
    ):
        request = {k: v for k, v in request.items() if k != "WarmThroughput"}  # AWS drops it, as absent
    lists = ("GlobalSecondaryIndexUpdates", "ReplicaUpdates")
    if not any(request.get(n) for n in lists) and all(request.get(n) is None for n in UPDATABLE):
        raise ValidationException("Nothing to update")
    if request.get("ReplicaUpdates") and (
        request.get("GlobalSecondaryIndexUpdates") or any(request.get(n) is not None for n in UPDATABLE)
    ):
        raise ValidationException(
            "ReplicaUpdates cannot be combined with other changes of the table in one UpdateTable request"
        )
    if request.get("WarmThroughput") is not None:
        _warm_alone(request, others)
    async with db.catalog.lock:
        table = db.catalog.require_table(request["TableName"])
        if table.status != "ACTIVE":
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table: {table.name}"
            )
        tasks: list[Task] = []
        original = table
        if request.get("GlobalSecondaryIndexUpdates"):
            table, tasks = apply_gsi_updates(db, table, request)
            for peer in group(db, table):  # a global table's index changes are every replica's
                peer_db = db.scoped(peer.namespace)
                peer, peer_tasks = apply_gsi_updates(peer_db, peer, request)
                await update_table(peer_db, peer, [])
                tasks.extend(peer_tasks)
            table = pending_for_remote(db, table, request)  # and those of other servers, soon
        table, writes = _apply(db, table, request, original)
        if request.get("ReplicaUpdates"):
            table, more = await apply_replica_updates(db, table, request["ReplicaUpdates"])
            writes.extend(more)
        table = await update_table(db, table, writes)
    for task in tasks:
        db.later(0, task)
    return {"TableDescription": table_description(db, table)}


def _warm_alone(request: dict[str, Any], others: list[str]) -> None:
    """A table's WarmThroughput is the only change of its UpdateTable request (AWS's texts per pair)."""
    if request.get("OnDemandThroughput") is not None:
        raise ValidationException(
            INVALID + "OnDemandThroughput can only be combined with BillingMode in an UpdateTable request"
        )
    if any(update.get("Create") is not None for update in request.get("GlobalSecondaryIndexUpdates") or ()):
        raise ValidationException(
            INVALID + "Create global secondary index cannot be specified when updating WarmThroughput"
        )
    if others or request.get("GlobalSecondaryIndexUpdates") or request.get("ReplicaUpdates"):
        raise ValidationException(INVALID + "WarmThroughput must be the only operation in the request")


def _apply(
    db: Database, table: TableSpec, request: dict[str, Any], before: TableSpec
) -> tuple[TableSpec, list[MetaWrite | StreamWrite]]:
    """`before`: the table as it was before this request (its GSI updates are in `table` already)."""
    writes: list[MetaWrite | StreamWrite] = []
    table = _billing(db, table, request.get("BillingMode"), request.get("ProvisionedThroughput"))
    if db.settings.enforce_capacity:
        table = _decreases(db, before, table)
    check_quota(request, table, None)
    if request.get("OnDemandThroughput") is not None:
        on_demand = on_demand_throughput(
            request["OnDemandThroughput"], table.extra.get(ON_DEMAND) or {}, removable=True
        )
        table = table.evolve(extra={**table.extra, ON_DEMAND: on_demand})
    if request.get("WarmThroughput") is not None:
        read, write = check_raise(request["WarmThroughput"], table, None)
        table = table.evolve(extra=warm.raised(table, None, read, write))
    table = warm.kept(before, table)  # a provisioned increase or a switch to on demand raises it
    if request.get("DeletionProtectionEnabled") is not None:
        table = table.evolve(deletion_protection=bool(request["DeletionProtectionEnabled"]))
    if request.get("TableClass") is not None:
        table = table.evolve(table_class=request["TableClass"])
    stream = parse_stream_specification(request.get("StreamSpecification"), current=table.stream)
    if stream is not None and table.is_global and stream != table.stream:
        raise ValidationException(
            "Table is a replica of a global table: its stream (NEW_AND_OLD_IMAGES) carries the "
            "replication and cannot be disabled or changed"
        )
    if stream is not None:
        table, stream_writes = open_stream(db, table, stream) if stream.enabled else close_stream(db, table)
        writes.extend(stream_writes)
    return table, writes


def _decreases(db: Database, before: TableSpec, after: TableSpec) -> TableSpec:
    """The table's and each GSI's provisioned throughput changes, noted; a decrease past DynamoDB's
    limit is refused (`--enforce-capacity`)."""
    if before.billing_mode != "PROVISIONED" or after.billing_mode != "PROVISIONED":
        return after
    now = db.clock.now()
    pairs: list[tuple[str | None, Throughput, Throughput]] = [(None, before.throughput, after.throughput)]
    for index in after.indexes:
        old = before.index(index.name)
        if old is not None and index.kind == "GSI":
            pairs.append((index.name, old.throughput, index.throughput))
    for name, old_units, new_units in pairs:
        decrease = new_units.read < old_units.read or new_units.write < old_units.write
        increase = new_units.read > old_units.read or new_units.write > old_units.write
        if decrease:
            check_decrease(before, name, now)
        if decrease or increase:
            after = after.evolve(extra=recorded(after, name, now, decrease, increase))
    return after


def _billing(
    db: Database, table: TableSpec, mode: str | None, throughput: dict[str, Any] | None
) -> TableSpec:
    target = mode or table.billing_mode
    if target == "PAY_PER_REQUEST":
        if throughput:
            raise ValidationException(
                INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        if table.billing_mode != "PAY_PER_REQUEST":
            return table.evolve(
                billing_mode="PAY_PER_REQUEST",
                throughput=Throughput(0, 0),
                billing_mode_updated_at=round(db.clock.now(), 3),
            )
        return table
    if throughput is None:
        if table.billing_mode == "PAY_PER_REQUEST":
            raise ValidationException(
                INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED"
            )
        return table
    new = parse_throughput(throughput)
    if table.billing_mode == "PROVISIONED" and new == table.throughput:
        raise ValidationException(
            "The provisioned throughput for the table will not change. The requested value equals the "
            f"current value. Current ReadCapacityUnits provisioned for the table: {new.read}. Requested "
            f"ReadCapacityUnits: {new.read}. Current WriteCapacityUnits provisioned for the table: "
            f"{new.write}. Requested WriteCapacityUnits: {new.write}. Refer to the Amazon DynamoDB "
            "Developer Guide for current limits and how to request higher limits."
        )
    changed = table.billing_mode != "PROVISIONED"
    extra = table.extra
    if changed:
        # the on-demand maximums of the table and its GSIs go, and do not come back when the table turns
        # on-demand again (AWS's behaviour as a live probe recorded it, 2026-09)
        extra = {name: value for name, value in extra.items() if name not in (ON_DEMAND, INDEX_ON_DEMAND)}
    return table.evolve(
        billing_mode="PROVISIONED",
        throughput=new,
        billing_mode_updated_at=round(db.clock.now(), 3) if changed else table.billing_mode_updated_at,
        extra=extra,
    )
