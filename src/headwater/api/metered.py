"""The item operations, metered: `serve --enforce-capacity` throttles them like DynamoDB, `--meter-usage`
counts what they consume. Either wraps the handlers once at start; without them the handlers are called
as they are (not even a branch on the request path).

What a request consumed is what its own ConsumedCapacity says (core/capacity.py, the one computation):
the handler is asked for ReturnConsumedCapacity INDEXES, that answer is charged, and the client gets the
shape it asked for (or none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ..core.capacity import write_units
from ..core.database import Database
from ..core.throughput import Kind, Limiter
from ..core.transactions import cancellation_message
from ..core.usage import UsageMeter
from ..errors import (
    ConditionalCheckFailedException,
    DynamoDBError,
    ProvisionedThroughputExceededException,
    ThrottlingException,
    TransactionCanceledException,
)
from ..model.schema import TableSpec
from ..model.size import item_size
from .context import Handler, Response

Operations = dict[tuple[str, str], Handler]
# How a request is admitted: the request to run (a batch's without its throttled tables) and what is left
# unprocessed; the throttling error when nothing may run
Admission = Callable[[Limiter, Kind, Database, dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]
NOTHING_LEFT: dict[str, Any] = {}


def _table(db: Database, name: Any) -> TableSpec | None:
    return db.catalog.get(name) if isinstance(name, str) else None


def _admit_one(
    limiter: Limiter, kind: Kind, db: Database, request: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    table = _table(db, request.get("TableName"))
    if table is not None:  # else the handler says the table is not there
        name = request.get("IndexName")
        limiter.admit(table, kind, table.index(name) if isinstance(name, str) else None)
    return request, NOTHING_LEFT


def _partition(db: Database, request: dict[str, Any]) -> tuple[TableSpec, bytes] | None:
    """An item operation's table and partition key value (its JSON), if the request names them."""
    values = request.get("Key") or request.get("Item")
    table = _table(db, request.get("TableName")) if isinstance(values, dict) else None
    if table is None or not isinstance(values, dict):
        return None
    value = values.get(table.key.hashes[0].name)
    return (table, orjson.dumps(value, option=orjson.OPT_SORT_KEYS)) if isinstance(value, dict) else None


