"""Do two writers' numbered groups on different stream shards commit in parallel? Interleaved A/B of two
checkouts at the storage level on one durable PostgreSQL (not a test, not part of `make bench`).

    python bench/shard_overlap.py --a /tmp/ab-shards --b . --rounds 4

Each round, for each checkout (A and B alternate which goes first) and each case, a fresh database:
- `alone`: one writer (a PostgresStorage with one lane, standing in for a node) commits one PutItem-like
  group after another, each with one stream record: the cost of a numbered group (the Headwater
  process's CPU and its PostgreSQL backend's CPU per group, from /proc);
- `other shards`: two such writers in two processes at once, each on its own table and stream;
- `same shard`: the two writing one table's one stream shard (the control: they must take turns).
With two writers, the parent samples pg_stat_activity every millisecond: the share of samples in which
a writer's session waits for a lock held by the other's transaction (`Lock`/`transactionid`, `tuple`),
and PostgreSQL's WAL flushes per commit (pg_stat_wal, read after the writers' sessions ended): commits
that overlap share a flush, commits that take turns cannot. Those two are ratios within one run; the
rates are noise on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = ("alone", "other shards", "same shard")


def _process_cpu(pid: int) -> float:
    """CPU seconds of one process so far (user + system): a PostgreSQL backend's, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(root: str, url: str, writer: int, table: int, start_at: float, seconds: float) -> None:
    """One writer: groups one after another from `start_at` for `seconds`; prints its counts."""
    sys.path[:0] = [os.path.join(root, "src"), root]
    from tests.storage.ops import Put

    from headwater.storage.base import ItemKey, StreamWrite
    from headwater.storage.postgres import PostgresStorage

    with PostgresStorage(url, lanes=1) as store:
        store.write_sync(Put(ItemKey(table, 0, b"warm-%d" % writer, b""), b"x"))
        (conn,) = store._w().connections()
        backend = conn.info.backend_pid
        time.sleep(max(0.0, start_at - time.time()))
        cpu, began, deadline = time.process_time(), time.perf_counter(), time.monotonic() + seconds
        server = _process_cpu(backend)
        groups = 0
        while time.monotonic() < deadline:
            name = b"w%d-%d" % (writer, groups)
            record = StreamWrite(table, 0, 1.0, name + b"x" * 100)
            store.write_sync(Put(ItemKey(table, groups % 64, name, b""), b"x" * 200, stream=(record,)))
            groups += 1
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        server = _process_cpu(backend) - server
    print(json.dumps({"groups": groups, "elapsed": elapsed, "cpu": cpu, "server": server}))


def _sample(url: str, stop: threading.Event, out: dict[str, int]) -> None:
    import psycopg

    query = (
        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' "
        "AND wait_event IN ('transactionid', 'tuple')), count(*) FROM pg_stat_activity "
        "WHERE application_name LIKE 'headwater %%' AND state = 'active'"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            row = conn.execute(query).fetchone()
            assert row is not None
            out["samples"] += 1
            out["waiting"] += int(row[0])
            out["active"] += int(row[1])
            time.sleep(0.001)


def _wal_syncs(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
    assert row is not None
    return int(row[0])


def run_case(root: str, url: str, case: str, seconds: float) -> dict[str, float]:
    tables = {"alone": (1,), "other shards": (1, 2), "same shard": (1, 1)}[case]
    start_at = time.time() + 2.0  # both connected and warm before the clock starts
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", root, url, str(n), str(table), str(start_at), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n, table in enumerate(tables)
    ]
    time.sleep(max(0.0, start_at - time.time()))
    syncs = _wal_syncs(url)
    stop, sampled = threading.Event(), {"samples": 0, "waiting": 0, "active": 0}
    sampler = threading.Thread(target=_sample, args=(url, stop, sampled))
    if len(tables) > 1:
        sampler.start()
    outs = [json.loads((p.communicate()[0] or "").strip().splitlines()[-1]) for p in procs]
    stop.set()
    if sampler.is_alive():
        sampler.join()
    time.sleep(0.5)  # the writers' sessions report their WAL statistics as they end
    syncs = _wal_syncs(url) - syncs
    groups = sum(o["groups"] for o in outs)
    return {
        "groups_per_s": groups / max(o["elapsed"] for o in outs),
        "cpu_us": sum(o["cpu"] for o in outs) / groups * 1e6,
        "server_us": sum(o["server"] for o in outs) / groups * 1e6,
        "flushes": syncs / groups,
        "waiting": sampled["waiting"] / max(1, sampled["active"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", help="the old checkout")
    parser.add_argument("--b", help="the new checkout")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--child", nargs=6, metavar=("ROOT", "URL", "WRITER", "TABLE", "START_AT", "SECONDS"))
    args = parser.parse_args()
    if args.child:
        root, url, writer, table, start_at, seconds = args.child
        child(root, url, int(writer), int(table), float(start_at), float(seconds))
        return
    sys.path[:0] = [str(HERE.parent)]
    from tests.postgres_server import start_postgres, stop_postgres

    server = start_postgres(fsync=True)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    try:
        for r in range(args.rounds):
            order = [("A", args.a), ("B", args.b)]
            for label, root in order if r % 2 == 0 else order[::-1]:
                for case in CASES:
                    url = server.create_database()
                    result = run_case(os.path.abspath(root), url, case, args.seconds)
                    results.setdefault((label, case), []).append(result)
                    print(f"round {r} {label} {case:12}: {_line(result)}", flush=True)
    finally:
        stop_postgres(server)
    print()
    for case in CASES:
        for label in ("A", "B"):
            runs = results[(label, case)]
            median = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
            print(f"{label} {case:12} (median of {len(runs)}): {_line(median)}")


def _line(result: dict[str, Any]) -> str:
    return (
        f"{result['groups_per_s']:5.0f} groups/s, cpu {result['cpu_us']:4.0f} us, "
        f"pg {result['server_us']:4.0f} us a group, WAL flushes a commit {result['flushes']:.2f}, "
        f"writers waiting on the other {result['waiting']:.0%}"
    )


if __name__ == "__main__":
    main()
