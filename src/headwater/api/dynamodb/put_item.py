"""PutItem."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.writes import ItemWriteOp, check_index_key_types
from ...errors import ValidationException
from ...expressions import compile_request
from ...model.keys import item_key
from ...model.limits import MAX_ITEM_BYTES
from ...model.size import item_size
from ...model.values import validate_item
from ._items import check_return_values, storage_key, write_response


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    return_values = check_return_values(request.get("ReturnValues"), ("NONE", "ALL_OLD"))
    item = validate_item(request["Item"])
    compiled = compile_request(request, operation="PutItem")
    table = db.catalog.require(request["TableName"])
    pk, sk = item_key(item, table.key)
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ValidationException("Item size has exceeded the maximum allowed size")
    check_index_key_types(table, item)
    key = storage_key(table, pk, sk)
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
