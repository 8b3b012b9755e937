"""Global tables' phases (Headwater only): PutItem into a table with two replicas in other regions of the
server, against `put` (a streamed table alone); and replication lag at a steady write rate, measured by
following the replica's own stream, to another region of the same server and to a second server.

Each phase takes its replicas away again at the end, so their links do not poll during later phases."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench.keys import KeySpace
from bench.lag import Lag, lag
from bench.loadgen import run_async
from bench.paced import paced_puts
from bench.server import HOME_REGION, local_server, serve_command
from bench.streams import follow_stream
from bench.tables import scan_count
from bench.verify import Check
from bench.wire import Client, Endpoint, now
from bench.workloads import Put

if TYPE_CHECKING:
    from bench.phases import Bench, PhaseResult

SAME_SERVER_REGIONS = ("eu-west-1", "ap-southeast-2")  # put-global's replicas; replication-lag uses the first
REPLICAS_ACTIVE = 120.0  # seconds for a replica to be made (an empty table: its links start)
ARRIVAL = 120.0  # seconds, after the writes, for every write to show in the replicas
LAG_WRITERS = 16  # the paced writer's connections: 1,000 writes/s is one every 16 ms on each
POLL = 0.05


async def _describe(client: Client, table: str) -> dict[str, Any]:
    described: dict[str, Any] = (await client.call("DescribeTable", {"TableName": table}))["Table"]
    return described


async def _until(client: Client, table: str, what: str, done: Callable[[dict[str, Any]], bool]) -> None:
    deadline = now() + REPLICAS_ACTIVE
    while True:
        described = await _describe(client, table)
        if described.get("TableStatus") == "ACTIVE" and done(described):
            return
        if now() > deadline:
            replicas = {r["RegionName"]: r["ReplicaStatus"] for r in described.get("Replicas", [])}
            raise TimeoutError(f"{table}: {what} after {REPLICAS_ACTIVE:.0f} s; replicas {replicas}")
        await asyncio.sleep(POLL)


def _statuses(described: dict[str, Any]) -> dict[str, str]:
    return {r["RegionName"]: r["ReplicaStatus"] for r in described.get("Replicas", [])}


def _have(want: dict[str, str], described: dict[str, Any]) -> bool:
    return _statuses(described) == want


def _lacks(region: str, described: dict[str, Any]) -> bool:
    return region not in _statuses(described)


async def add_replicas(endpoint: Endpoint, table: str, regions: tuple[str, ...]) -> None:
    """UpdateTable Create one region at a time, each ACTIVE before the next (as AWS wants it)."""
    client = Client(endpoint)
    try:
        for i, region in enumerate(regions):
            update = {"TableName": table, "ReplicaUpdates": [{"Create": {"RegionName": region}}]}
            await client.call("UpdateTable", update)
            want = dict.fromkeys(regions[: i + 1], "ACTIVE")
            await _until(client, table, f"replicas not {want}", functools.partial(_have, want))
    finally:
        client.close()


async def remove_replicas(endpoint: Endpoint, table: str, regions: tuple[str, ...]) -> None:
    client = Client(endpoint)
    try:
        for region in regions:
            update = {"TableName": table, "ReplicaUpdates": [{"Delete": {"RegionName": region}}]}
            await client.call("UpdateTable", update)
            await _until(client, table, f"{region} still listed", functools.partial(_lacks, region))
    finally:
        client.close()


async def _counts_reach(endpoints: list[Endpoint], table: str, want: int) -> dict[str, int]:
    """Scan COUNT `table` in each endpoint's region until each holds `want` items or ARRIVAL passes."""
    deadline = now() + ARRIVAL
    counts: dict[str, int] = {}
    while True:
        for endpoint in endpoints:
            if counts.get(endpoint.region) != want:
                counts[endpoint.region] = await scan_count(endpoint, table)
        if all(n == want for n in counts.values()) or now() > deadline:
            return counts
        await asyncio.sleep(0.5)


def put_global(bench: Bench, r: PhaseResult) -> None:
    """PutItem of new items into a table with replicas in two other regions of the server (both ACTIVE
    first), against put (a table with a stream alone); then every item must reach both replicas."""
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only"
        return
    table = bench.table("global", stream=True)
    run_async(add_replicas(bench.endpoint, table, SAME_SERVER_REGIONS))
    try:
        load = bench.load(Put(bench.builder, table, bench.space("put-global")))
        r.absorb(load, "ops/s")
        bench.verify_phase(r, table, bench.new_items(r, load, table))
        home = bench.state[table].items
        replicas = [bench.endpoint.in_region(region) for region in SAME_SERVER_REGIONS]
        counts = run_async(_counts_reach(replicas, table, home))
        arrived = all(n == home for n in counts.values())
    finally:
        run_async(remove_replicas(bench.endpoint, table, SAME_SERVER_REGIONS))
    shown = ", ".join(f"{region} {n:,}" for region, n in counts.items())
    r.checks.append(Check("every item reached both replicas", arrived, f"{HOME_REGION} {home:,}; {shown}"))
    r.metrics["replica_items"] = counts
    notes = [f"both replicas hold all {home:,} items" if arrived else f"replicas short: {shown}"]
    base = bench.results.get("put")
    if base is not None and base.status == "ok" and base.rate and r.rate is not None:
        diff = (r.rate - base.rate) / base.rate * 100.0
        r.metrics["vs_put_percent"] = round(diff, 1)
        notes.insert(0, f"{diff:+.1f}% vs put (target >= -20%)")
    r.note = "; ".join(notes)


