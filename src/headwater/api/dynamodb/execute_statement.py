"""ExecuteStatement: one PartiQL statement, a SELECT read as a Query or Scan page, a write through the
item operations' write path."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...errors import ValidationException
from ...partiql import Exists, Select
from ._partiql import parse_request, plan_write, returned, run_select, run_write, write_capacity

EXISTS_OUTSIDE_TRANSACTION = "EXISTS can only be used in ExecuteTransaction write requests."


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any] | bytes:
    statement = parse_request(request["Statement"], request.get("Parameters"))
    if isinstance(statement, Exists):
        raise ValidationException(EXISTS_OUTSIDE_TRANSACTION)
    if isinstance(statement, Select):
        return await run_select(db, statement, request)
    write = plan_write(db, statement, request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD")
    result = await run_write(db, write)
    attributes = returned(statement, result)
    out: dict[str, Any] = {"Items": [attributes] if attributes else []}
    capacity = write_capacity(request, write.table, result)
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out
