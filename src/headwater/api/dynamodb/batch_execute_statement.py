"""BatchExecuteStatement: up to 25 PartiQL statements, all single-item reads or all writes, each answered
on its own (an error in `Responses[i].Error` fails only statement i)."""

from __future__ import annotations

import asyncio
from typing import Any

from ...core import stored
from ...core.capacity import read_units
from ...core.database import Database
from ...core.writes import WriteResult
from ...errors import (
    ConditionalCheckFailedException,
    DuplicateItemException,
    DynamoDBError,
    ItemCollectionSizeLimitExceededException,
    ResourceNotFoundException,
    TransactionConflictException,
    ValidationException,
)
from ...model.schema import TableSpec
from ...partiql import Exists, Select, Statement
from ...partiql.parser import ParameterCountMismatch
from ...partiql.plan import NO_KEY_EQUALITY, write_target
from ._items import resolve_key
from ._multi import capacity_list
from ._partiql import Write, parse_request, plan_write, projected, returned, run_write
from .execute_statement import EXISTS_OUTSIDE_TRANSACTION

MIXED = "Read and write requests together in the same batch is not supported."
DUPLICATES = "Provided list of item keys contains duplicates"
NOT_AN_OPERATION = "Invalid operation. Only select, insert, update and delete operations are valid"
SINGLE_ITEM = "Only single item select is supported"
# A statement's error as BatchStatementError codes it.
_CODES: tuple[tuple[type[DynamoDBError], str], ...] = (
    (ValidationException, "ValidationError"),
    (ResourceNotFoundException, "ResourceNotFound"),
    (ConditionalCheckFailedException, "ConditionalCheckFailed"),
    (DuplicateItemException, "DuplicateItem"),
    (ItemCollectionSizeLimitExceededException, "ItemCollectionSizeLimitExceeded"),
    (TransactionConflictException, "TransactionConflict"),
)
Usage = list[tuple[TableSpec, float, dict[str, float]]]


def _failed(error: DynamoDBError, table: TableSpec | None = None) -> dict[str, Any]:
    code = next((code for kind, code in _CODES if isinstance(error, kind)), None)
    if code is None:
        raise error
    reason: dict[str, Any] = {"Code": code, "Message": error.message}
    if "Item" in error.extra:
        reason["Item"] = error.extra["Item"]
    out: dict[str, Any] = {"Error": reason}
    if table is not None:
        out["TableName"] = table.name
    return out


def _parse(entry: dict[str, Any]) -> Statement | DynamoDBError:
    try:
        statement = parse_request(entry["Statement"], entry.get("Parameters"))
    except ParameterCountMismatch as error:
        return error
    except ValidationException as error:
        if error.message is not None and error.message.startswith("Statement wasn't well formed"):
            return ValidationException(NOT_AN_OPERATION)
        return error
    return ValidationException(EXISTS_OUTSIDE_TRANSACTION) if isinstance(statement, Exists) else statement


def _parsed(entry: Statement | DynamoDBError) -> Statement | None:
    """The statement, also when only its parameters were wrong (DynamoDB reads its kind first)."""
    if isinstance(entry, ParameterCountMismatch):
        return entry.statement
    return None if isinstance(entry, DynamoDBError) else entry


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = request["Statements"]
    parsed = [_parse(entry) for entry in entries]
    kinds = {isinstance(_parsed(p), Select) for p in parsed if _parsed(p) is not None}
    if len(kinds) > 1:
        raise ValidationException(MIXED)
    usage: Usage = []
    if kinds == {False}:
        responses = await _write(db, entries, parsed, usage)
    else:
        seen: set[tuple[int, bytes, bytes]] = set()
        responses = [_read(db, entry, p, usage, seen) for entry, p in zip(entries, parsed, strict=True)]
    out: dict[str, Any] = {"Responses": responses}
    capacity = capacity_list(
        request.get("ReturnConsumedCapacity"), usage, "read" if kinds != {False} else "write"
    )
    if capacity is not None:
        out["ConsumedCapacity"] = capacity
    return out


def _read(
    db: Database,
    entry: dict[str, Any],
    parsed: Statement | DynamoDBError,
    usage: Usage,
    seen: set[tuple[int, bytes, bytes]],
) -> dict[str, Any]:
    """One statement as GetItem: it must name exactly one item."""
    if not isinstance(parsed, Select):  # an error: a batch of reads holds only SELECTs
        return _failed(parsed if isinstance(parsed, DynamoDBError) else ValidationException(MIXED))
    try:
        table = db.catalog.require(parsed.table)
    except ResourceNotFoundException as error:
        return _failed(error)
    try:
        target = write_target(table.key, parsed.where)
        if target.rest is not None or parsed.index is not None:
            raise ValidationException(SINGLE_ITEM)
        key, _ = resolve_key(table, target.key)
    except ValidationException as error:
        return _failed(ValidationException(SINGLE_ITEM) if error.message == NO_KEY_EQUALITY else error)
    identity = (table.table_id, key.pk, key.sk)
    if identity in seen:
        raise ValidationException(DUPLICATES)
    seen.add(identity)
    raw = db.storage.get_item(key)
    consistent = bool(entry.get("ConsistentRead"))
    usage.append((table, read_units(stored.size_of(raw) if raw is not None else 0, consistent), {}))
    out: dict[str, Any] = {"TableName": table.name}
    if raw is not None:
        out["Item"] = projected(stored.unpack(raw), parsed.projection)
    return out


async def _write(
    db: Database, entries: list[dict[str, Any]], parsed: list[Statement | DynamoDBError], usage: Usage
) -> list[dict[str, Any]]:
    """Each statement as its own PutItem/UpdateItem/DeleteItem, all submitted together (one commit group)."""
    planned: list[Write | dict[str, Any]] = []
    seen: set[tuple[int, bytes, bytes]] = set()
    for entry, statement in zip(entries, parsed, strict=True):
        if isinstance(statement, (DynamoDBError, Select, Exists)):  # an error: no SELECT gets here
            planned.append(
                _failed(statement if isinstance(statement, DynamoDBError) else ValidationException(MIXED))
            )
            continue
        try:
            write = plan_write(db, statement, entry.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD")
        except DynamoDBError as error:
            table = db.catalog.get(statement.table)
            planned.append(_failed(error, table if isinstance(error, ValidationException) else None))
            continue
        identity = (write.table.table_id, write.action.key.pk, write.action.key.sk)
        if identity in seen:
            raise ValidationException(DUPLICATES)
        seen.add(identity)
        planned.append(write)

    async def one(write: Write) -> dict[str, Any]:
        try:
            result: WriteResult = await run_write(db, write)
        except DynamoDBError as error:
            return _failed(error, write.table)
        usage.append((write.table, result.units, result.index_units))
        out: dict[str, Any] = {"TableName": write.table.name}
        attributes = returned(write.statement, result) if not isinstance(write.statement, Exists) else None
        if attributes:
            out["Item"] = attributes
        return out

    done = await asyncio.gather(*(one(p) for p in planned if isinstance(p, Write)))
    answers = iter(done)
    return [next(answers) if isinstance(p, Write) else p for p in planned]
