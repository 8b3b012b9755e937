"""Interleaved A/B of the PostgreSQL writer at the storage level (not a test, not part of `make bench`).

    python bench/pg_writer_ab.py --a /tmp/ab-pgwriter --b . --rounds 4

Starts one throwaway PostgreSQL (fsync on, unix socket); each round runs a child process per checkout
(A and B alternate which goes first), each on a fresh database: 16 asyncio submitters doing puts of new
items (a stream record each, as the bench's table has a stream), then updates (read, increment, write,
a stream record) of 512 existing items, then puts without a stream record (no `sequence` row: what
groups that share no counter row could do). Each request first holds the event loop for `--work-us` (the
server's HTTP, validation and answer: ~150 us a put on this machine), so that requests arrive spread out
as they do in the server instead of all 16 at once after each commit. Reported per phase: operations/s
(wall clock: noise on a shared machine), the Headwater process's CPU per operation and the PostgreSQL
server's (every backend of this cluster, from /proc), and operations per commit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _cluster_cpu(data_dir: Path) -> float:
    """CPU seconds of the postmaster's children so far (user + system)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


PHASES = ("put", "update", "put-nostream")


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def child(
    root: str, url: str, data_dir: str, writers: int, seconds: float, work_us: float, lanes: int | None
) -> None:
    sys.path[:0] = [os.path.join(root, "src"), root]
    import asyncio

    from tests.storage.ops import Increment, Put

    from headwater.storage.base import ItemKey, StreamWrite
    from headwater.storage.postgres import PostgresStorage

    async def phase(store: Any, kind: str) -> dict[str, float]:
        done = 0
        stop = False
        latencies: list[float] = []

        async def writer(w: int) -> None:
            nonlocal done
            i = 0
            while not stop:
                _busy(work_us / 1e6)  # the server's own work on a request, holding the loop
                began = time.perf_counter()
                if kind == "update":
                    slot = (w * 7919 + i * 31) % 512
                    await store.write(Increment(ItemKey(3, slot % 64, b"n%d" % slot, b""), stream_id=1))
                else:
                    name = b"w%d-%d" % (w, i)
                    record = (StreamWrite(1, w % 4, 1.0, name + b"x" * 100),) if kind == "put" else ()
                    await store.write(Put(ItemKey(2, w, name, b""), b"x" * 200, stream=record))
                latencies.append(time.perf_counter() - began)
                i += 1
                done += 1

        tasks = [asyncio.ensure_future(writer(w)) for w in range(writers)]
        await asyncio.sleep(1.0)  # warm-up
        before, stats = done, store.stats
        latencies.clear()
        cpu, server = time.process_time(), _cluster_cpu(Path(data_dir))
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        n = done - before
        elapsed = time.perf_counter() - start
        cpu, server = time.process_time() - cpu, _cluster_cpu(Path(data_dir)) - server
        after = store.stats
        stop = True
        await asyncio.gather(*tasks)
        return {
            "ops": n / elapsed,
            "cpu_us": cpu / n * 1e6,
            "server_us": server / n * 1e6,
            "group": (after.operations - stats.operations) / max(1, after.commits - stats.commits),
            "p99_ms": sorted(latencies)[int(len(latencies) * 0.99)] * 1e3,
        }

    async def main() -> dict[str, dict[str, float]]:
        store = PostgresStorage(url) if lanes is None else PostgresStorage(url, lanes=lanes)
        store.open()
        try:
            return {kind: await phase(store, kind) for kind in PHASES}
        finally:
            store.close()

    print(json.dumps(asyncio.run(main())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", help="the old checkout")
    parser.add_argument("--b", help="the new checkout")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--work-us", type=float, default=150.0, help="loop work per request (HTTP etc.)")
    parser.add_argument("--a-lanes", type=int, help="writer lanes for A (a checkout that has them)")
    parser.add_argument("--b-lanes", type=int, help="writer lanes for B")
    parser.add_argument("--lanes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, metavar=("ROOT", "URL", "DATA_DIR"))
    args = parser.parse_args()
    if args.child:
        root, url, data_dir = args.child
        child(root, url, data_dir, args.writers, args.seconds, args.work_us, args.lanes)
        return
    sys.path[:0] = [str(HERE.parent)]
    from tests.postgres_server import start_postgres, stop_postgres

    server = start_postgres(fsync=True)
    results: dict[str, list[dict[str, dict[str, float]]]] = {"A": [], "B": []}
    try:
        for r in range(args.rounds):
            order = [("A", args.a, args.a_lanes), ("B", args.b, args.b_lanes)]
            for label, root, lanes in order if r % 2 == 0 else order[::-1]:
                url = server.create_database()
                command = [sys.executable, __file__, "--child", os.path.abspath(root), url]
                command += [str(server.root / "data"), "--writers", str(args.writers)]
                command += ["--seconds", str(args.seconds), "--work-us", str(args.work_us)]
                command += [] if lanes is None else ["--lanes", str(lanes)]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                results[label].append(result)
                line = "  ".join(
                    f"{ph} {v['ops']:6.0f}/s cpu {v['cpu_us']:4.0f}us pg {v['server_us']:4.0f}us "
                    f"group {v['group']:4.1f} p99 {v['p99_ms']:4.1f}ms"
                    for ph, v in result.items()
                )
                print(f"round {r} {label}: {line}", flush=True)
    finally:
        stop_postgres(server)
    for label in ("A", "B"):
        for ph in PHASES:
            ops = [r[ph]["ops"] for r in results[label]]
            cpu = [r[ph]["cpu_us"] for r in results[label]]
            pg = [r[ph]["server_us"] for r in results[label]]
            p99 = [r[ph]["p99_ms"] for r in results[label]]
            print(
                f"{label} {ph:12}: {statistics.median(ops):6.0f}/s ({min(ops):.0f}-{max(ops):.0f}), "
                f"cpu {statistics.median(cpu):.0f} us/op, pg {statistics.median(pg):.0f} us/op, "
                f"p99 {statistics.median(p99):.1f} ms"
            )
    for ph in PHASES:  # B against A round by round: the same moment of the machine
        ratios = sorted(b[ph]["ops"] / a[ph]["ops"] for a, b in zip(results["A"], results["B"], strict=True))
        print(
            f"B/A {ph:12}: median {statistics.median(ratios):.2f}x, rounds {ratios[0]:.2f}-{ratios[-1]:.2f}x"
        )


if __name__ == "__main__":
    main()