def _measure_lag(
    bench: Bench, r: PhaseResult, phase: str, home: Endpoint, replica: Endpoint, table: str
) -> None:
    """Write into `table` at home at the configured rate; each write's lag until the replica's stream
    shows it. `table` is a global table with its replica at `replica` (ACTIVE)."""
    rate, seconds = bench.settings.replication_rate, bench.settings.duration
    out = run_async(_lag(home, replica, table, bench.space(phase), rate, seconds))
    figures, achieved, calls = out
    bench.expected[table] += figures.written
    r.rate, r.unit, r.ok = achieved, "writes/s", figures.seen
    r.p50_ms, r.p99_ms = figures.p50_ms, figures.p99_ms
    r.metrics.update(
        table=table,
        target_writes_per_s=rate,
        written=figures.written,
        seen=figures.seen,
        p50_ms=_rounded(figures.p50_ms),
        p99_ms=_rounded(figures.p99_ms),
        max_ms=_rounded(figures.max_ms),
        replica_region=replica.region,
        get_records_calls=calls,
    )
    where = f"{replica.region}'s stream"
    r.checks.append(
        Check(f"every write seen in {where}", figures.complete, f"{figures.seen}/{figures.written}")
    )
    if figures.p50_ms is None or figures.p99_ms is None or figures.max_ms is None:
        r.note = f"no write seen in {where}"
        return
    r.note = (
        f"lag {HOME_REGION} -> {where}: p50 {figures.p50_ms:,.0f} ms, p99 {figures.p99_ms:,.0f} ms, "
        f"max {figures.max_ms:,.0f} ms; {figures.seen:,} of {figures.written:,} writes seen"
    )


def _rounded(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 2)


async def _lag(
    home: Endpoint, replica: Endpoint, table: str, space: KeySpace, rate: float, seconds: float
) -> tuple[Lag, float, int]:
    """(lag figures, writes/s achieved, GetRecords calls of the follower)."""
    client = Client(replica)
    try:
        arn = str((await _describe(client, table))["LatestStreamArn"])
    finally:
        client.close()
    seen: dict[str, float] = {}
    stop, reading = asyncio.Event(), asyncio.Event()
    follower = asyncio.create_task(follow_stream(replica, arn, seen, stop, reading))
    try:
        await asyncio.wait_for(reading.wait(), REPLICAS_ACTIVE)
        started = now()
        sent = await paced_puts(home, table, space, rate, seconds, writers=LAG_WRITERS)
        achieved = len(sent) / (now() - started)
        deadline = now() + ARRIVAL
        while not all(key in seen for key in sent) and now() < deadline and not follower.done():
            await asyncio.sleep(POLL)
    finally:
        stop.set()
    calls = await follower
    return lag(sent, seen), achieved, calls


def replication_lag(bench: Bench, r: PhaseResult) -> None:
    """Replication lag between two regions of one server at a steady write rate."""
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only"
        return
    table = bench.table("replag", stream=True)
    regions = SAME_SERVER_REGIONS[:1]
    run_async(add_replicas(bench.endpoint, table, regions))
    try:
        replica = bench.endpoint.in_region(regions[0])
        _measure_lag(bench, r, "replication-lag", bench.endpoint, replica, table)
    finally:
        run_async(remove_replicas(bench.endpoint, table, regions))


def replication_lag_servers(bench: Bench, r: PhaseResult) -> None:
    """Replication lag between two servers: a second `headwater serve` (SQLite, fresh data dir) serving
    the partner region on the port the bench's server was told of, for this phase only."""
    if bench.peer:
        r.status, r.note = "n/a", "Headwater only"
        return
    partner = bench.partner
    if partner is None:
        r.status, r.note = "n/a", "needs a Headwater server the bench starts (it names the second one)"
        return
    home = bench.endpoint
    credentials = home.credentials
    command = functools.partial(
        serve_command,
        None,
        credentials=credentials,
        region=partner.region,
        region_endpoints=((HOME_REGION, home.url),),
    )
    with local_server(command, "headwater-partner", credentials, port=partner.port) as second:
        table = bench.table("replag_servers", stream=True)
        run_async(add_replicas(home, table, (partner.region,)))
        try:
            replica = second.endpoint.in_region(partner.region)
            _measure_lag(bench, r, "replication-lag-servers", home, replica, table)
        finally:
            run_async(remove_replicas(home, table, (partner.region,)))
        r.metrics["partner"] = f"headwater serve, SQLite, --region {partner.region}, pid {second.pid}"


PHASES: dict[str, Callable[[Bench, PhaseResult], None]] = {
    "put-global": put_global,
    "replication-lag": replication_lag,
    "replication-lag-servers": replication_lag_servers,
}
