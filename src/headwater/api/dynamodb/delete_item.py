"""DeleteItem."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.writes import ItemWriteOp
from ...expressions import compile_request
from ._items import check_return_values, resolve_key, write_response


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return_values = check_return_values(request.get("ReturnValues"), ("NONE", "ALL_OLD"))
    compiled = compile_request(request, operation="DeleteItem")
    table = db.catalog.require(request["TableName"])
    key, key_item = resolve_key(table, request["Key"])
    op = ItemWriteOp(
        "delete",
        table,
        key,
        key_item,
        db.clock.now(),
        condition=compiled.condition,
        return_old_on_failure=request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD",
        collection_limit=db.settings.item_collection_limit_bytes,
    )
    result = await db.storage.write(op)
    return write_response(request, table, result, return_values)
