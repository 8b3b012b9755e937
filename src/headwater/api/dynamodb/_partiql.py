"""What the PartiQL operations share: a statement's parameters, its SELECT as a Query or Scan page, its
INSERT/UPDATE/DELETE as the ItemWriteOp PutItem/UpdateItem/DeleteItem build, and its transaction action."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Iterable
from typing import Any

import orjson

from ...core.database import Database
from ...core.reads import read_page, segment_range, sort_bounds
from ...core.transactions import Action
from ...core.writes import ItemWriteOp, WriteResult
from ...errors import ConditionalCheckFailedException, DuplicateItemException, ValidationException
from ...expressions import CompiledExpressions, Projection, updated_attributes
from ...expressions.ast import Item, Path
from ...expressions.errors import ExpressionError
from ...expressions.paths import get_path
from ...expressions.validate import validate_update
from ...model.keys import encode_key_values, partition_hash
from ...model.schema import TableSpec
from ...model.values import validate_value
from ...partiql import Delete, Exists, Insert, Select, Statement, UpdateStatement, parse
from ...partiql.plan import ReadPlan, check_order, exists, item_key, not_exists, read_plan, write_target
from ...partiql.terms import join
from ...storage.base import Row
from ._items import put_target, resolve_key, write_response
from ._reads import (
    Target,
    base_fetcher,
    last_evaluated_key,
    page_capacity,
    resolve_target,
    run_page,
    start_position,
)

INVALID_TOKEN = "Invalid NextToken"
DUPLICATE = DuplicateItemException.default_message or ""
WriteStatement = Insert | UpdateStatement | Delete


def parse_request(statement: str, raw_parameters: Any) -> Statement:
    parameters = [validate_value(value) for value in raw_parameters or ()]
    return parse(statement, parameters)


def projected(item: Item, projection: tuple[tuple[str, Path], ...] | None) -> Item:
    """A SELECT's projection: each path's value under its name (`m.x` as `x`), missing ones left out."""
    if projection is None:
        return item
    out: Item = {}
    for name, path in projection:
        value = get_path(item, path.elements)
        if value is not None:
            out[name] = value
    return out


# --- SELECT ---------------------------------------------------------------------------------------


def read_target(db: Database, select: Select, consistent: bool, limit: int | None) -> Target:
    """The table or index a SELECT reads, with DynamoDB's checks of index, projection and consistency."""
    table = db.catalog.require(select.table)
    paths = tuple(path for _, path in select.projection) if select.projection is not None else None
    request: dict[str, Any] = {"ConsistentRead": consistent, "Limit": limit}
    if select.index is not None:
        request["IndexName"] = select.index
    compiled = CompiledExpressions(
        filter=select.where, projection=Projection(paths) if paths is not None else None
    )
    target = resolve_target(table, request, compiled)
    # The projection renames paths, so it is applied here rather than by the page.
    return dataclasses.replace(target, spec=dataclasses.replace(target.spec, projection=None))


def _encode_token(key: Item) -> str:
    return base64.b64encode(orjson.dumps({"LastEvaluatedKey": key})).decode()


