"""PutItem."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.writes import ItemWriteOp
from ...expressions import compile_request
from ...model.values import validate_item
from ._items import check_return_values, put_target, write_response


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return_values = check_return_values(request.get("ReturnValues"), ("NONE", "ALL_OLD"))
    item = validate_item(request["Item"])
    compiled = compile_request(request, operation="PutItem")
    table = db.catalog.require(request["TableName"])
    key, size = put_target(table, item)
    op = ItemWriteOp(
        "put",
        table,
        key,
        {name: item[name] for name in table.key.names},
        db.clock.now(),
        item=item,
        condition=compiled.condition,
        return_old_on_failure=request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD",
        collection_limit=db.settings.item_collection_limit_bytes,
        item_size=size,
    )
    result = await db.storage.write(op)
    return write_response(request, table, result, return_values)
