"""The benchmark phases, run in a fixed order against shared tables."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import kinesis, triggers
from bench.loadgen import LoadResult, Workload, run_async, run_load
from bench.server import RssSampler
from bench.streams import drain_table_stream
from bench.tables import bulk_load, create_table, scan_count
from bench.wire import ApiError, Client, Endpoint, RequestBuilder, now
from bench.workloads import (
    QUERY_ITEMS,
    QUERY_PARTITION,
    TRANSACT_PUTS,
    Batch,
    Get,
    Keyspace,
    Put,
    Query,
    Scan,
    Transact,
    Update,
    put_key,
)

PRELOAD_KEYS = 10_000  # written when get/update run without the put phase
PRELOAD_CLIENT = 999
BIG_PARTITION = "big"
BIG_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Settings:
    clients: int
    procs: int
    warmup: float
    duration: float
    drain_items: int
    big_items: int


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(slots=True)
class PhaseResult:
    name: str
    status: str = "ok"  # ok | n/a | error
    rate: float | None = None  # the headline figure, in `unit`
    unit: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    checks: list[Check] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def absorb(self, load: LoadResult, unit: str, *, items: bool = False) -> None:
        self.rate = load.item_rate if items else load.rate
        self.unit = unit
        self.p50_ms = load.percentile_ms(0.50)
        self.p99_ms = load.percentile_ms(0.99)
        self.ok = load.ok
        self.errors.update(load.errors)
        self.metrics.update(
            requests_per_s=round(load.rate, 1),
            items_per_s=round(load.item_rate, 1),
            ok_measured=load.ok,
            ok_total=load.ok_total,
            items_total=load.items_total,
            failed_total=load.failed_total,
            connects=load.connects,
            error_samples=load.error_samples,
        )
        if load.unsupported:
            self.status = "n/a"
            self.note = "UnknownOperationException"

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


class Bench:
    """Shared state of one run: tables, the keys written so far, and what each table should hold."""

    def __init__(self, endpoint: Endpoint, settings: Settings, server_pid: int | None, tag: str) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self.server_pid = server_pid
        self.builder = RequestBuilder(endpoint)
        self.tag = tag
        self.tables: list[str] = []
        self.expected: dict[str, int] = {}  # table -> items it must hold
        self.verified: set[str] = set()  # tables a phase already counted completely (skip the final Scan)
        self.keys: Keyspace | None = None
        self.query_loaded = False
        self.results: dict[str, PhaseResult] = {}

    # -- helpers ----------------------------------------------------------------------------------

    def table(self, role: str, *, stream: bool = False) -> str:
        name = f"bench_{self.tag}_{role}"
        if name not in self.expected:

            async def create() -> None:
                client = Client(self.endpoint)
                try:
                    await create_table(client, name, stream=stream)
                finally:
                    client.close()

            run_async(create())
            self.tables.append(name)
            self.expected[name] = 0
        return name

    def load(self, workload: Workload) -> LoadResult:
        s = self.settings
        return run_load(
            self.endpoint, workload, clients=s.clients, procs=s.procs, warmup=s.warmup, duration=s.duration
        )

    def count_check(self, table: str, what: str) -> Check:
        got = run_async(scan_count(self.endpoint, table))
        want = self.expected[table]
        return Check(f"Scan COUNT = {what}", got == want, f"scanned {got}, expected {want}")

    def ensure_keys(self, result: PhaseResult) -> Keyspace:
        if self.keys is None:
            main = self.table("main")
            keys = (put_key(PRELOAD_CLIENT, seq) for seq in range(PRELOAD_KEYS))
            self.expected[main] += run_async(bulk_load(self.endpoint, main, keys))
            self.keys = Keyspace({PRELOAD_CLIENT: PRELOAD_KEYS})
            result.note = f"{PRELOAD_KEYS} keys preloaded (no put phase)"
        return self.keys

    # -- phases -------------------------------------------------------------------------------------

    def put(self, r: PhaseResult) -> None:
        main = self.table("main")
        load = self.load(Put(self.builder, main))
        r.absorb(load, "ops/s")
        if r.status == "n/a":
            return
        self.keys = Keyspace.from_reports(load.reports)
        self.expected[main] += load.ok_total
        r.checks.append(self.count_check(main, "successful puts"))

    def get(self, r: PhaseResult) -> None:
        keys = self.ensure_keys(r)
        r.absorb(self.load(Get(self.builder, self.table("main"), keys)), "ops/s")

    def update(self, r: PhaseResult) -> None:
        keys = self.ensure_keys(r)
        r.absorb(self.load(Update(self.builder, self.table("main"), keys)), "ops/s")

    def put_stream(self, r: PhaseResult) -> None:
        table = self.table("stream", stream=True)
        load = self.load(Put(self.builder, table))
        r.absorb(load, "ops/s")
        if r.status == "n/a":
            return
        self.expected[table] += load.ok_total
        r.checks.append(self.count_check(table, "successful puts"))
        base = self.results.get("put")
        if base is not None and base.rate and r.rate is not None:
            diff = (r.rate - base.rate) / base.rate * 100.0
            r.metrics["vs_put_percent"] = round(diff, 1)
            r.note = f"{diff:+.1f}% vs put"

    def stream_drain(self, r: PhaseResult) -> None:
        n = self.settings.drain_items
        table = self.table("drain", stream=True)
        t0 = now()
        keys = ((f"d{i // 100:06d}", i % 100) for i in range(n))
        written = run_async(bulk_load(self.endpoint, table, keys, concurrency=self.settings.clients))
        load_s = now() - t0
        self.expected[table] += written
        t0 = now()
        drain = run_async(drain_table_stream(self.endpoint, table))
        seconds = now() - t0
        r.rate, r.unit, r.ok = drain.records / seconds, "records/s", drain.records
        r.metrics.update(
            written=written,
            load_items_per_s=round(written / load_s, 1),
            drain_seconds=round(seconds, 3),
            shards=drain.shards,
            get_records_calls=drain.requests,
            events=dict(drain.events),
        )
        dupes = sum(1 for c in drain.keys.values() if c > 1)
        r.checks.append(Check("one record per write", drain.records == written, f"{drain.records}/{written}"))
        r.checks.append(
            Check(
                "every key once, all INSERT",
                len(drain.keys) == written and dupes == 0 and drain.events["INSERT"] == written,
                f"{len(drain.keys)} keys, {dupes} duplicated, events {dict(drain.events)}",
            )
        )
        r.note = f"{drain.shards} shards, {drain.requests} GetRecords; load {written / load_s:,.0f} items/s"

    def query(self, r: PhaseResult) -> None:
        main = self.table("main")
        if not self.query_loaded:
            keys = ((QUERY_PARTITION, sk) for sk in range(QUERY_ITEMS))
            self.expected[main] += run_async(bulk_load(self.endpoint, main, keys))
            self.query_loaded = True
        r.absorb(self.load(Query(self.builder, main)), "pages/s")
        r.note = f"{r.metrics['items_per_s']:,.0f} items/s (Limit 100)"

    def scan(self, r: PhaseResult) -> None:
        main = self.table("main")
        load = self.load(Scan(self.builder, main))
        r.absorb(load, "pages/s")
        full = sum(rep.get("full_scans", 0) for rep in load.reports)
        r.metrics.update(full_scans=full, table_items=self.expected[main])
        r.note = f"{load.item_rate:,.0f} items/s; {full} full scans of {self.expected[main]:,} items"

    def batch(self, r: PhaseResult) -> None:
        main = self.table("main")
        load = self.load(Batch(self.builder, main))
        r.absorb(load, "items/s", items=True)
        self.expected[main] += load.items_total
        unprocessed = sum(rep.get("unprocessed", 0) for rep in load.reports)
        r.metrics["unprocessed_items"] = unprocessed
        r.note = f"{load.rate:,.0f} requests/s of 25 puts" + (
            f"; {unprocessed} unprocessed" if unprocessed else ""
        )

    def transact(self, r: PhaseResult) -> None:
        main = self.table("main")
        load = self.load(Transact(self.builder, main))
        r.absorb(load, "tx/s")
        self.expected[main] += load.ok_total * TRANSACT_PUTS
        r.note = f"{TRANSACT_PUTS} puts per transaction"

    def trigger_latency(self, r: PhaseResult) -> None:
        table = self.table("trigger_latency", stream=True)
        out = triggers.latency(self.endpoint, table, rate=1000.0, seconds=self.settings.duration)
        self.expected[table] += out["written"]
        r.rate, r.unit, r.ok = out["writes_per_s"], "writes/s", out["delivered"]
        r.p50_ms, r.p99_ms = out["p50_ms"], out["p99_ms"]
        r.metrics.update(out)
        r.checks.append(
            Check("every write invoked the handler", out["complete"], f"{out['delivered']}/{out['written']}")
        )
        r.note = "write -> handler latency at ~1,000 writes/s (p50/p99)"

    def trigger_throughput(self, r: PhaseResult) -> None:
        table = self.table("trigger_throughput", stream=True)
        out = triggers.throughput(self.endpoint, table, records=self.settings.drain_items // 2)
        self.expected[table] += out["written"]
        r.rate, r.unit, r.ok = out["delivered"] / out["seconds"], "records/s", out["delivered"]
        r.metrics.update(out)
        r.checks.append(
            Check("every record delivered", out["complete"], f"{out['delivered']}/{out['written']}")
        )
        r.note = "BatchSize 1000 from TRIM_HORIZON through a trivial handler"

    def bigpartition(self, r: PhaseResult) -> None:
        n = self.settings.big_items
        table = self.table("big")
        with RssSampler(self.server_pid) as sampler:
            sampler.mark("loading")
            t0 = now()
            keys = ((BIG_PARTITION, sk) for sk in range(n))
            written = run_async(bulk_load(self.endpoint, table, keys, concurrency=self.settings.clients))
            load_s = now() - t0
            self.expected[table] += written
            sampler.mark("query")
            t0 = now()
            pages, items, latencies = run_async(_page_partition(self.endpoint, table))
            query_s = now() - t0
        r.rate, r.unit, r.ok = pages / query_s, "pages/s", pages
        r.p50_ms = latencies[len(latencies) // 2] * 1000
        r.p99_ms = latencies[int(0.99 * len(latencies))] * 1000
        r.metrics.update(
            loaded=written,
            load_items_per_s=round(written / load_s, 1),
            query_pages=pages,
            query_items=items,
            query_items_per_s=round(items / query_s, 1),
        )
        r.checks.append(Check("Query pages return every item", items == written, f"{items}/{written}"))
        self.verified.add(table)
        if self.server_pid is None:
            r.note = (
                f"RSS not sampled: server pid unknown (--server-pid); load {written / load_s:,.0f} items/s"
            )
            return
        mib = {stage: round(kib / 1024, 1) for stage, kib in sampler.peaks.items()}
        r.metrics["peak_rss_mib"] = mib
        r.note = (
            f"peak RSS MiB: start {mib.get('baseline', 0):,.0f}, loading {mib.get('loading', 0):,.0f}, "
            f"query {mib.get('query', 0):,.0f}; load {written / load_s:,.0f} items/s"
        )


async def _page_partition(endpoint: Endpoint, table: str) -> tuple[int, int, list[float]]:
    """Query the big partition Limit 1000 page after page; (pages, items, sorted page latencies)."""
    client = Client(endpoint)
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": BIG_PARTITION}},
        "Limit": BIG_PAGE,
    }
    pages = items = 0
    latencies: list[float] = []
    try:
        while True:
            t0 = now()
            page = await client.call("Query", request)
            latencies.append(now() - t0)
            pages += 1
            items += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    finally:
        client.close()
    latencies.sort()
    return pages, items, latencies


PHASES: dict[str, Callable[[Bench, PhaseResult], None]] = {
    "put": Bench.put,
    "get": Bench.get,
    "update": Bench.update,
    "put-stream": Bench.put_stream,
    "stream-drain": Bench.stream_drain,
    "query": Bench.query,
    "scan": Bench.scan,
    "batch": Bench.batch,
    "transact": Bench.transact,
    "trigger-latency": Bench.trigger_latency,
    "trigger-throughput": Bench.trigger_throughput,
    "bigpartition": Bench.bigpartition,
    **kinesis.PHASES,
}
DEFAULT_PHASES = [p for p in PHASES if p != "bigpartition"]


def run_phase(bench: Bench, name: str) -> PhaseResult:
    """Run one phase; an unsupported operation makes it n/a and any other failure an error row."""
    result = PhaseResult(name)
    try:
        PHASES[name](bench, result)
    except ApiError as exc:
        result.status = "n/a" if exc.unsupported else "error"
        result.errors[exc.kind] += 1
        result.note = str(exc)[:200]
    except (OSError, RuntimeError, TimeoutError) as exc:
        result.status = "error"
        result.errors[type(exc).__name__] += 1
        result.note = str(exc)[:200]
    bench.results[name] = result
    return result


def final_check(bench: Bench) -> list[Check]:
    """Every table holds exactly what the run wrote into it."""
    checks = []
    for table in bench.tables:
        if table in bench.verified:
            continue
        try:
            checks.append(bench.count_check(table, f"all writes into {table}"))
        except (ApiError, OSError) as exc:
            checks.append(Check(f"Scan COUNT of {table}", False, str(exc)[:200]))
    return checks


def run_tag() -> str:
    return f"{int(now() * 1000) % 10**8:08d}{random.randrange(1000):03d}"
