"""UpdateTable's GlobalSecondaryIndexUpdates: Create (with backfill), Update (throughput), Delete."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, cast

from ...core.database import Database
from ...core.indexes import backfill, drop_entries
from ...core.warm import INDEX_ON_DEMAND, WARM
from ...errors import LimitExceededException, ResourceNotFoundException, ValidationException
from ...model.schema import IndexSpec, KeyAttribute, KeyType, TableSpec
from ._table_spec import INVALID, MAX_GSIS, global_index, on_demand_throughput, parse_throughput
from ._warm import check_initial, check_quota, check_raise

Task = Callable[[], Awaitable[None]]


def _types(table: TableSpec, request: dict[str, Any]) -> dict[str, KeyType]:
    types: dict[str, KeyType] = {a.name: a.type for a in table.attribute_definitions}
    for raw in request.get("AttributeDefinitions") or ():
        name, kind = raw["AttributeName"], cast(KeyType, raw["AttributeType"])
        if name in types and types[name] != kind:
            raise ValidationException(
                "invalid attribute, SchemaElement redefined should be of same type as previously defined"
            )
        types[name] = kind
    return types


def apply_gsi_updates(
    db: Database, table: TableSpec, request: dict[str, Any]
) -> tuple[TableSpec, list[Task]]:
    updates: list[dict[str, Any]] = request["GlobalSecondaryIndexUpdates"]
    for update in updates:
        if not any(update.get(k) is not None for k in ("Create", "Update", "Delete")):
            raise ValidationException("Update global secondary index action is null")
    if sum(1 for u in updates if u.get("Create") is not None or u.get("Delete") is not None) > 1:
        raise LimitExceededException(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
            "per table"
        )
    types = _types(table, request)
    indexes = list(table.indexes)
    tasks: list[Task] = []
    next_id = max([ix.index_id for ix in indexes] + [int(table.extra.get("last_index_id", 0))]) + 1
    extra = dict(table.extra)
    for update in updates:
        if update.get("Create") is not None:
            raw = update["Create"]
            if table.index(raw["IndexName"]) is not None:
                raise ValidationException("Attempting to create an index which already exists")
            if any(e["AttributeName"] not in types for e in raw["KeySchema"]):
                raise ValidationException("No Attribute Schema Defined")
            index = global_index(raw, types, table.billing_mode, next_id, set())
            index = dataclasses.replace(index, status="CREATING", backfilling=True)
            if sum(1 for ix in indexes if ix.kind == "GSI") >= MAX_GSIS:
                raise ValidationException(
                    INVALID + f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
                )
            indexes.append(index)
            extra["last_index_id"] = next_id
            _index_settings(extra, raw, table, index)
            tasks.append(_create_task(db, table, index))
        else:
            body = update.get("Update") or update["Delete"]
            current = table.index(body["IndexName"])
            if current is None or current.kind != "GSI":
                raise ResourceNotFoundException("Requested resource not found")
            position = indexes.index(current)
            if update.get("Update") is not None:
                indexes[position] = _update(table, current, body, extra)
            else:
                indexes[position] = dataclasses.replace(current, status="DELETING")
                tasks.append(_delete_task(db, table, current))
    definitions = _used_definitions(table, types, indexes)
    return table.evolve(indexes=tuple(indexes), attribute_definitions=definitions, extra=extra), tasks


def _index_settings(extra: dict[str, Any], raw: dict[str, Any], table: TableSpec, index: IndexSpec) -> None:
    """A new GSI's WarmThroughput and OnDemandThroughput, replacing any of an earlier index of its name."""
    throughput = (index.throughput.read, index.throughput.write)
    chosen = check_initial(raw.get("WarmThroughput"), table.billing_mode, throughput, index.name)
    warm_values = {k: v for k, v in (extra.get(WARM) or {}).items() if k != index.name}
    if chosen is not None:
        warm_values[index.name] = list(chosen)
    extra[WARM] = warm_values
    maximums = on_demand_throughput(raw.get("OnDemandThroughput"), {}, removable=False)
    on_demand = {k: v for k, v in (extra.get(INDEX_ON_DEMAND) or {}).items() if k != index.name}
    if maximums:
        on_demand[index.name] = maximums
    extra[INDEX_ON_DEMAND] = on_demand


def _update(table: TableSpec, index: IndexSpec, body: dict[str, Any], extra: dict[str, Any]) -> IndexSpec:
    """A GSI's Update: its provisioned throughput, or (on demand) its maximums and warm throughput."""
    check_quota(body, table, index)
    if body.get("WarmThroughput") is not None:
        read, write = check_raise(body["WarmThroughput"], table, index)
        extra[WARM] = {**(extra.get(WARM) or {}), index.name: [read, write]}
    if body.get("OnDemandThroughput"):
        current = (extra.get(INDEX_ON_DEMAND) or {}).get(index.name) or {}
        maximums = on_demand_throughput(body["OnDemandThroughput"], current, removable=True)
        extra[INDEX_ON_DEMAND] = {**(extra.get(INDEX_ON_DEMAND) or {}), index.name: maximums}
    if body.get("ProvisionedThroughput") is not None:
        return dataclasses.replace(index, throughput=parse_throughput(body["ProvisionedThroughput"]))
    if table.billing_mode == "PAY_PER_REQUEST":
        if body.get("WarmThroughput") is None and not body.get("OnDemandThroughput"):
            raise ValidationException(
                INVALID + f"The only Updates for index: {index.name} when TableThroughputMode is "
                "PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput"
            )
    elif body.get("WarmThroughput") is None:  # DynamoDB Local's text
        raise ValidationException("No provisioned throughput specified for the global secondary index")
    return index


def _used_definitions(
    table: TableSpec, types: dict[str, KeyType], indexes: list[IndexSpec]
) -> tuple[KeyAttribute, ...]:
    used = list(table.key.names)
    for index in indexes:
        if index.status != "DELETING":
            used.extend(n for n in index.key.names if n not in used)
    return tuple(KeyAttribute(name, types[name]) for name in used)


def _create_task(db: Database, table: TableSpec, index: IndexSpec) -> Task:
    async def run() -> None:
        current = db.catalog.latest(table)
        if current is None:
            return
        key = (current.namespace.account, current.namespace.region, current.name, index.name)
        count = db.progress.backfills.start(key, db.storage.counters(current.table_id)[0])
        try:
            await backfill(db.storage, current, index, count)
        finally:
            db.progress.backfills.finish(key)
        await _set_index(
            db, table, index.index_id, lambda ix: dataclasses.replace(ix, status="ACTIVE", backfilling=False)
        )

    return run


def _delete_task(db: Database, table: TableSpec, index: IndexSpec) -> Task:
    async def run() -> None:
        await _set_index(db, table, index.index_id, lambda ix: None)
        await drop_entries(db.storage, table.table_id, index.index_id)

    return run


async def _set_index(
    db: Database, table: TableSpec, index_id: int, change: Callable[[IndexSpec], IndexSpec | None]
) -> None:
    async with db.catalog.lock:
        current = db.catalog.latest(table)
        if current is None:
            return
        indexes: list[IndexSpec] = []
        for ix in current.indexes:
            if ix.index_id == index_id:
                changed = change(ix)
                if changed is not None:
                    indexes.append(changed)
            else:
                indexes.append(ix)
        await db.catalog.save(current.evolve(indexes=tuple(indexes)))
