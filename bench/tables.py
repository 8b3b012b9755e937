"""Benchmark tables and items: creation, bulk loading, counting."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from bench.wire import ApiError, Client, Endpoint, now

PAYLOAD = "x" * 100
BATCH = 25
UPDATES = "updates"  # the counter every UpdateItem of the update phase adds 1 to


def item(pk: str, sk: int) -> dict[str, Any]:
    """A ~200-byte item (attribute names and values counted as DynamoDB sizes them)."""
    return {
        "pk": {"S": pk},
        "sk": {"N": str(sk)},
        "name": {"S": f"user {pk}"},
        "email": {"S": f"{pk}@example.com"},
        "score": {"N": str(sk * 7919 % 100_000)},
        "active": {"BOOL": True},
        "payload": {"S": PAYLOAD},
    }


def key(pk: str, sk: int) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def batch_put(table: str, keys: Iterable[tuple[str, int]]) -> dict[str, Any]:
    return {"RequestItems": {table: [{"PutRequest": {"Item": item(pk, sk)}} for pk, sk in keys]}}


async def create_table(client: Client, name: str, *, stream: bool) -> dict[str, Any]:
    """Create a (pk S, sk N) on-demand table and wait until it is ACTIVE; returns its description."""
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    await client.call("CreateTable", request)
    deadline = now() + 60
    while True:
        table: dict[str, Any] = (await client.call("DescribeTable", {"TableName": name}))["Table"]
        if table.get("TableStatus") == "ACTIVE":
            return table
        if now() > deadline:
            raise TimeoutError(f"table {name} not ACTIVE after 60 s")
        await asyncio.sleep(0.05)


async def delete_table(endpoint: Endpoint, name: str) -> None:
    client = Client(endpoint)
    try:
        await client.call("DeleteTable", {"TableName": name})
    except (ApiError, OSError):
        pass  # best effort: the server's data dir is temporary anyway
    finally:
        client.close()


async def scan_count(endpoint: Endpoint, table: str) -> int:
    """Items in `table`, by a paginated Scan with Select=COUNT."""
    items, _ = await _scan(endpoint, table, {"Select": "COUNT"})
    return items


async def scan_updates(endpoint: Endpoint, table: str) -> tuple[int, int]:
    """(items, sum of their `updates` counters) by one paginated Scan projecting only the counter."""
    projection = {"ProjectionExpression": "#u", "ExpressionAttributeNames": {"#u": UPDATES}}
    return await _scan(endpoint, table, projection)


async def _scan(endpoint: Endpoint, table: str, options: dict[str, Any]) -> tuple[int, int]:
    client = Client(endpoint)
    items = updates = 0
    request: dict[str, Any] = {"TableName": table, **options}
    try:
        while True:
            page = await client.call("Scan", request)
            items += int(page["Count"])
            updates += sum(int(i[UPDATES]["N"]) for i in page.get("Items", ()) if UPDATES in i)
            if "LastEvaluatedKey" not in page:
                return items, updates
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        client.close()


async def bulk_load(
    endpoint: Endpoint, table: str, keys: Iterable[tuple[str, int]], *, concurrency: int = 16
) -> int:
    """Write one item per key with BatchWriteItem (25 a request), retrying UnprocessedItems."""
    chunks: Iterator[tuple[tuple[str, int], ...]] = iter(_chunked(keys, BATCH))
    written = 0

    async def worker() -> None:
        nonlocal written
        client = Client(endpoint)
        try:
            for chunk in chunks:  # the shared iterator hands each chunk to exactly one worker
                request = batch_put(table, chunk)
                for attempt in range(50):
                    answer = await client.call("BatchWriteItem", request)
                    left = answer.get("UnprocessedItems") or {}
                    if not left:
                        break
                    request = {"RequestItems": left}
                    await asyncio.sleep(min(1.0, 0.01 * 2**attempt))
                else:
                    raise RuntimeError(f"BatchWriteItem into {table}: items still unprocessed after 50 tries")
                written += len(chunk)
        finally:
            client.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return written


def _chunked(keys: Iterable[tuple[str, int]], size: int) -> Iterator[tuple[tuple[str, int], ...]]:
    it = iter(keys)
    while chunk := tuple(itertools.islice(it, size)):
        yield chunk