def _admit_batch(
    limiter: Limiter, kind: Kind, db: Database, request: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A batch's tables whose buckets are empty are left unprocessed; all of them: the error."""
    items: dict[str, Any] = request.get("RequestItems") or {}
    throttled: dict[str, Any] = {}
    first: DynamoDBError | None = None
    for name, part in items.items():
        table = _table(db, name)
        if table is None:
            continue
        try:
            limiter.admit(table, kind)
        except DynamoDBError as err:
            first = first or err
            throttled[name] = part
    if first is not None and len(throttled) == len(items):
        raise first
    if not throttled:
        return request, NOTHING_LEFT
    left = {name: part for name, part in items.items() if name not in throttled}
    return {**request, "RequestItems": left}, throttled


def _admit_transaction(
    limiter: Limiter, kind: Kind, db: Database, request: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A transaction touching a throttled table is cancelled, the throttled actions' reasons saying why
    (ProvisionedThroughputExceeded, or ThrottlingError on demand), as TransactWriteItems documents."""
    reasons: list[dict[str, str]] = []
    for action in request.get("TransactItems") or ():
        body = next(iter(action.values()), None) if isinstance(action, dict) and action else None
        table = _table(db, body.get("TableName") if isinstance(body, dict) else None)
        reason = {"Code": "None"}
        if table is not None:
            try:
                limiter.admit(table, kind)
            except ProvisionedThroughputExceededException as err:
                reason = {"Code": "ProvisionedThroughputExceeded", "Message": str(err.message)}
            except ThrottlingException as err:
                reason = {"Code": "ThrottlingError", "Message": str(err.message)}
        reasons.append(reason)
    if any(reason["Code"] != "None" for reason in reasons):
        codes = [reason["Code"] for reason in reasons]
        raise TransactionCanceledException(cancellation_message(codes), CancellationReasons=reasons)
    return request, NOTHING_LEFT


# operation -> (direction, how it is admitted, the member a batch leaves unprocessed requests in)
_METERED: dict[str, tuple[Kind, Admission, str | None]] = {
    "GetItem": ("read", _admit_one, None),
    "Query": ("read", _admit_one, None),
    "Scan": ("read", _admit_one, None),
    "TransactGetItems": ("read", _admit_transaction, None),
    "BatchGetItem": ("read", _admit_batch, "UnprocessedKeys"),
    "PutItem": ("write", _admit_one, None),
    "UpdateItem": ("write", _admit_one, None),
    "DeleteItem": ("write", _admit_one, None),
    "TransactWriteItems": ("write", _admit_transaction, None),
    "BatchWriteItem": ("write", _admit_batch, "UnprocessedItems"),
}


def metered(operations: Operations, limiter: Limiter | None, meter: UsageMeter | None) -> Operations:
    out = dict(operations)
    for name, (kind, admission, unprocessed) in _METERED.items():
        out["dynamodb", name] = _Metered(
            operations["dynamodb", name], kind, admission, unprocessed, limiter, meter
        )
    if meter is not None:
        out["dynamodbstreams", "GetRecords"] = _StreamReads(
            operations["dynamodbstreams", "GetRecords"], meter
        )
    return out


class _Metered:
    def __init__(
        self,
        handler: Handler,
        kind: Kind,
        admission: Admission,
        unprocessed: str | None,
        limiter: Limiter | None,
        meter: UsageMeter | None,
    ) -> None:
        self.handler = handler
        self.kind = kind
        self.admission = admission
        self.unprocessed = unprocessed
        self.limiter = limiter
        self.meter = meter

    async def __call__(self, db: Database, request: dict[str, Any]) -> Response:
        throttled = NOTHING_LEFT
        if self.limiter is not None:
            request, throttled = self.admission(self.limiter, self.kind, db, request)
        partition = _partition(db, request) if self.limiter is not None else None
        if self.limiter is not None and partition is not None:
            self.limiter.admit_key(partition[0], self.kind, partition[1])
        asked = request.get("ReturnConsumedCapacity")
        forwarded = {**request, "ReturnConsumedCapacity": "INDEXES"}
        single_write = self.kind == "write" and self.admission is _admit_one
        if single_write:
            forwarded["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"  # its size is what is charged
        try:
            answer = await self.handler(db, forwarded)
        except ConditionalCheckFailedException as err:
            if single_write:
                self._failed_condition(db, request, err, partition)
            raise
        out: dict[str, Any] = orjson.loads(answer) if isinstance(answer, bytes) else answer
        consumed = out.pop("ConsumedCapacity", None)
        entries: list[dict[str, Any]] = (
            consumed if isinstance(consumed, list) else [consumed] if consumed else []
        )
        for entry in entries:
            self._charge(db, entry, partition)
        if asked in ("TOTAL", "INDEXES") and consumed is not None:
            shaped = [_shape(entry, asked) for entry in entries]
            out["ConsumedCapacity"] = shaped if isinstance(consumed, list) else shaped[0]
        if throttled and self.unprocessed is not None:
            out.setdefault(self.unprocessed, {}).update(throttled)
        return out

    def _failed_condition(
        self,
        db: Database,
        request: dict[str, Any],
        err: ConditionalCheckFailedException,
        partition: tuple[TableSpec, bytes] | None,
    ) -> None:
        """A write whose condition fails still consumes write units: the existing item's, at least one."""
        old = (
            err.extra.get("Item")
            if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
            else (err.extra.pop("Item", None))
        )
        self._charge(
            db,
            {
                "TableName": request.get("TableName"),
                "CapacityUnits": write_units(item_size(old) if old else 0),
            },
            partition,
        )

    def _charge(
        self, db: Database, entry: Mapping[str, Any], partition: tuple[TableSpec, bytes] | None
    ) -> None:
        """Take an answer's ConsumedCapacity from the buckets (the item's partition key value's too: the
        table's and its LSIs' units, which live in the item's partition) and count it."""
        table = _table(db, entry.get("TableName"))
        if table is None:
            return
        units = float(entry.get("Table", {}).get("CapacityUnits", entry.get("CapacityUnits", 0.0)))
        index_units = {
            name: float(value.get("CapacityUnits", 0.0))
            for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for name, value in (entry.get(member) or {}).items()
        }
        if self.limiter is not None:
            self.limiter.charge(table, self.kind, units, index_units)
            if partition is not None and partition[0].table_id == table.table_id:
                lsi = sum(
                    v for name, v in index_units.items() if (ix := table.index(name)) and ix.kind == "LSI"
                )
                self.limiter.charge_key(table, self.kind, partition[1], units + lsi)
        if self.meter is not None:
            self.meter.consumed(table, self.kind, units, index_units)


def _shape(entry: dict[str, Any], asked: str) -> dict[str, Any]:
    if asked == "INDEXES":
        return entry
    return {"TableName": entry["TableName"], "CapacityUnits": entry["CapacityUnits"]}


class _StreamReads:
    """GetRecords calls, counted for the table whose stream they read (DynamoDB bills streams by them)."""

    def __init__(self, handler: Handler, meter: UsageMeter) -> None:
        self.handler = handler
        self.meter = meter

    async def __call__(self, db: Database, request: dict[str, Any]) -> Response:
        answer = await self.handler(db, request)
        iterator = request.get("ShardIterator")
        if isinstance(iterator, str) and not request.get("HeadwaterReplicationStamps"):
            table = _table(db, iterator.partition("/stream/")[0])
            if table is not None:
                self.meter.stream_read(table)
        return answer
