"""The benchmark phases.  One `Bench` per server holds that server's tables across the rounds of a run.

Write phases write into tables of their own round, with keys from their own key space (bench/keys.py),
and are verified afterwards (bench/verify.py): every successful write must have changed an item.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bench import dax, kinesis, replication, triggers
from bench.keys import KeySpace, Written
from bench.loadgen import LoadResult, Workload, run_async, run_load
from bench.server import Partner, RssSampler
from bench.streams import drain_table_stream
from bench.tables import BATCH, bulk_load, create_table, scan_count
from bench.verify import Check, Expected, TableState, compare, measure
from bench.wire import ApiError, Client, Endpoint, RequestBuilder, now
from bench.workloads import (
    QUERY_ITEMS,
    QUERY_PARTITION,
    TRANSACT_PUTS,
    Batch,
    Get,
    PartiqlInsert,
    PartiqlSelect,
    Put,
    Query,
    Scan,
    Transact,
    Update,
)

PRELOAD_KEYS = 10_000  # written when get/update run in a round without the put phase
READ_ITEMS = 10_000  # the read-only table: these plus the 1000-item query partition
BIG_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Settings:
    clients: int
    procs: int
    warmup: float
    duration: float
    drain_items: int
    big_items: int
    replication_rate: float = 1000.0  # PutItems a second of the replication-lag phases


@dataclass(slots=True)
class PhaseResult:
    name: str
    status: str = "ok"  # ok | n/a | error
    rate: float | None = None  # the headline figure, in `unit`
    unit: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    ok: int = 0
    writes: int | None = None  # successful item writes (write phases), warm-up included
    changed: int | None = None  # how many of them verifiably changed an item
    errors: Counter[str] = field(default_factory=Counter)
    checks: list[Check] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def absorb(self, load: LoadResult, unit: str, *, items: bool = False) -> None:
        self.rate = load.item_rate if items else load.rate
        self.unit = unit
        self.p50_ms = load.percentile_ms(0.50)
        self.p99_ms = load.percentile_ms(0.99)
        self.p999_ms = load.percentile_ms(0.999)
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
        server_us = load.cpu_us_per_request(load.server_cpu)
        if server_us is not None and load.server_cpu is not None:
            # CPU per request, and the cores kept busy: a server near 1.0 core is its own ceiling
            self.metrics.update(
                server_cpu_us_per_request=round(server_us, 1),
                server_cores=round(load.server_cpu / load.duration, 2),
            )
        generator_us = load.cpu_us_per_request(load.generator_cpu)
        if generator_us is not None:
            self.metrics.update(
                generator_cpu_us_per_request=round(generator_us, 1),
                generator_cores=round(load.generator_cpu / load.duration, 2),
            )
        if load.unsupported:
            self.status = "n/a"
            self.note = "UnknownOperationException"

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


class Bench:
    """One server's side of a run: its tables, what each holds, and the keys put wrote this round."""

    def __init__(
        self,
        endpoint: Endpoint,
        settings: Settings,
        server_pid: int | None,
        tag: str,
        *,
        peer: bool = False,
        partner: Partner | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self.server_pid = server_pid
        self.builder = RequestBuilder(endpoint)
        self.tag = tag
        self.peer = peer  # a comparison server: Headwater-only phases (triggers) are n/a
        self.partner = partner  # where a second Headwater may serve another region (a server we started)
        self.round = 1
        self.tables: list[str] = []
        self.streamed: dict[str, bool] = {}  # table -> it has a stream the server really keeps
        self.state: dict[str, TableState] = {}  # table -> contents last verified
        self.expected: dict[str, int] = {}  # table -> items it must hold (the final Scan COUNT)
        self.verified: set[str] = set()  # tables a phase already counted completely (skip the final Scan)
        self.written: tuple[str, Written] | None = None  # (table, keys) put wrote this round
        self.results: dict[str, PhaseResult] = {}  # this round's

    def begin_round(self, number: int) -> None:
        self.round = number
        self.written = None
        self.results = {}

    # -- helpers ----------------------------------------------------------------------------------

    def table(self, role: str, *, stream: bool = False, per_round: bool = True) -> str:
        """The table of `role` (this round's own when `per_round`), created on first use."""
        name = f"bench_{self.tag}_{role}" + (f"_r{self.round}" if per_round else "")
        if name not in self.expected:

            async def create() -> dict[str, Any]:
                client = Client(self.endpoint)
                try:
                    return await create_table(client, name, stream=stream)
                finally:
                    client.close()

            description = run_async(create())
            self.tables.append(name)
            self.expected[name] = 0
            # dynalite accepts a StreamSpecification and keeps no stream: no LatestStreamArn
            self.streamed[name] = stream and bool(description.get("LatestStreamArn"))
            self.state[name] = TableState.empty(self.streamed[name])
        return name

    def space(self, phase: str) -> KeySpace:
        return KeySpace.of(phase, self.round)

    def load(self, workload: Workload) -> LoadResult:
        s = self.settings
        return run_load(
            self.endpoint,
            workload,
            clients=s.clients,
            procs=s.procs,
            warmup=s.warmup,
            duration=s.duration,
            server_pid=self.server_pid,
        )

    def bulk(self, table: str, keys: Iterable[tuple[str, int]]) -> int:
        written = run_async(bulk_load(self.endpoint, table, keys, concurrency=self.settings.clients))
        self.expected[table] += written
        return written

    def verify(self, table: str, want: Expected) -> tuple[int, list[Check]]:
        """Measure the table now and compare it with its last verified state (not timed)."""
        after = run_async(measure(self.endpoint, table, self.streamed[table]))
        changed, checks = compare(self.state[table], after, want)
        self.state[table] = after
        return changed, checks

    def verify_phase(self, r: PhaseResult, table: str, want: Expected) -> None:
        r.changed, checks = self.verify(table, want)
        r.writes = want.writes
        r.checks.extend(checks)
        r.metrics.update(changed=r.changed, writes=r.writes, stream=self.streamed[table])
        if not self.streamed[table]:
            r.note = "changes counted by Scan (the table keeps no stream)"

    def count_check(self, table: str, what: str) -> Check:
        got = run_async(scan_count(self.endpoint, table))
        want = self.expected[table]
        return Check(f"Scan COUNT = {what}", got == want, f"scanned {got}, expected {want}")

    def keys(self, r: PhaseResult) -> tuple[str, Written]:
        """The table and keys put wrote this round, or PRELOAD_KEYS preloaded items in a streamed table."""
        if self.written is None or self.written[1].size == 0:
            space = self.space("preload")
            table = self.table("preload", stream=True)
            written = self.bulk(table, (space.key(0, seq) for seq in range(PRELOAD_KEYS)))
            _, checks = self.verify(table, Expected(written, creates=True))
            r.checks.extend(Check(f"preload: {c.name}", c.passed, c.detail) for c in checks)
            self.written = (table, Written(space, {0: PRELOAD_KEYS}))
            r.note = f"{PRELOAD_KEYS:,} keys preloaded (no put phase this round)"
        return self.written

    def read_table(self) -> str:
        """One read-only table per server: READ_ITEMS items plus the 1000-item query partition."""
        table = self.table("read", per_round=False)
        if self.expected[table] == 0:
            space = KeySpace.of("preload", 0)
            self.bulk(table, (space.key(0, seq) for seq in range(READ_ITEMS)))
            self.bulk(table, ((QUERY_PARTITION, sk) for sk in range(QUERY_ITEMS)))
        return table

    def new_items(self, r: PhaseResult, load: LoadResult, table: str, *, per_request: int = 1) -> Expected:
        """Each successful item write of the load made a new item in `table`."""
        r.metrics["table"] = table
        self.expected[table] += load.items_total
        return Expected(load.items_total, creates=True, unknown=load.failed_total * per_request)

    # -- phases -------------------------------------------------------------------------------------

    def put(self, r: PhaseResult) -> None:
        """PutItem of new items into a table with a NEW_AND_OLD_IMAGES stream."""
        table = self.table("put", stream=True)
        space = self.space("put")
        load = self.load(Put(self.builder, table, space))
        r.absorb(load, "ops/s")
        if r.status == "n/a":
            return
        self.written = (table, Written.from_reports(space, load.reports))
        self.verify_phase(r, table, self.new_items(r, load, table))

    def put_nostream(self, r: PhaseResult) -> None:
        """The same PutItem load into a table without a stream: what the stream costs."""
        table = self.table("nostream")
        load = self.load(Put(self.builder, table, self.space("put-nostream")))
        r.absorb(load, "ops/s")
        if r.status == "n/a":
            return
        self.verify_phase(r, table, self.new_items(r, load, table))
        streamed = self.results.get("put")
        if streamed is None or not streamed.metrics.get("stream"):
            return  # no put on a streamed table this round (dynalite keeps no stream): nothing to compare
        if streamed.status == "ok" and streamed.rate and r.rate:
            overhead = (r.rate - streamed.rate) / r.rate * 100.0
            r.metrics["stream_overhead_percent"] = round(overhead, 1)
            r.note = f"the stream costs {overhead:.1f}% of put throughput this round"

    def get(self, r: PhaseResult) -> None:
        table, keys = self.keys(r)
        r.absorb(self.load(Get(self.builder, table, keys)), "ops/s")

    def update(self, r: PhaseResult) -> None:
        """UpdateItem on items put wrote (streamed table), each setting a value no other request sets."""
        table, keys = self.keys(r)
        load = self.load(Update(self.builder, table, keys, self.space("update")))
        r.absorb(load, "ops/s")
        if r.status == "n/a":
            return
        r.metrics["table"] = table
        self.verify_phase(r, table, Expected(load.ok_total, creates=False, unknown=load.failed_total))

    def partiql_select(self, r: PhaseResult) -> None:
        """ExecuteStatement SELECT by full key on the keys get reads: PartiQL's cost over GetItem."""
        table, keys = self.keys(r)
        r.absorb(self.load(PartiqlSelect(self.builder, table, keys)), "ops/s")
        self.compare_with(r, "get")

    def partiql_insert(self, r: PhaseResult) -> None:
        """ExecuteStatement INSERT of put's items (streamed table): PartiQL's cost over PutItem."""
        table = self.table("partiql-insert", stream=True)
        load = self.load(PartiqlInsert(self.builder, table, self.space("partiql-insert")))
        r.absorb(load, "ops/s")
        if r.status == "n/a":
            return
        self.verify_phase(r, table, self.new_items(r, load, table))
        self.compare_with(r, "put")

    def compare_with(self, r: PhaseResult, classic: str) -> None:
        """The rate of `r` against the classic operation's phase of this round, when both ran."""
        base = self.results.get(classic)
        if base is not None and base.status == "ok" and base.rate and r.rate:
            ratio = r.rate / base.rate * 100.0
            r.metrics[f"percent_of_{classic}"] = round(ratio, 1)
            r.note = f"{ratio:.1f}% of {classic}'s rate this round"

    def stream_drain(self, r: PhaseResult) -> None:
        table = self.table("drain", stream=True)
        if not self.streamed[table]:
            r.status, r.note = "n/a", "no streams on this server"
            return
        space = self.space("stream-drain")
        t0 = now()
        written = self.bulk(table, (space.key(0, i, 100) for i in range(self.settings.drain_items)))
        load_s = now() - t0
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
        r.absorb(self.load(Query(self.builder, self.read_table())), "pages/s")
        r.note = f"{r.metrics['items_per_s']:,.0f} items/s (Limit 100)"

    def scan(self, r: PhaseResult) -> None:
        table = self.read_table()
        load = self.load(Scan(self.builder, table))
        r.absorb(load, "pages/s")
        full = sum(rep.get("full_scans", 0) for rep in load.reports)
        r.metrics.update(full_scans=full, table_items=self.expected[table])
        r.note = f"{load.item_rate:,.0f} items/s; {full} full scans of {self.expected[table]:,} items"

    def batch(self, r: PhaseResult) -> None:
        """BatchWriteItem of 25 new items (streamed table); UnprocessedItems are not retried."""
        table = self.table("batch", stream=True)
        load = self.load(Batch(self.builder, table, self.space("batch")))
        r.absorb(load, "items/s", items=True)
        if r.status == "n/a":
            return
        self.verify_phase(r, table, self.new_items(r, load, table, per_request=BATCH))
        unprocessed = sum(rep.get("unprocessed", 0) for rep in load.reports)
        r.metrics["unprocessed_items"] = unprocessed
        r.note = f"{load.rate:,.0f} requests/s of 25 puts" + (
            f"; {unprocessed} unprocessed" if unprocessed else ""
        )

    def transact(self, r: PhaseResult) -> None:
        table = self.table("transact", stream=True)
        load = self.load(Transact(self.builder, table, self.space("transact")))
        r.absorb(load, "tx/s")
        if r.status == "n/a":
            return
        self.verify_phase(r, table, self.new_items(r, load, table, per_request=TRANSACT_PUTS))
        r.note = f"{TRANSACT_PUTS} puts per transaction"

    def trigger_latency(self, r: PhaseResult) -> None:
        if self.peer:
            r.status, r.note = "n/a", "Headwater only"
            return
        table = self.table("trigger_latency", stream=True)
        space = self.space("trigger-latency")
        out = triggers.latency(self.endpoint, table, space, rate=1000.0, seconds=self.settings.duration)
        self.expected[table] += out["written"]
        r.rate, r.unit, r.ok = out["writes_per_s"], "writes/s", out["delivered"]
        r.p50_ms, r.p99_ms = out["p50_ms"], out["p99_ms"]
        r.metrics.update(out)
        r.checks.append(
            Check("every write invoked the handler", out["complete"], f"{out['delivered']}/{out['written']}")
        )
        r.note = "write -> handler latency at ~1,000 writes/s (p50/p99)"

    def trigger_throughput(self, r: PhaseResult) -> None:
        if self.peer:
            r.status, r.note = "n/a", "Headwater only"
            return
        table = self.table("trigger_throughput", stream=True)
        space = self.space("trigger-throughput")
        out = triggers.throughput(self.endpoint, table, space, records=self.settings.drain_items // 2)
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
        partition = self.space("bigpartition").partition(0, 0)
        with RssSampler(self.server_pid) as sampler:
            sampler.mark("loading")
            t0 = now()
            written = self.bulk(table, ((partition, sk) for sk in range(n)))
            load_s = now() - t0
            sampler.mark("query")
            t0 = now()
            pages, items, latencies = run_async(_page_partition(self.endpoint, table, partition))
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


async def _page_partition(endpoint: Endpoint, table: str, partition: str) -> tuple[int, int, list[float]]:
    """Query one partition Limit 1000 page after page; (pages, items, sorted page latencies)."""
    client = Client(endpoint)
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": partition}},
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
    "put-nostream": Bench.put_nostream,
    "get": Bench.get,
    "update": Bench.update,
    "query": Bench.query,
    "scan": Bench.scan,
    "batch": Bench.batch,
    "transact": Bench.transact,
    "partiql-select": Bench.partiql_select,
    "partiql-insert": Bench.partiql_insert,
    "stream-drain": Bench.stream_drain,
    "trigger-latency": Bench.trigger_latency,
    "trigger-throughput": Bench.trigger_throughput,
    "bigpartition": Bench.bigpartition,
    **kinesis.PHASES,
    **replication.PHASES,
    **dax.PHASES,
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
