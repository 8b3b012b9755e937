"""BatchWriteItem: up to 25 puts/deletes, committed as one WriteOperation; each emits its own record."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.transactions import Action, ActionResult, MultiWriteOp
from ...core.writes import check_index_key_types
from ...errors import ValidationException
from ._multi import capacity_list, collection_metrics, item_of, key_of, require_table

MAX_REQUESTS = 25
ONE_DATATYPE = (
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported "
    "datatypes"
)


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    request_items: dict[str, Any] = request.get("RequestItems") or {}
    if not request_items:
        raise ValidationException("BatchWriteItem cannot have a null or no requests set")
    if sum(len(writes or ()) for writes in request_items.values()) > MAX_REQUESTS:
        raise ValidationException("Too many items requested for the BatchWriteItem call")
    now = db.clock.now()
    actions: list[Action] = []
    seen: set[tuple[int, bytes, bytes]] = set()
    for name, writes in request_items.items():
        if not writes:
            raise ValidationException(
                f"The batch write request list for a table cannot be null or empty: {name}"
            )
        table = require_table(db, name)
        for write in writes:
            put, delete = write.get("PutRequest"), write.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise ValidationException(ONE_DATATYPE)
            if put is not None:
                key, item, size = item_of(table, put.get("Item"))
                check_index_key_types(table, item)
                key_item = {n: item[n] for n in table.key.names}
                action = Action("put", table, key, key_item, item=item, item_size=size)
            else:
                key, key_item = key_of(table, delete.get("Key"))
                action = Action("delete", table, key, key_item)
            identity = (table.table_id, key.pk, key.sk)
            if identity in seen:
                raise ValidationException("Provided list of item keys contains duplicates")
            seen.add(identity)
            actions.append(action)
    op = MultiWriteOp(tuple(actions), now, False, db.settings.item_collection_limit_bytes)
    results: list[ActionResult] = await db.storage.write(op)
    out: dict[str, Any] = {"UnprocessedItems": {}}
    capacity = capacity_list(
        request.get("ReturnConsumedCapacity"), ((r.table, r.units, r.index_units) for r in results), "write"
    )
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    metrics = collection_metrics(
        request.get("ReturnItemCollectionMetrics"),
        ((a.table, a.key_item, r.collection_size) for a, r in zip(actions, results, strict=True)),
    )
    if metrics is not None:
        out["ItemCollectionMetrics"] = metrics
    return out
