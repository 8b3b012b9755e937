"""TransactGetItems: up to 100 items read at one instant (through the single writer, writing nothing)."""

from __future__ import annotations

from typing import Any

from ...core import stored
from ...core.capacity import read_units
from ...core.database import Database
from ...core.transactions import TransactionGetOp
from ...errors import ValidationException
from ...expressions import compile_request, project
from ...model.keys import KeyMismatch
from ...model.schema import TableSpec
from ...storage.base import ItemKey
from ._multi import capacity_list, key_cancellation, key_of, require_table


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    plans = []
    seen: set[tuple[int, bytes, bytes]] = set()
    mismatched: dict[int, str] = {}
    for position, entry in enumerate(request["TransactItems"]):
        get = entry.get("Get")
        if get is None:
            raise ValidationException("Invalid Request: TransactGetRequest should contain Get request")
        compiled = compile_request(get, operation="GetItem")
        table = require_table(db, get["TableName"])
        try:
            key, _ = key_of(table, get.get("Key"))
        except KeyMismatch as error:
            mismatched[position] = str(error.message)
            continue
        identity = (table.table_id, key.pk, key.sk)
        if identity in seen:
            raise ValidationException("Transaction request cannot include multiple operations on one item")
        seen.add(identity)
        plans.append((table, key, compiled.projection))
    if mismatched:
        raise key_cancellation(mismatched, len(request["TransactItems"]))
    keys: tuple[ItemKey, ...] = tuple(key for _, key, _ in plans)
    raws: list[bytes | None] = await db.storage.write(TransactionGetOp(keys))
    responses: list[dict[str, Any]] = []
    usage: list[tuple[TableSpec, float, dict[str, float]]] = []
    for (table, _, projection), raw in zip(plans, raws, strict=True):
        if raw is None:
            responses.append({})
            usage.append((table, 2.0, {}))
            continue
        item = stored.unpack(raw)
        usage.append((table, 2 * read_units(stored.size_of(raw), True), {}))
        responses.append({"Item": project(item, projection.paths) if projection is not None else item})
    out: dict[str, Any] = {}
    capacity = capacity_list(request.get("ReturnConsumedCapacity"), usage, "read")
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    out["Responses"] = responses
    return out
