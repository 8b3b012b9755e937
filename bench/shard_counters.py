"""Per-shard counter contention on one PostgreSQL: what a row lock per stream shard, held from the
counter's read to the end of COMMIT, costs writers that commit at the same time.

    .venv/bin/python -m bench.shard_counters [--seconds 2] [--repeat 3]

A throwaway durable cluster (bench/postgres.py: fsync and synchronous_commit on). For every number of
shards (1, 4, 16) and writer processes (1, 2, 3), each process runs transactions for `--seconds`, in
Headwater's two round trips: (1) BEGIN and the counter row of a random shard read FOR UPDATE; (2) a
record inserted under the next number, the counter moved on, COMMIT. The row stays locked until COMMIT
has flushed its WAL, so two writers on one shard commit one after the other. A baseline without
counters (the same record insert, numbered by the process itself, no lock) shows what the lock costs.

Reported per configuration: commits per second (all processes), mean and 99th-percentile transaction
time, the share of the transaction spent in round trip (1), where a lock wait shows, and WAL flushes per
commit (pg_stat_wal): commits that run together share a flush, while commits queued behind one counter
row cannot, so this count (unlike the rates) says how much the lock serialized whatever the load. Of the
`--repeat` rounds (every configuration once per round, so a busy moment of the machine spreads over all
of them), the round with the median rate. The machine these numbers come from may be shared: read
ratios between rows of one run, not absolute rates.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.postgres import describe, postgres_cluster

SHARDS = (1, 4, 16)
WRITERS = (1, 2, 3)
PAYLOAD = b"x" * 200  # about a small stream record

_SCHEMA = (
    "CREATE TABLE shard_counters (shard integer PRIMARY KEY, last bigint NOT NULL)",
    "CREATE TABLE records (shard integer NOT NULL, seq bigint NOT NULL, payload bytea NOT NULL, "
    "PRIMARY KEY (shard, seq))",
)
_LOCK = "SELECT last FROM shard_counters WHERE shard = %s FOR UPDATE"
_INSERT = "INSERT INTO records (shard, seq, payload) VALUES (%s, %s, %s)"
_ADVANCE = "UPDATE shard_counters SET last = %s WHERE shard = %s"


@dataclass(frozen=True, slots=True)
class Config:
    shards: int  # 0: the baseline, no counter rows
    writers: int


@dataclass(frozen=True, slots=True)
class Timings:
    """One writer process's transactions: (whole transaction, first round trip) in seconds each."""

    total: list[float]
    first: list[float]


@dataclass(frozen=True, slots=True)
class Result:
    config: Config
    commits_per_second: float
    mean_ms: float
    p99_ms: float
    first_share: float  # of the transaction's time, in round trip (1)
    flushes_per_commit: float


def _locked(conn: psycopg.Connection[Any], shard: int) -> tuple[float, float]:
    started = time.perf_counter()
    with conn.pipeline():
        conn.execute("BEGIN", prepare=False)
        cursor = conn.execute(_LOCK, (shard,))
    row = cursor.fetchone()
    assert row is not None
    first = time.perf_counter() - started
    seq = int(row[0]) + 1
    with conn.pipeline():
        conn.execute(_INSERT, (shard, seq, PAYLOAD))
        conn.execute(_ADVANCE, (seq, shard))
        conn.execute("COMMIT", prepare=False)
    return time.perf_counter() - started, first


def _unlocked(conn: psycopg.Connection[Any], shard: int, seq: int) -> tuple[float, float]:
    started = time.perf_counter()
    with conn.pipeline():
        conn.execute("BEGIN", prepare=False)
        conn.execute("SELECT 1")
    first = time.perf_counter() - started
    with conn.pipeline():
        conn.execute(_INSERT, (shard, seq, PAYLOAD))
        conn.execute("COMMIT", prepare=False)
    return time.perf_counter() - started, first


def _writer(url: str, config: Config, number: int, start_at: float, seconds: float) -> Timings:
    """One writer process: transactions from `start_at` (a shared wall-clock instant) for `seconds`."""
    rng = random.Random(number)
    total: list[float] = []
    first: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        time.sleep(max(0.0, start_at - time.time()))
        deadline = time.monotonic() + seconds
        seq = 0
        while time.monotonic() < deadline:
            if config.shards:
                elapsed, waited = _locked(conn, rng.randrange(config.shards))
            else:
                seq += 1
                elapsed, waited = _unlocked(conn, -1 - number, seq)  # a key range of its own
            total.append(elapsed)
            first.append(waited)
    return Timings(total, first)


def _prepare(url: str, config: Config) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS shard_counters, records")
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO shard_counters SELECT s, 0 FROM generate_series(0, %s) AS s", (config.shards - 1,)
        )
        conn.execute("CHECKPOINT")


def _wal_flushes(url: str) -> int:
    """WAL syncs so far (a writer's are counted when its session ends, so read this after they did)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()
    assert row is not None
    return int(row[0])


def measure(url: str, config: Config, seconds: float) -> Result:
    _prepare(url, config)
    flushes = _wal_flushes(url)
    start_at = time.time() + 1.0  # every process connected before the clock starts
    with multiprocessing.get_context("spawn").Pool(config.writers) as pool:
        args = [(url, config, n, start_at, seconds) for n in range(config.writers)]
        timings = pool.starmap(_writer, args)
    flushes = _wal_flushes(url) - flushes
    total = sorted(t for one in timings for t in one.total)
    first = sum(t for one in timings for t in one.first)
    return Result(
        config,
        commits_per_second=len(total) / seconds,
        mean_ms=statistics.fmean(total) * 1000,
        p99_ms=total[min(len(total) - 1, int(len(total) * 0.99))] * 1000,
        first_share=first / sum(total),
        flushes_per_commit=flushes / len(total),
    )


def render(results: Sequence[Result]) -> str:
    lines = [
        "| shards | writer processes | commits/s | mean ms | p99 ms | share in lock round trip "
        "| WAL flushes per commit |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        shards = str(r.config.shards) if r.config.shards else "none (baseline)"
        lines.append(
            f"| {shards} | {r.config.writers} | {r.commits_per_second:.0f} | {r.mean_ms:.2f} "
            f"| {r.p99_ms:.2f} | {r.first_share:.0%} | {r.flushes_per_commit:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="per configuration and round (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args(argv)
    configs = [Config(0, w) for w in WRITERS] + [Config(s, w) for s in SHARDS for w in WRITERS]
    rounds: dict[Config, list[Result]] = {config: [] for config in configs}
    with postgres_cluster() as server:
        print(describe(()))
        for round_number in range(args.repeat):
            for config in configs:
                result = measure(server.url, config, args.seconds)
                rounds[config].append(result)
                print(f"round {round_number + 1}: {render([result]).splitlines()[-1]}", flush=True)
    print()
    print(render([_median(results) for results in rounds.values()]))


def _median(results: list[Result]) -> Result:
    return sorted(results, key=lambda r: r.commits_per_second)[len(results) // 2]


if __name__ == "__main__":
    main()
