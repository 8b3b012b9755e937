"""Measure the SQLite backend (not a test): python tests/storage/bench_sqlite.py [--big]

Point reads via get_item on one thread; trivial puts from 16 concurrent asyncio writers for
synchronous=FULL and NORMAL; optionally the RSS while streaming a 1,000,000-item partition.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from headwater.storage.base import ItemKey, ItemWrite, WriteSet
from headwater.storage.sqlite import SqliteStorage
from tests.storage.ops import Put, Raw


def bench_reads(store: SqliteStorage, n: int = 10_000) -> float:
    keys = [ItemKey(1, i % 64, b"pk%d" % i, b"") for i in range(n)]
    store.write_sync(Raw(WriteSet(items=[ItemWrite(k, b"x" * 200) for k in keys])))
    for k in keys[:1000]:
        store.get_item(k)
    t = time.perf_counter()
    for _ in range(3):
        for k in keys:
            store.get_item(k)
    return 3 * n / (time.perf_counter() - t)


async def bench_writes(store: SqliteStorage, seconds: float = 3.0, writers: int = 16) -> tuple[float, float]:
    done = 0
    deadline = time.perf_counter() + seconds
    before = store.stats

    async def writer(w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < deadline:
            await store.write(Put(ItemKey(2, w, b"w%d-%d" % (w, i), b""), b"x" * 100))
            i += 1
            done += 1

    t = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    elapsed = time.perf_counter() - t
    stats = store.stats
    return done / elapsed, (stats.operations - before.operations) / max(1, stats.commits - before.commits)


def big_partition(tmp: str, n: int = 1_000_000) -> None:
    with SqliteStorage(os.path.join(tmp, "big.db"), synchronous="OFF") as store:
        for start in range(0, n, 20_000):
            items = [
                ItemWrite(ItemKey(1, 0, b"p", b"%09d" % i), b"x" * 100) for i in range(start, start + 20_000)
            ]
            store.write_sync(Raw(WriteSet(items=items)))
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        count = sum(1 for _ in store.query(1, 0, 0, b"p"))
        elapsed = time.perf_counter() - t
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"1M partition: {count} rows in {elapsed:.2f}s ({count / elapsed:,.0f} rows/s)")
        print(f"max RSS before/after streaming it: {rss0 // 1024} MB / {rss1 // 1024} MB")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in (("file", os.path.join(tmp, "r.db")), ("memory", None)):
            with SqliteStorage(path) as store:
                print(f"get_item ({label}): {bench_reads(store):,.0f} reads/s")
        for sync in ("FULL", "NORMAL"):
            with SqliteStorage(os.path.join(tmp, f"w-{sync}.db"), synchronous=sync) as store:
                rate, group = asyncio.run(bench_writes(store))
                print(f"16 async writers, synchronous={sync}: {rate:,.0f} puts/s, {group:.1f} ops per commit")
        with SqliteStorage(None) as store:
            rate, group = asyncio.run(bench_writes(store))
            print(f"16 async writers, in-memory: {rate:,.0f} puts/s, {group:.1f} ops per commit")
        with SqliteStorage(os.path.join(tmp, "w1.db")) as store:
            rate, group = asyncio.run(bench_writes(store, writers=1))
            print(f"1 async writer, synchronous=FULL: {rate:,.0f} puts/s, {group:.1f} ops per commit")
        if "--big" in sys.argv:
            big_partition(tmp)


if __name__ == "__main__":
    main()
