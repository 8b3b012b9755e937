"""ExecuteTransaction: up to 100 PartiQL statements, all reads (TransactGetItems' one-instant read) or all
writes (TransactWriteItems' all-or-nothing MultiWriteOp, ClientRequestToken)."""

from __future__ import annotations

from typing import Any

from ...core import stored
from ...core.capacity import read_units
from ...core.database import Database
from ...core.transactions import Action, TransactionGetOp
from ...errors import ValidationException
from ...model.schema import TableSpec
from ...partiql import Delete, Select, Statement, UpdateStatement
from ...partiql.plan import write_target
from ._items import resolve_key
from ._multi import capacity_list
from ._partiql import parse_request, plan_write, projected
from .transact_write_items import run_transaction

MIXED = "ExecuteTransaction API does not support both read and write operations in the same request."
SELECT_KEY = "Select statements within ExecuteTransaction must specify the primary key in the where clause."
RETURNING = "RETURNING clause is not supported in ExecuteTransaction."
SAME_ITEM = "Transaction request cannot include multiple operations on one item"


def _invalid(position: int, message: str) -> ValidationException:
    return ValidationException(f"Validation failed in TransactStatements[{position}]: {message}")


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    entries = request["TransactStatements"]
    statements: list[Statement] = []
    for position, entry in enumerate(entries):
        try:
            statements.append(parse_request(entry["Statement"], entry.get("Parameters")))
        except ValidationException as error:
            raise _invalid(position, error.message or "") from None
    reads = [isinstance(statement, Select) for statement in statements]
    if any(reads) and not all(reads):
        raise ValidationException(MIXED)
    if all(reads):
        return await _read(db, [s for s in statements if isinstance(s, Select)], request)
    actions: list[Action] = []
    seen: set[tuple[int, bytes, bytes]] = set()
    for position, (entry, statement) in enumerate(zip(entries, statements, strict=True)):
        if isinstance(statement, Select):  # narrowed above: every statement writes
            continue
        if isinstance(statement, (UpdateStatement, Delete)) and statement.returning is not None:
            raise _invalid(position, RETURNING)
        return_old = entry.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        action = plan_write(db, statement, return_old).action
        identity = (action.table.table_id, action.key.pk, action.key.sk)
        if identity in seen:
            raise ValidationException(SAME_ITEM)
        seen.add(identity)
        actions.append(action)
    return {"Responses": [], **await run_transaction(db, actions, request)}


async def _read(db: Database, selects: list[Select], request: dict[str, Any]) -> dict[str, Any]:
    plans = []
    seen: set[tuple[int, bytes, bytes]] = set()
    for position, select in enumerate(selects):
        table = db.catalog.require(select.table)
        try:
            target = write_target(table.key, select.where)
        except ValidationException:
            raise _invalid(position, SELECT_KEY) from None
        if target.rest is not None or select.index is not None:
            raise _invalid(position, SELECT_KEY)
        key, _ = resolve_key(table, target.key)
        identity = (table.table_id, key.pk, key.sk)
        if identity in seen:
            raise ValidationException(SAME_ITEM)
        seen.add(identity)
        plans.append((table, key, select))
    raws: list[bytes | None] = await db.storage.write(TransactionGetOp(tuple(key for _, key, _ in plans)))
    responses: list[dict[str, Any]] = []
    usage: list[tuple[TableSpec, float, dict[str, float]]] = []
    for (table, _, select), raw in zip(plans, raws, strict=True):
        if raw is None:
            responses.append({})
            usage.append((table, 2.0, {}))
            continue
        usage.append((table, 2 * read_units(stored.size_of(raw), True), {}))
        responses.append({"Item": projected(stored.unpack(raw), select.projection)})
    out: dict[str, Any] = {"Responses": responses}
    capacity = capacity_list(request.get("ReturnConsumedCapacity"), usage, "read")
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out
