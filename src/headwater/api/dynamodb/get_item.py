"""GetItem: a point read on the event loop (gathered with the others of its pass where reads are round
trips), the stored bytes passed through when possible."""

from __future__ import annotations

from typing import Any

from ...core import stored
from ...core.capacity import consumed_capacity, read_units
from ...core.database import Database
from ...expressions import compile_request, project
from ._items import resolve_key


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any] | bytes:
    compiled = compile_request(request, operation="GetItem")
    table = db.catalog.require(request["TableName"])
    key, _ = resolve_key(table, request["Key"])
    raw = await db.storage.read_item(key)
    mode = request.get("ReturnConsumedCapacity")
    if compiled.projection is None and mode in (None, "NONE"):
        return b"{}" if raw is None else b'{"Item":' + stored.json_of(raw) + b"}"
    out: dict[str, Any] = {}
    if raw is not None:
        item = stored.unpack(raw)
        if compiled.projection is not None:
            item = project(item, compiled.projection.paths)
        out["Item"] = item
    consistent = bool(request.get("ConsistentRead"))
    # DynamoDB charges by the stored item's size, whatever the projection keeps.
    units = read_units(stored.size_of(raw) if raw is not None else 0, consistent)
    capacity = consumed_capacity(mode, table, units, kind="read")
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out
