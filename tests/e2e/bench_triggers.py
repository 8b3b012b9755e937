"""Trigger benchmark (not a test): write -> handler invocation latency and records/s through a trivial
handler. Run: PYTHONPATH=src .venv/bin/python -m tests.e2e.bench_triggers [--poll 0.25]"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.triggers_support import dir_function, handler_dir, stream_table, wait_for
from tests.server import Server

LATENCY = """
import json, os, time
def handler(event, context):
    now = time.time()
    lat = [now - float(r["dynamodb"]["NewImage"]["t"]["N"]) for r in event["Records"]]
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(lat) + "\\n")
"""

COUNT = """
import os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(f"{len(event['Records'])}\\n")
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _writer(endpoint: str, table: str, index: int, count: int, interval: float, at: float) -> float:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    client.describe_table(TableName=table)  # connect before the clock starts
    time.sleep(max(0.0, at - time.time()))
    start = time.monotonic()
    for i in range(count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        client.put_item(TableName=table, Item={"pk": {"S": f"{index}-{i}"}, "t": {"N": repr(time.time())}})
    return time.monotonic() - start


def latency(srv: Server, root: Path, rate: int, seconds: float) -> dict[str, float]:
    ddb, lam = srv.client("dynamodb"), srv.client("lambda")
    table, arn = stream_table(ddb)
    out = root / "lat.jsonl"
    fn = dir_function(lam, handler_dir(root, LATENCY), env={"OUT": str(out)})
    lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST", BatchSize=100
    )
    time.sleep(1.0)
    processes = 4  # boto3 in one process tops out below 1,000 writes/s
    per_process = int(rate * seconds / processes)
    at = time.time() + 3.0  # every writer process starts together, after its imports
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        durations = pool.starmap(
            _writer, [(srv.endpoint, table, i, per_process, processes / rate, at) for i in range(processes)]
        )
    achieved = processes * per_process / max(durations)
    total = processes * per_process

    def collected() -> list[float]:
        if not out.exists():
            return []
        values = [v for line in out.read_text().splitlines() for v in json.loads(line)]
        return values if len(values) >= total else []

    values = wait_for(collected, timeout=60)
    return {
        "writes_per_s": round(achieved),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def throughput(srv: Server, root: Path, records: int) -> dict[str, float]:
    ddb, lam = srv.client("dynamodb"), srv.client("lambda")
    table, arn = stream_table(ddb)
    for start in range(0, records, 25):
        requests: list[dict[str, Any]] = [
            {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(start, min(records, start + 25))
        ]
        ddb.batch_write_item(RequestItems={table: requests})
    out = root / "count.txt"
    fn = dir_function(lam, handler_dir(root, COUNT), env={"OUT": str(out)})
    started = time.monotonic()
    lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=1000
    )

    def done() -> bool:
        return out.exists() and sum(int(x) for x in out.read_text().split()) >= records

    wait_for(done, timeout=300, interval=0.01)
    elapsed = time.monotonic() - started
    return {"records": records, "seconds": round(elapsed, 2), "records_per_s": round(records / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poll", default="0.25")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        srv = Server(root, ("--trigger-poll-interval", args.poll, "--sync", "NORMAL")).start()
        try:
            result = {
                "poll_interval": float(args.poll),
                "latency": latency(srv, root, args.rate, args.seconds),
                "throughput": throughput(srv, root, args.records),
            }
        finally:
            srv.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
