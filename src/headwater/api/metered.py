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

from ..core.database import Database
from ..core.throughput import Kind, Limiter
from ..core.usage import UsageMeter
from ..errors import DynamoDBError
from ..model.schema import IndexSpec, TableSpec
from .context import Handler, Response

Operations = dict[tuple[str, str], Handler]
Targets = Callable[[Database, dict[str, Any]], list[tuple[TableSpec, IndexSpec | None]]]


def _table(db: Database, name: Any) -> TableSpec | None:
    return db.catalog.get(name) if isinstance(name, str) else None


def _one(db: Database, request: dict[str, Any]) -> list[tuple[TableSpec, IndexSpec | None]]:
    table = _table(db, request.get("TableName"))
    if table is None:
        return []
    name = request.get("IndexName")
    return [(table, table.index(name) if isinstance(name, str) else None)]


def _transaction(db: Database, request: dict[str, Any]) -> list[tuple[TableSpec, IndexSpec | None]]:
    found: list[tuple[TableSpec, IndexSpec | None]] = []
    for action in request.get("TransactItems") or ():
        for body in action.values() if isinstance(action, dict) else ():
            table = _table(db, body.get("TableName") if isinstance(body, dict) else None)
            if table is not None:
                found.append((table, None))
    return found


# operation -> (direction, the tables and index it touches, the member batch operations leave unprocessed)
_METERED: dict[str, tuple[Kind, Targets | None, str | None]] = {
    "GetItem": ("read", _one, None),
    "Query": ("read", _one, None),
    "Scan": ("read", _one, None),
    "TransactGetItems": ("read", _transaction, None),
    "BatchGetItem": ("read", None, "UnprocessedKeys"),
    "PutItem": ("write", _one, None),
    "UpdateItem": ("write", _one, None),
    "DeleteItem": ("write", _one, None),
    "TransactWriteItems": ("write", _transaction, None),
    "BatchWriteItem": ("write", None, "UnprocessedItems"),
}


def metered(operations: Operations, limiter: Limiter | None, meter: UsageMeter | None) -> Operations:
    out = dict(operations)
    for name, (kind, targets, unprocessed) in _METERED.items():
        out["dynamodb", name] = _Metered(
            operations["dynamodb", name], kind, targets, unprocessed, limiter, meter
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
        targets: Targets | None,
        unprocessed: str | None,
        limiter: Limiter | None,
        meter: UsageMeter | None,
    ) -> None:
        self.handler = handler
        self.kind = kind
        self.targets = targets
        self.unprocessed = unprocessed
        self.limiter = limiter
        self.meter = meter

    async def __call__(self, db: Database, request: dict[str, Any]) -> Response:
        throttled: dict[str, Any] = {}
        if self.limiter is not None:
            if self.targets is not None:
                for table, index in self.targets(db, request):
                    self.limiter.admit(table, self.kind, index)
            else:
                request, throttled = self._batch(db, request, self.limiter)
        asked = request.get("ReturnConsumedCapacity")
        answer = await self.handler(db, {**request, "ReturnConsumedCapacity": "INDEXES"})
        out: dict[str, Any] = orjson.loads(answer) if isinstance(answer, bytes) else answer
        consumed = out.pop("ConsumedCapacity", None)
        entries: list[dict[str, Any]] = (
            consumed if isinstance(consumed, list) else [consumed] if consumed else []
        )
        for entry in entries:
            self._charge(db, entry)
        if asked in ("TOTAL", "INDEXES") and consumed is not None:
            shaped = [_shape(entry, asked) for entry in entries]
            out["ConsumedCapacity"] = shaped if isinstance(consumed, list) else shaped[0]
        if throttled and self.unprocessed is not None:
            out.setdefault(self.unprocessed, {}).update(throttled)
        return out

    def _batch(
        self, db: Database, request: dict[str, Any], limiter: Limiter
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
                limiter.admit(table, self.kind)
            except DynamoDBError as err:
                first = first or err
                throttled[name] = part
        if first is not None and len(throttled) == len(items):
            raise first
        left = {name: part for name, part in items.items() if name not in throttled}
        return {**request, "RequestItems": left}, throttled

    def _charge(self, db: Database, entry: Mapping[str, Any]) -> None:
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
