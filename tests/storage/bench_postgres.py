"""Measure the PostgreSQL backend against SQLite (not a test): python tests/storage/bench_postgres.py

Starts its own throwaway PostgreSQL (fsync on, as a real deployment; unix socket). Reports trivial puts
from 16 (and 1) concurrent asyncio writers, the same with a stream record per put, and get_item from one
thread and from 8 threads, for PostgreSQL and for SQLite (synchronous=FULL, the default).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "src"), ROOT, os.path.dirname(os.path.abspath(__file__))]

from headwater.storage.base import ItemKey, ItemWrite, StreamWrite, WriteSet  # noqa: E402
from headwater.storage.postgres import PostgresStorage  # noqa: E402
from headwater.storage.sqlite import SqliteStorage  # noqa: E402
from tests.postgres_server import start_postgres, stop_postgres  # noqa: E402
from tests.storage.ops import Put, Raw  # noqa: E402

Store = Any  # SqliteStorage | PostgresStorage


def bench_reads(store: Store, threads: int, n: int = 10_000) -> float:
    keys = [ItemKey(1, i % 64, b"pk%d" % i, b"") for i in range(n)]
    store.write_sync(Raw(WriteSet(items=[ItemWrite(k, b"x" * 200) for k in keys])))
    for k in keys[:1000]:
        store.get_item(k)

    def work(part: list[ItemKey]) -> None:
        for k in part:
            store.get_item(k)

    parts = [keys[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=work, args=(p,)) for p in parts]
    t = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return n / (time.perf_counter() - t)


async def bench_writes(
    store: Store, writers: int, *, stream: bool, seconds: float = 3.0
) -> tuple[float, float]:
    done = 0
    deadline = time.perf_counter() + seconds
    before = store.stats

    async def writer(w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < deadline:
            name = b"w%d-%d" % (w, i)
            records = (StreamWrite(1, w % 4, 1.0, name + b"x" * 100),) if stream else ()
            await store.write(Put(ItemKey(2, w, name, b""), b"x" * 100, stream=records))
            i += 1
            done += 1

    t = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    elapsed = time.perf_counter() - t
    stats = store.stats
    return done / elapsed, (stats.operations - before.operations) / max(1, stats.commits - before.commits)


def run(label: str, make: Any) -> None:
    with make() as store:
        for threads in (1, 8):
            print(f"{label:10} get_item, {threads} thread(s): {bench_reads(store, threads):>9,.0f} reads/s")
    for writers, stream in ((16, False), (16, True), (1, False)):
        with make() as store:
            rate, group = asyncio.run(bench_writes(store, writers, stream=stream))
            what = "put+record" if stream else "put"
            rates = f"{rate:>9,.0f} ops/s, {group:5.1f} ops/commit"
            print(f"{label:10} {writers:2} async writers, {what:10}: {rates}")


def main() -> None:
    server = start_postgres(fsync=True)
    counter = iter(range(1000))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", lambda: SqliteStorage(os.path.join(tmp, f"b{next(counter)}.db")))
            run("postgres", lambda: PostgresStorage(server.url, schema=f"bench{next(counter)}"))
    finally:
        stop_postgres(server)


if __name__ == "__main__":
    main()
