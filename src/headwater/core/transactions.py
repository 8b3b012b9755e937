"""Multi-item writes (TransactWriteItems, BatchWriteItem) as ONE WriteOperation, and transaction tokens.

All items' conditions are checked inside `apply` against the items the single writer read, so a
transaction is all-or-nothing: one failed condition cancels every action, with the reasons in order.
Each put/update/delete goes through `item_change` (item, index entries, stream record).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import (
    IdempotentParameterMismatchException,
    ItemCollectionSizeLimitExceededException,
    TransactionCanceledException,
    TransactionInProgressException,
    ValidationException,
)
from ..expressions import evaluate
from ..model.index_keys import EmptyIndexKeyValue
from ..model.limits import MAX_ITEM_COLLECTION_BYTES
from ..model.schema import TableSpec
from ..model.values import Item
from ..storage.base import CatalogView, ItemKey, WriteSet
from . import stored
from .capacity import write_units
from .catalog import current_table
from .changes import item_change
from .collections import CANCEL_CODE, COLLECTION_EXCEEDED, CollectionSizes, collection_keys
from .kinesis_capture import Destinations, destination_keys
from .lww import Stamp, local_stamp, stamp_key
from .writes import index_write_units, updated_item

ActionKind = Literal["put", "update", "delete", "check"]
Outcome = tuple[Item | None, int | None]  # the item an action leaves, and its size when known
# The real service's text (the API reference and DynamoDB Local end it with a period; the service does not).
CONDITION_FAILED = "The conditional request failed"
TOKEN_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    table: TableSpec
    key: ItemKey
    key_item: Item
    item: Item | None = None  # put
    item_size: int | None = None  # put: the item's size, already computed
    update: Any = None  # update
    condition: Any = None
    return_old_on_failure: bool = False
    # the cancellation reason (code, message) when the condition fails, if not ConditionalCheckFailed
    # (a PartiQL INSERT of an existing item)
    condition_failure: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    table: TableSpec
    units: float
    index_units: dict[str, float]
    collection_size: int | None = None  # the item collection's size after this action (tables with LSIs)


def cancellation_message(codes: Sequence[str]) -> str:
    return (
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(codes)}]"
    )


@dataclass(frozen=True, slots=True)
class MultiWriteOp:
    """Several items' writes committed together; `transactional` doubles the units (DynamoDB's rule)."""

    actions: tuple[Action, ...]
    now: float
    transactional: bool = True
    collection_limit: int = MAX_ITEM_COLLECTION_BYTES
    # the items, the size counters of the item collections they write (tables with LSIs), the
    # documents of their tables' Kinesis destination streams, then the last-writer-wins stamps of the
    # items of global tables they write; computed once
    keys: tuple[ItemKey, ...] = field(init=False)
    collection_end: int = field(init=False)
    stamps_start: int = field(init=False)

    def __post_init__(self) -> None:
        writes = [(a.table, a.key) for a in self.actions if a.kind != "check"]
        collections = collection_keys(writes)
        streams = destination_keys(table for table, _ in writes)
        stamps = tuple(stamp_key(key) for table, key in writes if table.is_global)
        keys = (*(action.key for action in self.actions), *collections, *streams, *stamps)
        object.__setattr__(self, "collection_end", len(self.actions) + len(collections))
        object.__setattr__(self, "stamps_start", len(keys) - len(stamps))
        object.__setattr__(self, "keys", keys)

    def resolve(self, catalog: CatalogView) -> MultiWriteOp:
        tables: dict[int, TableSpec] = {}  # by id(request-time spec): each table resolved once
        for action in self.actions:
            if id(action.table) not in tables:
                tables[id(action.table)] = current_table(catalog, action.table)
        if all(tables[id(action.table)] is action.table for action in self.actions):
            return self
        actions = tuple(dataclasses.replace(a, table=tables[id(a.table)]) for a in self.actions)
        return dataclasses.replace(self, actions=actions)

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        count = len(self.actions)
        unpacked = [stored.unpack_optional(raw) for raw in old_items[:count]]
        judged = [self._judge(action, old) for action, (old, _) in zip(self.actions, unpacked, strict=True)]
        reasons = [reason for reason, _ in judged]
        if any(reason["Code"] != "None" for reason in reasons):
            raise TransactionCanceledException(
                cancellation_message([r["Code"] for r in reasons]), CancellationReasons=reasons
            )
        ws = WriteSet()
        results: list[ActionResult] = []
        factor = 2.0 if self.transactional else 1.0
        end = self.collection_end
        collections = CollectionSizes(self.keys[count:end], old_items[count:end], self.collection_limit)
        start = self.stamps_start
        destinations = Destinations.of(old_items[end:start]) if end < start else None
        stored_stamps = {key: old_items[start + i] for i, key in enumerate(self.keys[start:])}
        for position, (action, (old, old_size), (_, (new, new_size))) in enumerate(
            zip(self.actions, unpacked, judged, strict=True)
        ):
            if action.kind == "check":
                results.append(ActionResult(action.table, factor * write_units(old_size), {}))
                continue
            try:
                collection_size = collections.change(action.table, action.key, old, new)
            except ItemCollectionSizeLimitExceededException:
                if not self.transactional:
                    raise
                raise _collection_cancelled(count, position) from None
            before = len(ws.indexes)
            stamp = None
            if action.table.is_global:
                stored_stamp = Stamp.decode(stored_stamps[stamp_key(action.key)])
                stamp = local_stamp(stored_stamp, self.now, action.table.namespace.region)
            change = item_change(
                ws,
                action.table,
                action.key,
                old,
                new,
                self.now,
                old_size=old_size,
                new_size=new_size,
                destinations=destinations,
                stamp=stamp,
            )
            index_units: dict[str, float] = {}
            if len(ws.indexes) > before:
                written = WriteSet(indexes=ws.indexes[before:])
                index_units = {
                    name: factor * units for name, units in index_write_units(action.table, written).items()
                }
            units = factor * write_units(max(change.old_size, change.new_size))
            results.append(ActionResult(action.table, units, index_units, collection_size))
        collections.write(ws)
        ws.result = results
        return ws

    def _judge(self, action: Action, old: Item | None) -> tuple[dict[str, Any], Outcome]:
        """The action's cancellation reason (Code "None" when it would not cancel the transaction) and the
        item it leaves with its size when known. In a transaction an update that cannot apply to the item
        it finds cancels it with reason ValidationError, as DynamoDB documents; a batch raises the error."""
        invalid = _key_update(action) if self.transactional else None
        if invalid is not None:
            return {"Code": "ValidationError", "Message": invalid}, (old, None)
        if action.condition is not None and not evaluate(action.condition, old):
            if action.condition_failure is not None:
                code, message = action.condition_failure
                return {"Code": code, "Message": message}, (old, None)
            reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED}
            if action.return_old_on_failure and old is not None:
                reason["Item"] = old
            return reason, (old, None)
        try:
            return {"Code": "None"}, _new_item(action, old)
        except ValidationException as error:
            if not self.transactional or isinstance(error, EmptyIndexKeyValue):
                raise
            return {"Code": "ValidationError", "Message": error.message}, (old, None)


def _key_update(action: Action) -> str | None:
    """A transaction's Update that touches a key attribute cancels it with reason ValidationError."""
    if action.kind != "update" or action.update is None:
        return None
    for update in action.update.actions:
        first = update.path.elements[0]
        if first in action.table.key.names:
            return (
                "One or more parameter values were invalid: "
                f"Cannot update attribute {first}. This attribute is part of the key"
            )
    return None


