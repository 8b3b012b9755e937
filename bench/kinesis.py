"""Kinesis phases: PutItem with a table's Kinesis destination enabled (against plain `put`), PutRecords
records/s, and draining a stream with GetRecords (every shard at once, within Kinesis's 5 calls a second
per shard, as a KCL worker would)."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from bench.loadgen import run_async
from bench.verify import Check
from bench.wire import ApiError, Connection, Endpoint, RequestBuilder, now
from bench.workloads import Put

if TYPE_CHECKING:
    from bench.phases import Bench, PhaseResult

KINESIS = "Kinesis_20131202."
RECORDS_PER_CALL = 500
SHARDS = 4
DATA = base64.b64encode(b"x" * 100).decode()


class KinesisClient:
    def __init__(self, endpoint: Endpoint) -> None:
        self.builder = RequestBuilder(endpoint)
        self.conn = Connection(endpoint)

    async def call(self, op: str, payload: dict[str, Any], target: str = KINESIS) -> dict[str, Any]:
        status, body = await self.conn.send(self.builder.render(target + op, orjson.dumps(payload)))
        if status != 200:
            raise ApiError(op, status, body)
        result: dict[str, Any] = orjson.loads(body)
        return result

    def close(self) -> None:
        self.conn.close()


async def create_stream(endpoint: Endpoint, name: str) -> str:
    client = KinesisClient(endpoint)
    try:
        await client.call(
            "CreateStream", {"StreamName": name, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}
        )
        summary = await client.call("DescribeStreamSummary", {"StreamName": name})
        return str(summary["StreamDescriptionSummary"]["StreamARN"])
    finally:
        client.close()


async def enable_destination(endpoint: Endpoint, table: str, arn: str) -> None:
    client = KinesisClient(endpoint)
    try:
        await client.call(
            "EnableKinesisStreamingDestination", {"TableName": table, "StreamArn": arn}, "DynamoDB_20120810."
        )
        deadline = now() + 60
        while True:
            out = await client.call(
                "DescribeKinesisStreamingDestination", {"TableName": table}, "DynamoDB_20120810."
            )
            if out["KinesisDataStreamDestinations"][0]["DestinationStatus"] == "ACTIVE":
                return
            if now() > deadline:
                raise TimeoutError("destination not ACTIVE after 60 s")
            await asyncio.sleep(0.05)
    finally:
        client.close()


@dataclass(slots=True)
class PutRecordsSession:
    builder: RequestBuilder
    stream: str
    client_id: int
    rnd: random.Random = field(default_factory=random.Random)

    def next_request(self) -> bytes:
        records = [
            {"Data": DATA, "PartitionKey": f"{self.client_id}-{self.rnd.random()}"}
            for _ in range(RECORDS_PER_CALL)
        ]
        return self.builder.render(
            KINESIS + "PutRecords", orjson.dumps({"StreamName": self.stream, "Records": records})
        )

    def on_success(self, body: bytes) -> int | str:
        failed = orjson.loads(body)["FailedRecordCount"]
        return RECORDS_PER_CALL - int(failed)

    def on_failure(self) -> None:
        pass

    def report(self) -> dict[str, Any]:
        return {"client": self.client_id}


@dataclass(frozen=True, slots=True)
class PutRecords:
    builder: RequestBuilder
    stream: str

    def session(self, client_id: int) -> PutRecordsSession:
        return PutRecordsSession(self.builder, self.stream, client_id, random.Random(client_id))


async def _drain_shard(endpoint: Endpoint, stream: str, shard_id: str) -> tuple[int, int]:
    client = KinesisClient(endpoint)
    records = calls = 0
    try:
        it = (
            await client.call(
                "GetShardIterator",
                {"StreamName": stream, "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"},
            )
        )["ShardIterator"]
        while it:
            try:
                page = await client.call("GetRecords", {"ShardIterator": it, "Limit": 10000})
            except ApiError as exc:
                if exc.kind == "ProvisionedThroughputExceededException":
                    await asyncio.sleep(0.05)
                    continue
                raise
            calls += 1
            records += len(page["Records"])
            it = page.get("NextShardIterator")
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
        return records, calls
    finally:
        client.close()


async def drain(endpoint: Endpoint, stream: str) -> tuple[int, int, int]:
    client = KinesisClient(endpoint)
    try:
        shards = (await client.call("ListShards", {"StreamName": stream}))["Shards"]
    finally:
        client.close()
    results = await asyncio.gather(*(_drain_shard(endpoint, stream, s["ShardId"]) for s in shards))
    return sum(r for r, _ in results), sum(c for _, c in results), len(shards)


def put_kinesis(bench: Bench, r: PhaseResult) -> None:
    """PutItem of new items into a table (no DynamoDB stream) whose changes also go to a Kinesis stream,
    compared with put-nostream: what the destination costs."""
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only (no Kinesis destinations)"
        return
    table = bench.table("kinesis")
    arn = run_async(create_stream(bench.endpoint, f"bench_{bench.tag}_dest_r{bench.round}"))
    run_async(enable_destination(bench.endpoint, table, arn))
    load = bench.load(Put(bench.builder, table, bench.space("put-kinesis")))
    r.absorb(load, "ops/s")
    if r.status == "n/a":
        return
    bench.verify_phase(r, table, bench.new_items(r, load, table))
    base = bench.results.get("put-nostream")
    if base is not None and base.status == "ok" and base.rate and r.rate is not None:
        diff = (r.rate - base.rate) / base.rate * 100.0
        r.metrics["vs_put_nostream_percent"] = round(diff, 1)
        r.note = f"{diff:+.1f}% vs put-nostream (target >= -15%)"


def kinesis_put_records(bench: Bench, r: PhaseResult) -> None:
    """PutRecords of 500 records of 100 bytes, random partition keys, into an on-demand stream."""
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only"
        return
    stream = f"bench_{bench.tag}_records_r{bench.round}"
    run_async(create_stream(bench.endpoint, stream))
    r.absorb(bench.load(PutRecords(bench.builder, stream)), "records/s", items=True)


def kinesis_drain(bench: Bench, r: PhaseResult) -> None:
    """Write --drain-items records, then read every shard from TRIM_HORIZON (GetRecords Limit 10000)."""
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only"
        return
    stream = f"bench_{bench.tag}_drain_r{bench.round}"
    run_async(create_stream(bench.endpoint, stream))
    written = run_async(_fill(bench.endpoint, stream, bench.settings.drain_items, bench.settings.clients))
    t0 = now()
    records, calls, shards = run_async(drain(bench.endpoint, stream))
    seconds = now() - t0
    r.rate, r.unit, r.ok = records / seconds, "records/s", records
    r.metrics.update(written=written, drain_seconds=round(seconds, 3), shards=shards, get_records_calls=calls)
    r.note = "target >= 50,000 records/s"
    r.checks.append(Check("every record read once", records == written, f"{records} read of {written}"))


async def _fill(endpoint: Endpoint, stream: str, total: int, concurrency: int) -> int:
    builder = RequestBuilder(endpoint)
    written = 0
    left = total

    async def worker(n: int) -> None:
        nonlocal written, left
        conn = Connection(endpoint)
        session = PutRecordsSession(builder, stream, n, random.Random(n))
        try:
            while left > 0:
                left -= RECORDS_PER_CALL
                status, body = await conn.send(session.next_request())
                if status != 200:
                    raise ApiError("PutRecords", status, body)
                written += RECORDS_PER_CALL - int(orjson.loads(body)["FailedRecordCount"])
        finally:
            conn.close()

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return written


PHASES: dict[str, Callable[[Bench, PhaseResult], None]] = {
    "put-kinesis": put_kinesis,
    "kinesis-putrecords": kinesis_put_records,
    "kinesis-drain": kinesis_drain,
}
