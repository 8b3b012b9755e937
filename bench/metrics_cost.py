"""Per-request cost of counting a call for /metrics, in nanoseconds (CPU time: the machine may be shared).

    .venv/bin/python bench/metrics_cost.py

Each figure is the best of 5 runs of 200,000 calls (timeit with time.process_time):

- observe: `RequestCounts.observe` as HeadwaterApp calls it for a PutItem, with the two perf_counter
  readings around the call (what the request path pays);
- prometheus-client: the same with its own Counter and Histogram (`labels(...).inc()`, `.observe()`),
  each taking a lock per observation, as the alternative this design turned down;
- app: HeadwaterApp answering a validated PutItem whose `Calls.run` answers at once (no handler, no
  commit: only routing, validation and the counting are left), with the counts kept and with a
  `RequestCounts` whose `observe` does nothing: the difference is the whole per-request cost.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from time import perf_counter, process_time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from headwater.core.namespace import Namespace
from headwater.http.app import HeadwaterApp
from headwater.http.messages import Request
from headwater.metrics.requests import LATENCY_BUCKETS, RequestCounts

RUNS, NUMBER = 5, 200_000
NAMESPACE = Namespace("000000000000", "us-east-1")
BODY = json.dumps(
    {
        "TableName": "bench",
        "Item": {"pk": {"S": "user#000123"}, "sk": {"S": "order#1"}, "v": {"S": "x" * 160}},
    }
).encode()


def best(stmt: Callable[[], object]) -> float:
    """Nanoseconds per call, the best of RUNS runs."""
    return min(timeit.repeat(stmt, timer=process_time, repeat=RUNS, number=NUMBER)) / NUMBER * 1e9


class Immediate:
    async def run(
        self, namespace: Namespace, service: str, operation: str, request: dict[str, Any], body: bytes
    ) -> tuple[int, bytes]:
        return 200, b"{}"


class Uncounted(RequestCounts):
    def observe(self, service: str, operation: str, seconds: float, error: str | None) -> None:
        return None


def app_call(app: HeadwaterApp, request: Request) -> Callable[[], object]:
    def once() -> object:
        coro = app(request)
        try:
            coro.send(None)
        except StopIteration as done:
            return done.value
        raise RuntimeError("the app waited")

    return once


def main() -> None:
    counts = RequestCounts()

    def observe() -> None:
        started = perf_counter()
        counts.observe("dynamodb", "PutItem", perf_counter() - started, None)

    registry = CollectorRegistry(auto_describe=False)
    requests = Counter("bench_requests", "", ["service", "operation"], registry=registry)
    latency = Histogram(
        "bench_seconds", "", ["service", "operation"], registry=registry, buckets=LATENCY_BUCKETS
    )

    def prometheus() -> None:
        started = perf_counter()
        requests.labels("dynamodb", "PutItem").inc()
        latency.labels("dynamodb", "PutItem").observe(perf_counter() - started)

    headers = {
        b"x-amz-target": b"DynamoDB_20120810.PutItem",
        b"content-type": b"application/x-amz-json-1.0",
        b"authorization": b"AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/dynamodb/aws4_request, "
        b"SignedHeaders=host, Signature=x",
    }
    request = Request("POST", "/", b"", headers, list(headers.items()), BODY, "127.0.0.1", False)
    counted = app_call(HeadwaterApp(Immediate(), None, b"", NAMESPACE, counts=RequestCounts()), request)
    uncounted = app_call(HeadwaterApp(Immediate(), None, b"", NAMESPACE, counts=Uncounted()), request)

    print(f"observe (with its two clock readings): {best(observe):7.0f} ns")
    print(f"prometheus-client Counter + Histogram: {best(prometheus):7.0f} ns")
    with_counts, without = [], []
    for _ in range(3):  # interleaved: the machine's load changes between runs
        with_counts.append(best(counted))
        without.append(best(uncounted))
    print(f"app, counted:                          {min(with_counts):7.0f} ns")
    print(f"app, not counted:                      {min(without):7.0f} ns")
    print(f"difference per request:                {min(with_counts) - min(without):7.0f} ns")


if __name__ == "__main__":
    main()
