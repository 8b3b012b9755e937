"""Reading DynamoDB streams: a whole stream (every shard from TRIM_HORIZON, parents before children), or
following one as records arrive, noting when each key shows up."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.paced import key_name
from bench.wire import ApiError, Client, Endpoint, now

GET_RECORDS_LIMIT = 1000
OPEN_SHARD_EMPTY_PAGES = 2  # an open shard is caught up after this many empty pages in a row
CLOSED_SHARD_EMPTY_PAGES = 100  # a closed shard ends with no NextShardIterator; this only stops a bad server
# at most 2 GetRecords a shard at once: a global table's replication links read its shards too
TOO_MANY_READERS = "LimitExceededException"
READER_BACKOFF = 0.01
TAIL_POLL = 0.01  # a follower's pause after an empty page: the resolution of the times it notes
TAIL_DESCRIBE = 1.0  # how often a follower looks for new shards


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
            page = await get_records(client, iterator)
            drain.requests += 1
            records = page.get("Records", [])
            for record in records:
                drain.events[record.get("eventName", "?")] += 1
                drain.keys[record_key(record)] += 1
            drain.records += len(records)
            iterator = page.get("NextShardIterator")  # absent once a closed shard is fully read
            empty = 0 if records else empty + 1
            if empty >= (CLOSED_SHARD_EMPTY_PAGES if closed else OPEN_SHARD_EMPTY_PAGES):
                break
    finally:
        client.close()


def record_key(record: dict[str, Any]) -> str:
    keys = record.get("dynamodb", {}).get("Keys", {})
    return key_name(keys.get("pk", {}).get("S", ""), keys.get("sk", {}).get("N", ""))


async def get_records(client: Client, iterator: str) -> dict[str, Any]:
    """One GetRecords page, asked again while the shard has its two readers already."""
    while True:
        try:
            return await client.call(
                "GetRecords", {"ShardIterator": iterator, "Limit": GET_RECORDS_LIMIT}, streams=True
            )
        except ApiError as exc:
            if exc.kind != TOO_MANY_READERS:
                raise
            await asyncio.sleep(READER_BACKOFF)


async def follow_stream(
    endpoint: Endpoint, arn: str, seen: dict[str, float], stop: asyncio.Event, reading: asyncio.Event
) -> int:
    """Read every shard of the stream from TRIM_HORIZON until `stop`, new shards as they appear, noting
    in `seen` when (on `now`'s clock) each key's first record was read. `reading` is set once every shard
    there was at the start has answered one GetRecords. Returns the GetRecords calls made."""
    client = Client(endpoint)
    followers: dict[str, asyncio.Task[int]] = {}
    try:
        while not stop.is_set():
            for shard in await describe_shards(client, arn):
                if shard["ShardId"] not in followers:
                    first = asyncio.Event()
                    follower = _follow_shard(endpoint, arn, shard["ShardId"], seen, stop, first)
                    followers[shard["ShardId"]] = asyncio.create_task(follower)
                    if not reading.is_set():
                        await first.wait()
            reading.set()
            for task in followers.values():
                if task.done():
                    task.result()  # a follower's failure (its ApiError) ends the whole follow
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TAIL_DESCRIBE)
        return sum(await asyncio.gather(*followers.values()))
    finally:
        for task in followers.values():
            task.cancel()
        client.close()


async def _follow_shard(
    endpoint: Endpoint,
    arn: str,
    shard_id: str,
    seen: dict[str, float],
    stop: asyncio.Event,
    first: asyncio.Event,  # set after the first page (or the end)
) -> int:
    client = Client(endpoint)
    calls = 0
    try:
        request = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
        iterator = (await client.call("GetShardIterator", request, streams=True)).get("ShardIterator")
        while iterator and not stop.is_set():
            page = await get_records(client, iterator)
            calls += 1
            first.set()
            at = now()
            records = page.get("Records", [])
            for record in records:
                seen.setdefault(record_key(record), at)
            iterator = page.get("NextShardIterator")  # absent once a closed shard is fully read
            if not records:
                await asyncio.sleep(TAIL_POLL)
        return calls
    finally:
        first.set()
        client.close()
