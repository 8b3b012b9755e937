"""Trigger phases: write -> handler invocation latency at a steady write rate, and records/s through a
trivial handler with BatchSize 1000. Functions are deployed from a local directory (Headwater's hot-reload
code location) through the Lambda API on the same endpoint, the way a user would: under CODE_ROOT, which
the bench's own server allows (`--allow-code-dir`); a server started by hand needs the same flag."""

from __future__ import annotations

import json
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import boto3

from bench.keys import KeySpace
from bench.lag import percentile
from bench.loadgen import run_async
from bench.paced import paced_puts
from bench.server import CODE_ROOT
from bench.tables import bulk_load
from bench.wire import Client, Endpoint

LATENCY_HANDLER = """
import json, os, time
def handler(event, context):
    now = time.time()
    lat = [now - float(r["dynamodb"]["NewImage"]["t"]["N"]) for r in event["Records"]]
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(lat) + "\\n")
"""

COUNT_HANDLER = """
import os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{len(event['Records'])}\\n")
"""


def _lambda(endpoint: Endpoint) -> Any:
    creds = endpoint.credentials
    return boto3.client(
        "lambda",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id=creds.key_id if creds else "bench",
        aws_secret_access_key=creds.secret if creds else "bench",
    )


def _stream_arn(endpoint: Endpoint, table: str) -> str:
    async def describe() -> str:
        client = Client(endpoint)
        try:
            answer = await client.call("DescribeTable", {"TableName": table})
            return str(answer["Table"]["LatestStreamArn"])
        finally:
            client.close()

    return run_async(describe())


def _deploy(endpoint: Endpoint, root: Path, name: str, code: str, out: Path) -> None:
    folder = root / name
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(code))
    _lambda(endpoint).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/bench",
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(folder)},
        Environment={"Variables": {"OUT": str(out)}},
    )


def _code_directory() -> tempfile.TemporaryDirectory[str]:
    CODE_ROOT.mkdir(exist_ok=True)
    return tempfile.TemporaryDirectory(dir=CODE_ROOT)


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def latency(endpoint: Endpoint, table: str, space: KeySpace, rate: float, seconds: float) -> dict[str, Any]:
    """Deploy a handler on `table`'s stream (StartingPosition LATEST), write at `rate`, and measure how long
    each write took to reach the handler."""
    with _code_directory() as tmp:
        root = Path(tmp)
        out = root / "latencies.jsonl"
        name = f"{table}_latency"
        _deploy(endpoint, root, name, LATENCY_HANDLER, out)
        mapping = _lambda(endpoint).create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=_stream_arn(endpoint, table),
            StartingPosition="LATEST",
            BatchSize=100,
        )
        time.sleep(1.0)  # the mapping takes its LATEST position before the writes start
        started = time.monotonic()
        written = len(run_async(paced_puts(endpoint, table, space, rate, seconds)))
        achieved = written / (time.monotonic() - started)
        values: list[float] = []

        def collected() -> bool:
            nonlocal values
            if out.exists():
                values = [v for line in out.read_text().splitlines() for v in json.loads(line)]
            return len(values) >= written

        complete = _wait(collected, timeout=60)
        _lambda(endpoint).delete_event_source_mapping(UUID=mapping["UUID"])
    values.sort()
    return {
        "written": written,
        "delivered": len(values),
        "complete": complete,
        "writes_per_s": achieved,
        "p50_ms": _ms(percentile(values, 0.50)),
        "p99_ms": _ms(percentile(values, 0.99)),
        "max_ms": _ms(values[-1] if values else None),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def throughput(endpoint: Endpoint, table: str, space: KeySpace, records: int) -> dict[str, Any]:
    """Write `records` items, then time a BatchSize 1000 mapping from TRIM_HORIZON through all of them."""
    written = run_async(bulk_load(endpoint, table, (space.key(0, i, 100) for i in range(records))))
    with _code_directory() as tmp:
        root = Path(tmp)
        out = root / "counts.txt"
        name = f"{table}_count"
        _deploy(endpoint, root, name, COUNT_HANDLER, out)
        started = time.monotonic()
        mapping = _lambda(endpoint).create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=_stream_arn(endpoint, table),
            StartingPosition="TRIM_HORIZON",
            BatchSize=1000,
        )

        def delivered() -> int:
            return sum(int(x) for x in out.read_text().split()) if out.exists() else 0

        complete = _wait(lambda: delivered() >= written, timeout=300)
        seconds = time.monotonic() - started
        count = delivered()
        _lambda(endpoint).delete_event_source_mapping(UUID=mapping["UUID"])
    return {"written": written, "delivered": count, "complete": complete, "seconds": seconds}
