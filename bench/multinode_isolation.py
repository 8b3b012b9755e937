"""Key locks (as built) against SERIALIZABLE with retries, for writes of several nodes on one PostgreSQL:
`python bench/multinode_isolation.py [--seconds 5]`.

Three storages ("nodes": a process each, with its writer thread and group commit) share one schema of
a durable throwaway cluster (bench/postgres.py); 8 threads per node run read-modify-write increments:
- `hot`: every increment on one item (the worst case: 3 x 8 clients on one counter);
- `spread`: on 1,000 items picked at random.
`keylocks` is Headwater's writer; `serializable` is the same writer with each group's transaction
SERIALIZABLE instead and no key locks (a serialization failure runs the group again). Both must end
with the exact total; the table says how fast and how many groups ran again.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from headwater.storage.base import ItemKey
from headwater.storage.postgres import PostgresStorage, group, locks


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    saved = group._BEGIN, locks.key_lock_ids
    if mode == "serializable":
        group._BEGIN = "BEGIN ISOLATION LEVEL SERIALIZABLE"
        locks.key_lock_ids = lambda schema, keys: []
    try:
        yield
    finally:
        group._BEGIN, locks.key_lock_ids = saved


def _node(url: str, schema: str, mode: str, spread: int, seconds: float, seed: int, pipe: Connection) -> None:
    """One node: its storage (writer thread, group commit) and 8 clients, in a process of its own."""
    from tests.storage.ops import Increment  # the storage tests' counter (the path is main's)

    done, failed = [0], [0]
    lock = threading.Lock()
    stop = threading.Event()
    with _mode(mode), PostgresStorage(url, schema=schema) as node:

        def client(n: int) -> None:
            rng = random.Random(seed * 100 + n)
            while not stop.is_set():
                key = ItemKey(1, 0, b"k%d" % rng.randrange(spread))
                try:
                    node.write_sync(Increment(key))
                except Exception:
                    with lock:
                        failed[0] += 1
                    continue
                with lock:
                    done[0] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        pipe.send((done[0], failed[0], node.stats.conflicts))


def measure(url: str, mode: str, spread: int, seconds: float) -> tuple[float, int, int, int]:
    """(increments/s, groups run again, failed increments, wrong total: 0 when exact)."""
    schema = f"iso_{mode}_{spread}"
    with PostgresStorage(url, schema=schema):
        pass  # the schema, before three nodes start on it
    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    for n in range(3):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_node, args=(url, schema, mode, spread, seconds, n, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    done = sum(r[0] for r in results)
    with PostgresStorage(url, schema=schema) as reader:
        total = sum(int(r.item) for r in reader.scan(1, 0))
    return done / seconds, sum(r[2] for r in results), sum(r[1] for r in results), total - done


def main() -> int:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from bench.postgres import describe, postgres_cluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with postgres_cluster() as pg:
        print(describe(()))
        print("workload  mode            increments/s  groups run again  failed  total off by")
        for spread, name in ((1, "hot"), (1000, "spread")):
            for mode in ("keylocks", "serializable"):
                rate, retries, failed, off = measure(pg.url, mode, spread, args.seconds)
                print(f"{name:<9} {mode:<14} {rate:>13,.0f} {retries:>17,} {failed:>7} {off:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