def _decode_token(token: str) -> Any:
    try:
        return orjson.loads(base64.b64decode(token, validate=True))["LastEvaluatedKey"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ValidationException(INVALID_TOKEN) from None


def _start(target: Target, token: str | None) -> tuple[int, bytes, bytes, bytes, bytes] | None:
    if token is None:
        return None
    try:
        return start_position(target, _decode_token(token))
    except ValidationException:
        raise ValidationException(INVALID_TOKEN) from None


async def run_select(db: Database, select: Select, request: dict[str, Any]) -> dict[str, Any] | bytes:
    """ExecuteStatement's SELECT: a Query when the WHERE clause pins the partition key, else a Scan;
    the whole WHERE clause filters what the key range reads."""
    limit = request.get("Limit")
    target = read_target(db, select, bool(request.get("ConsistentRead")), limit)
    plan = read_plan(target.key, select.where)
    check_order(target.key, select.where, select.order_by, plan)
    start = _start(target, request.get("NextToken"))
    storage, table = db.storage, target.table
    if plan.partition is not None:
        pk = encode_key_values(target.key.hashes, plan.partition)
        lower, upper = sort_bounds(plan.sort, target.key.ranges)
        if start is not None and start[1] != pk:
            raise ValidationException(INVALID_TOKEN)

        def rows() -> Iterable[Row]:
            return storage.query(
                table.table_id,
                target.index_id,
                partition_hash(pk),
                pk,
                lower=lower,
                upper=upper,
                forward=not select.descending,
                start_after=start[2:] if start is not None else None,
                expected=target.spec.limit,
            )

    else:

        def rows() -> Iterable[Row]:
            h_from, h_to = segment_range(0, 1)
            return storage.scan(
                table.table_id,
                target.index_id,
                h_from=h_from,
                h_to=h_to,
                start_after=start,
                expected=target.spec.limit,
            )

    fetch = base_fetcher(storage, target)

    def read() -> dict[str, Any] | bytes:
        page = read_page(rows(), target.spec, fetch)
        out: dict[str, Any] = {}
        if page.last is not None:
            key = last_evaluated_key(target, page.last)
            out["NextToken"] = _encode_token(key)
            out["LastEvaluatedKey"] = key
        capacity = page_capacity(request.get("ReturnConsumedCapacity"), target, page)
        if capacity is not None:
            out["ConsumedCapacity"] = capacity
        if page.raw_items is not None:
            if select.projection is None:
                rest = orjson.dumps(out)[1:] if out else b"}"
                return b'{"Items":[' + b",".join(page.raw_items) + b"]" + (b"," + rest if out else rest)
            page.items = [orjson.loads(raw) for raw in page.raw_items]
        return {"Items": [projected(item, select.projection) for item in page.items], **out}

    if _one_item(target, plan):
        return read()  # a point read: cheaper here than a hop to a thread
    return await run_page(read, target.spec.limit)


def _one_item(target: Target, plan: ReadPlan) -> bool:
    """Whether the read can find at most one item: the table's whole key pinned with `=`."""
    if target.index is not None or plan.partition is None:
        return False
    return not target.key.ranges or (len(plan.sort) == 1 and plan.sort[0].op == "EQ")


# --- INSERT, UPDATE, DELETE -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Write:
    """A write statement against its table: the action a transaction runs, or one ItemWriteOp."""

    statement: WriteStatement | Exists
    table: TableSpec
    action: Action


def plan_write(db: Database, statement: WriteStatement | Exists, return_old: bool = False) -> Write:
    """The write as PutItem (INSERT: only if the item does not exist), UpdateItem (only if it exists) or
    DeleteItem would make it, the rest of the WHERE clause as its condition."""
    if isinstance(statement, Exists):
        table = db.catalog.require(statement.select.table)
        target = write_target(table.key, statement.select.where)
        key, key_item = resolve_key(table, target.key)
        checked = join([exists(table.key), *([target.rest] if target.rest is not None else [])])
        check = Action("check", table, key, key_item, condition=checked, return_old_on_failure=return_old)
        return Write(statement, table, check)
    table = db.catalog.require(statement.table)
    if isinstance(statement, Insert):
        item_key(table.key, statement.item)
        key, size = put_target(table, statement.item)
        key_item = {name: statement.item[name] for name in table.key.names}
        action = Action(
            "put",
            table,
            key,
            key_item,
            item=statement.item,
            item_size=size,
            condition=not_exists(table.key),
            condition_failure=("ValidationError", DUPLICATE),
        )
        return Write(statement, table, action)
    target = write_target(table.key, statement.where)
    key, key_item = resolve_key(table, target.key)
    rest = [target.rest] if target.rest is not None else []
    if isinstance(statement, UpdateStatement):
        try:
            validate_update(statement.update)
        except ExpressionError as error:  # PartiQL's messages are the bare detail
            raise ValidationException(error.detail) from None
        action = Action(
            "update",
            table,
            key,
            key_item,
            update=statement.update,
            condition=join([exists(table.key), *rest]),
            return_old_on_failure=return_old,
        )
        return Write(statement, table, action)
    action = Action("delete", table, key, key_item, condition=join(rest), return_old_on_failure=return_old)
    return Write(statement, table, action)


async def run_write(db: Database, write: Write) -> WriteResult:
    """The write through the single writer, as the item operations run it."""
    action = write.action
    kind = action.kind
    if kind == "check":
        raise TypeError("EXISTS runs only in a transaction")
    op = ItemWriteOp(
        kind,
        write.table,
        action.key,
        action.key_item,
        db.clock.now(),
        item=action.item,
        update=action.update,
        condition=action.condition,
        return_old_on_failure=action.return_old_on_failure,
        item_size=action.item_size,
        collection_limit=db.settings.item_collection_limit_bytes,
    )
    try:
        result: WriteResult = await db.storage.write(op)
    except ConditionalCheckFailedException:
        if action.kind == "put":
            raise DuplicateItemException() from None
        raise
    return result


def returned(statement: WriteStatement, result: WriteResult) -> Item | None:
    """What RETURNING asks for (None: nothing)."""
    if isinstance(statement, Insert) or statement.returning is None:
        return None
    change = result.change
    which, age = statement.returning.split()
    item = change.old if age == "OLD" else change.new
    if which == "MODIFIED" and item is not None:
        item = updated_attributes(item, result.updated_paths)
    return item


def write_capacity(request: dict[str, Any], table: TableSpec, result: WriteResult) -> dict[str, Any] | None:
    capacity: dict[str, Any] | None = write_response(
        {"ReturnConsumedCapacity": request.get("ReturnConsumedCapacity")}, table, result, "NONE"
    ).get("ConsumedCapacity")
    return capacity
