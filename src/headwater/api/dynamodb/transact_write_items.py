"""TransactWriteItems: up to 100 actions, all-or-nothing in ONE WriteOperation, ClientRequestToken."""

from __future__ import annotations

from typing import Any

import orjson

from ...core.database import Database
from ...core.transactions import Action, ActionKind, ActionResult, MultiWriteOp
from ...errors import ValidationException
from ...expressions import compile_request
from ...model.keys import KeyMismatch
from ...model.values import validate_item
from ._items import put_target
from ._multi import capacity_list, collection_metrics, key_cancellation, key_of, require_table

KINDS = {"ConditionCheck": "check", "Put": "put", "Delete": "delete", "Update": "update"}
OPERATIONS = {
    "ConditionCheck": "ConditionCheck",
    "Put": "PutItem",
    "Delete": "DeleteItem",
    "Update": "UpdateItem",
}
IGNORED_FOR_IDEMPOTENCY = ("ClientRequestToken", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics")


def _action(db: Database, entry: dict[str, Any], now: float) -> Action:
    """One entry as an action. A Put's item is checked as PutItem checks it; a key attribute of another type
    (or a Key without exactly the key attributes) raises KeyMismatch, which cancels the transaction."""
    present = [name for name in KINDS if entry.get(name) is not None]
    if not present:
        raise ValidationException(
            "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"
        )
    if len(present) > 1:
        raise ValidationException("TransactItems can only contain one of Check, Put, Update or Delete")
    name = present[0]
    body: dict[str, Any] = entry[name]
    compiled = compile_request(body, operation=OPERATIONS[name])
    table = require_table(db, body["TableName"])
    return_old = body.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    if name == "Put":
        item = validate_item(body.get("Item"))
        key, size = put_target(table, item)
        key_item = {n: item[n] for n in table.key.names}
        return Action(
            "put",
            table,
            key,
            key_item,
            item=item,
            item_size=size,
            condition=compiled.condition,
            return_old_on_failure=return_old,
        )
    key, key_item = key_of(table, body.get("Key"))
    kind: ActionKind = "check" if name == "ConditionCheck" else "delete" if name == "Delete" else "update"
    return Action(
        kind,
        table,
        key,
        key_item,
        update=compiled.update,
        condition=compiled.condition,
        return_old_on_failure=return_old,
    )


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any]:
    now = db.clock.now()
    actions: list[Action] = []
    seen: set[tuple[int, bytes, bytes]] = set()
    mismatched: dict[int, str] = {}
    for position, entry in enumerate(request["TransactItems"]):
        try:
            action = _action(db, entry, now)
        except KeyMismatch as error:
            mismatched[position] = str(error.message)
            continue
        identity = (action.table.table_id, action.key.pk, action.key.sk)
        if identity in seen:
            raise ValidationException("Transaction request cannot include multiple operations on one item")
        seen.add(identity)
        actions.append(action)
    if mismatched:
        raise key_cancellation(mismatched, len(request["TransactItems"]))
    return await run_transaction(db, actions, request)


async def run_transaction(db: Database, actions: list[Action], request: dict[str, Any]) -> dict[str, Any]:
    """Commit the actions all or nothing (TransactWriteItems, ExecuteTransaction), once per
    ClientRequestToken, and answer ConsumedCapacity and ItemCollectionMetrics as the request asks."""
    now = db.clock.now()
    mode = request.get("ReturnConsumedCapacity")
    token = request.get("ClientRequestToken")
    if token is not None:
        token = db.namespace.prefix + token  # a token is its caller's: namespaces share no tokens
    tokens = db.transaction_tokens
    if token is not None:
        fingerprint = orjson.dumps(
            {k: v for k, v in request.items() if k not in IGNORED_FOR_IDEMPOTENCY},
            option=orjson.OPT_SORT_KEYS,
        )
        if tokens.begin(token, fingerprint, now) is not None:
            # A repeat changes nothing; like DynamoDB it reports reading the items, not writing them.
            out: dict[str, Any] = {}
            capacity = capacity_list(mode, ((a.table, 2.0, {}) for a in actions), "read")
            if capacity is not None:
                out["ConsumedCapacity"] = capacity
            return out
    try:
        op = MultiWriteOp(tuple(actions), now, True, db.settings.item_collection_limit_bytes)
        results: list[ActionResult] = await db.storage.write(op)
    except BaseException:
        if token is not None:
            tokens.abandon(token)
        raise
    if token is not None:
        tokens.finish(token, {})
    response: dict[str, Any] = {}
    capacity = capacity_list(mode, ((r.table, r.units, r.index_units) for r in results), "write")
    if capacity is not None:
        response["ConsumedCapacity"] = capacity
    metrics = collection_metrics(
        request.get("ReturnItemCollectionMetrics"),
        ((a.table, a.key_item, r.collection_size) for a, r in zip(actions, results, strict=True)),
    )
    if metrics is not None:
        response["ItemCollectionMetrics"] = metrics
    return response
