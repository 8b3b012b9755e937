"""Query: one partition of a table or index, read as a sort-key range on the order-preserving encoding."""

from __future__ import annotations

from typing import Any

from ...core.database import Database
from ...core.reads import in_bounds, read_page, sort_bounds
from ...errors import ValidationException
from ...expressions import compile_request, key_condition_for_schema
from ...model.keys import encode_key_values, partition_hash
from ._reads import (
    base_fetcher,
    check_filter_keys,
    page_response,
    resolve_target,
    run_page,
    start_position,
)

NO_KEY_CONDITION = (
    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
)
START_KEY_MISMATCH = "The provided starting key does not match the range key predicate"


async def handle(db: Database, request: dict[str, Any]) -> dict[str, Any] | bytes:
    compiled = compile_request(request, operation="Query")
    if compiled.key_condition is None:
        raise ValidationException(NO_KEY_CONDITION)
    table = db.catalog.require(request["TableName"])
    target = resolve_target(table, request, compiled)
    key = target.key
    match = key_condition_for_schema(compiled.key_condition, key, request.get("IndexName"))
    pk = encode_key_values(key.hashes, match.partition)
    lower, upper = sort_bounds(match.sort, key.ranges)
    check_filter_keys(request, compiled, key)
    start = start_position(target, request.get("ExclusiveStartKey"))
    if start is not None and (start[1] != pk or not in_bounds(start[2], lower, upper)):
        raise ValidationException(START_KEY_MISMATCH)
    forward = request.get("ScanIndexForward") is not False
    fetch = base_fetcher(db.storage, target)

    def read() -> dict[str, Any] | bytes:
        rows = db.storage.query(
            table.table_id,
            target.index_id,
            partition_hash(pk),
            pk,
            lower=lower,
            upper=upper,
            forward=forward,
            start_after=start[2:] if start is not None else None,
            expected=target.spec.limit,
        )
        return page_response(request, target, read_page(rows, target.spec, fetch))

    return await run_page(read, target.spec.limit)
