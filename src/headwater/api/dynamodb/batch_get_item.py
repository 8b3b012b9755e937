"""BatchGetItem: up to 100 keys over several tables; past 16 MB of items the rest is UnprocessedKeys."""

from __future__ import annotations

import asyncio
from typing import Any

from ...core import stored
from ...core.capacity import read_units
from ...core.database import Database
from ...errors import ValidationException
from ...expressions import compile_request, project
from ...model.schema import TableSpec
from ...storage.base import ItemKey
from ._multi import capacity_list, key_of, require_table

MAX_KEYS = 100
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    request_items: dict[str, Any] = request.get("RequestItems") or {}
    if not request_items:
        raise ValidationException("BatchGetItem must have some requests set")
    if sum(len(spec.get("Keys") or ()) for spec in request_items.values()) > MAX_KEYS:
        raise ValidationException("Too many items requested for the BatchGetItem call")
    plans: list[tuple[str, TableSpec, dict[str, Any], Any, list[tuple[ItemKey, Any]]]] = []
    for name, spec in request_items.items():
        keys = spec.get("Keys")
        if not keys:
            raise ValidationException(
                f"The list of keys in RequestItems for BatchGetItem is required: {name} has empty list"
            )
        compiled = compile_request(spec, operation="BatchGetItem")
        table = require_table(db, name)
        resolved: list[tuple[ItemKey, Any]] = []
        seen: set[tuple[bytes, bytes]] = set()
        for raw in keys:
            key, _ = key_of(table, raw)
            if (key.pk, key.sk) in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add((key.pk, key.sk))
            resolved.append((key, raw))
        plans.append((name, table, spec, compiled.projection, resolved))

    def read() -> dict[str, Any]:
        responses: dict[str, list[Any]] = {}
        unprocessed: dict[str, Any] = {}
        usage: list[tuple[TableSpec, float, dict[str, float]]] = []
        total = 0
        for name, table, spec, projection, resolved in plans:
            items = responses.setdefault(table.name, [])  # by name, even if asked by ARN (DynamoDB Local)
            consistent = bool(spec.get("ConsistentRead"))
            for position, (key, _) in enumerate(resolved):
                if total >= MAX_RESPONSE_BYTES:
                    left = dict(spec, Keys=[raw for _, raw in resolved[position:]])
                    unprocessed[name] = left
                    break
                raw = db.storage.get_item(key)
                if raw is None:
                    continue
                item = stored.unpack(raw)
                size = stored.size_of(raw)
                total += size
                usage.append((table, read_units(size, consistent), {}))
                items.append(project(item, projection.paths) if projection is not None else item)
            else:
                usage.append((table, 0.0, {}))
        out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
        capacity = capacity_list(request.get("ReturnConsumedCapacity"), usage, "read")
        if capacity is not None:
            out["ConsumedCapacity"] = capacity
        return out

    return await asyncio.to_thread(read)