def _collection_cancelled(count: int, position: int) -> TransactionCanceledException:
    reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in range(count)]
    reasons[position] = {"Code": CANCEL_CODE, "Message": COLLECTION_EXCEEDED}
    return TransactionCanceledException(
        cancellation_message([r["Code"] for r in reasons]), CancellationReasons=reasons
    )


def _new_item(action: Action, old: Item | None) -> Outcome:
    """The item an action leaves, and its size when already known."""
    if action.kind == "put":
        return action.item, action.item_size
    if action.kind == "delete":
        return None, None
    if action.kind == "check":
        return old, None
    new, _, size = updated_item(action.table, action.key_item, action.update, old)
    return new, size


@dataclass(frozen=True, slots=True)
class TransactionGetOp:
    """TransactGetItems: read several items at one instant through the single writer (writes nothing)."""

    item_keys: tuple[ItemKey, ...]

    @property
    def keys(self) -> Sequence[ItemKey]:
        return self.item_keys

    def resolve(self, catalog: CatalogView) -> TransactionGetOp:
        return self  # the request checked its tables; a table gone since reads as no items

    def apply(self, old_items: Sequence[bytes | None]) -> WriteSet:
        return WriteSet(result=list(old_items))


@dataclass(slots=True)
class _Token:
    fingerprint: bytes
    expires: float
    response: dict[str, Any] | None = None  # None while the first request is still running


@dataclass
class TokenCache:
    """ClientRequestToken idempotency: a token's outcome is remembered for 10 minutes, in memory."""

    ttl: float = TOKEN_SECONDS
    _tokens: OrderedDict[str, _Token] = field(default_factory=OrderedDict)

    def _expire(self, now: float) -> None:
        while self._tokens:
            token, entry = next(iter(self._tokens.items()))
            if entry.expires > now:
                return
            del self._tokens[token]

    def begin(self, token: str, fingerprint: bytes, now: float) -> dict[str, Any] | None:
        """The earlier response for a repeated request, or None after reserving the token."""
        self._expire(now)
        entry = self._tokens.get(token)
        if entry is None:
            self._tokens[token] = _Token(fingerprint, now + self.ttl)
            return None
        if entry.fingerprint != fingerprint:
            raise IdempotentParameterMismatchException()
        if entry.response is None:
            raise TransactionInProgressException(
                "The transaction with the given request token is already in progress."
            )
        return entry.response

    def finish(self, token: str, response: dict[str, Any]) -> None:
        entry = self._tokens.get(token)
        if entry is not None:
            entry.response = response

    def abandon(self, token: str) -> None:
        """A failed transaction leaves no trace: the same token may run it again."""
        entry = self._tokens.get(token)
        if entry is not None and entry.response is None:
            del self._tokens[token]
