"""Memory soak: a long, moderate, steady load with every background job busy, sampling the server's RSS.

A private `headwater serve` (bench/soak_server.py) with shard rollover every 30 s, stream retention 60 s
and a TTL sweep every 10 s; `--rate` PutItems a second (~250-byte items whose TTL expires 20 s later, so
the table stays small) into a NEW_AND_OLD_IMAGES streamed table, and a consumer that follows every open
shard from LATEST four times a second (describing the stream every 2 s), like a trigger would.

Prints RSS, the WAL's and the database's size every `--sample` seconds, and a verdict: the RSS growth
from the end of `--warmup` to the end. `--tracemalloc` runs the server under tracemalloc and prints the
Python allocations that grew most between those two points.

    .venv/bin/python bench/soak.py --duration 1800 --rate 300
    .venv/bin/python bench/soak.py --duration 240 --warmup 60 --tracemalloc
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import run_async
from bench.server import local_server, tree_rss_kib
from bench.wire import ApiError, Client, Endpoint

TABLE = "soak"


def server_command(port: int, data_dir: Path) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).with_name("soak_server.py")),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--shard-rollover",
        "30",
        "--stream-retention",
        "60",
        "--ttl-sweep-interval",
        "10",
        "--log-level",
        "warning",
        "--auth",
        "off",  # loopback; the soak measures memory, not request signing
    ]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


async def _setup(endpoint: Endpoint) -> str:
    client = Client(endpoint)
    try:
        await client.call(
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            },
        )
        await client.call(
            "UpdateTimeToLive",
            {"TableName": TABLE, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}},
        )
        table = await client.call("DescribeTable", {"TableName": TABLE})
        return str(table["Table"]["LatestStreamArn"])
    finally:
        client.close()


async def _writer(endpoint: Endpoint, n: int, rate: float, until: float, counts: dict[str, int]) -> None:
    client = Client(endpoint)
    payload = "x" * 200
    due = time.monotonic()
    i = 0
    try:
        while time.monotonic() < until:
            item = {
                "pk": {"S": f"w{n}-{i}"},
                "v": {"S": payload},
                "expires": {"N": str(int(time.time()) + 20)},
            }
            i += 1
            try:
                await client.call("PutItem", {"TableName": TABLE, "Item": item})
                counts["writes"] += 1
            except (ApiError, OSError):
                counts["errors"] += 1
            due += 1.0 / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
    finally:
        client.close()


async def _consumer(endpoint: Endpoint, arn: str, until: float, counts: dict[str, int]) -> None:
    """Follow every open shard from LATEST; pick up new shards (rollover) every 2 s."""
    client = Client(endpoint)
    iterators: dict[str, str] = {}
    described = 0.0
    try:
        while time.monotonic() < until:
            if time.monotonic() - described > 2.0:
                described = time.monotonic()
                shards = (await client.call("DescribeStream", {"StreamArn": arn}, streams=True))[
                    "StreamDescription"
                ]["Shards"]
                for shard in shards:
                    open_shard = "EndingSequenceNumber" not in shard["SequenceNumberRange"]
                    if open_shard and shard["ShardId"] not in iterators:
                        request = {
                            "StreamArn": arn,
                            "ShardId": shard["ShardId"],
                            "ShardIteratorType": "LATEST",
                        }
                        it = await client.call("GetShardIterator", request, streams=True)
                        iterators[shard["ShardId"]] = it["ShardIterator"]
            for shard_id, iterator in list(iterators.items()):
                try:
                    page = await client.call("GetRecords", {"ShardIterator": iterator}, streams=True)
                except ApiError:
                    counts["errors"] += 1
                    del iterators[shard_id]
                    continue
                counts["records"] += len(page["Records"])
                if page.get("NextShardIterator"):
                    iterators[shard_id] = page["NextShardIterator"]
                else:
                    del iterators[shard_id]  # closed and read to the end
            await asyncio.sleep(0.25)
    finally:
        client.close()


async def _sampler(
    pid: int,
    data_dir: Path,
    interval: float,
    until: float,
    counts: dict[str, int],
    rows: list[dict[str, Any]],
) -> None:
    started = time.monotonic()
    while True:
        row = {
            "t": round(time.monotonic() - started),
            "rss_mib": round(tree_rss_kib(pid) / 1024, 1),
            "wal_mib": round(_size(data_dir / "headwater.db-wal") / 2**20, 1),
            "db_mib": round(_size(data_dir / "headwater.db") / 2**20, 1),
            **counts,
        }
        rows.append(row)
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        if time.monotonic() >= until:
            return
        await asyncio.sleep(min(interval, max(0.0, until - time.monotonic())))


async def _soak(
    endpoint: Endpoint, pid: int, data_dir: Path, args: argparse.Namespace, snap: Path | None
) -> list[dict[str, Any]]:
    arn = await _setup(endpoint)
    until = time.monotonic() + args.duration
    counts = {"writes": 0, "records": 0, "errors": 0}
    rows: list[dict[str, Any]] = []
    clients = max(1, int(args.rate // 100))
    tasks = [_writer(endpoint, n, args.rate / clients, until, counts) for n in range(clients)]
    tasks.append(_consumer(endpoint, arn, until, counts))
    tasks.append(_sampler(pid, data_dir, args.sample, until, counts, rows))

    async def snapshots() -> None:
        if snap is None:
            return
        await asyncio.sleep(args.warmup)
        os.kill(pid, signal.SIGUSR1)
        await asyncio.sleep(max(0.0, until - time.monotonic() - 2))
        os.kill(pid, signal.SIGUSR1)

    await asyncio.gather(*tasks, snapshots())
    return rows


def _growth(snap: Path, top: int) -> None:
    first = tracemalloc.Snapshot.load(str(snap / "1.snap"))
    last = tracemalloc.Snapshot.load(str(snap / "2.snap"))
    print(
        f"\nPython heap: {sum(s.size for s in first.statistics('filename')) / 2**20:.1f} MiB after warm-up, "
        f"{sum(s.size for s in last.statistics('filename')) / 2**20:.1f} MiB at the end; grew most:"
    )
    for stat in last.compare_to(first, "traceback")[:top]:
        print(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format()[-8:]:
            print("      " + line)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=300.0, help="seconds before the growth is measured")
    parser.add_argument("--rate", type=float, default=300.0, help="PutItems per second")
    parser.add_argument("--sample", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--tracemalloc", action="store_true", help="report the Python heap's growth")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    snap = Path(tempfile.mkdtemp(prefix="headwater-soak-")) if args.tracemalloc else None
    if snap is not None:
        os.environ["HEADWATER_SOAK_SNAPSHOTS"] = str(snap)
    with local_server(server_command) as server:
        assert server.pid is not None and server.log is not None
        data_dir = server.log.parent / "data"
        rows = run_async(_soak(server.endpoint, server.pid, data_dir, args, snap))
        warm = next((r for r in rows if r["t"] >= args.warmup), rows[0])
        end = rows[-1]
        print(
            f"\nRSS {rows[0]['rss_mib']} MiB at start, {warm['rss_mib']} MiB after warm-up ({warm['t']} s), "
            f"{end['rss_mib']} MiB at the end ({end['t']} s): {end['rss_mib'] - warm['rss_mib']:+.1f} MiB; "
            f"WAL {end['wal_mib']} MiB; {end['writes']} writes, {end['errors']} errors"
        )
        if snap is not None:
            _growth(snap, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
