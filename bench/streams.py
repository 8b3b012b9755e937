"""Reading a whole DynamoDB stream: every shard from TRIM_HORIZON, parents before children."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.wire import Client, Endpoint

GET_RECORDS_LIMIT = 1000
OPEN_SHARD_EMPTY_PAGES = 2  # an open shard is caught up after this many empty pages in a row
CLOSED_SHARD_EMPTY_PAGES = 100  # a closed shard ends with no NextShardIterator; this only stops a bad server


@dataclass(slots=True)
class Drain:
    shards: int = 0
    requests: int = 0
    records: int = 0
    events: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)  # pk#sk -> records seen


async def stream_arn(client: Client, table: str) -> str:
    streams = (await client.call("ListStreams", {"TableName": table}, streams=True)).get("Streams", [])
    if not streams:
        raise RuntimeError(f"ListStreams returned no stream for {table}")
    return str(streams[0]["StreamArn"])


async def describe_shards(client: Client, arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StreamArn": arn}
    while True:
        description = (await client.call("DescribeStream", request, streams=True))["StreamDescription"]
        shards.extend(description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        request["ExclusiveStartShardId"] = last


async def drain_table_stream(endpoint: Endpoint, table: str, *, concurrency: int = 8) -> Drain:
    """Read every record of the table's stream; a shard starts only once its parent is fully read."""
    client = Client(endpoint)
    try:
        arn = await stream_arn(client, table)
        shards = await describe_shards(client, arn)
    finally:
        client.close()
    drain = Drain(shards=len(shards))
    known = {s["ShardId"] for s in shards}
    finished = {sid: asyncio.Event() for sid in known}
    limit = asyncio.Semaphore(concurrency)

    async def read(shard: dict[str, Any]) -> None:
        parent = shard.get("ParentShardId")
        if parent in known:  # a parent that is already trimmed away is not listed: nothing to wait for
            await finished[parent].wait()
        async with limit:
            await _read_shard(endpoint, arn, shard, drain)
        finished[shard["ShardId"]].set()

    await asyncio.gather(*(read(s) for s in shards))
    return drain


async def _read_shard(endpoint: Endpoint, arn: str, shard: dict[str, Any], drain: Drain) -> None:
    client = Client(endpoint)
    try:
        request = {"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}
        iterator = (await client.call("GetShardIterator", request, streams=True)).get("ShardIterator")
        closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
        empty = 0
        while iterator:
            page = await client.call(
                "GetRecords", {"ShardIterator": iterator, "Limit": GET_RECORDS_LIMIT}, streams=True
            )
            drain.requests += 1
            records = page.get("Records", [])
            for record in records:
                drain.events[record.get("eventName", "?")] += 1
                keys = record.get("dynamodb", {}).get("Keys", {})
                drain.keys[f"{keys.get('pk', {}).get('S')}#{keys.get('sk', {}).get('N')}"] += 1
            drain.records += len(records)
            iterator = page.get("NextShardIterator")  # absent once a closed shard is fully read
            empty = 0 if records else empty + 1
            if empty >= (CLOSED_SHARD_EMPTY_PAGES if closed else OPEN_SHARD_EMPTY_PAGES):
                break
    finally:
        client.close()
