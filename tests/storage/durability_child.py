"""Run by test_sqlite_backend: writes forever with 16 concurrent writers, printing each acknowledged write.

Usage: python durability_child.py <db path> <synchronous>
"""

from __future__ import annotations

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from headwater.storage.base import StreamWrite
from headwater.storage.sqlite import SqliteStorage
from tests.storage.ops import Put, key


async def writer(store: SqliteStorage, n: int) -> None:
    i = 0
    while True:
        name = b"w%d-%d" % (n, i)
        await store.write(Put(key(name), name, stream=(StreamWrite(1, n % 4, 1.0, name),)))
        sys.stdout.write(f"ack {name.decode()}\n")
        sys.stdout.flush()
        i += 1


async def main(path: str, synchronous: str) -> None:
    store = SqliteStorage(path, synchronous=synchronous)  # type: ignore[arg-type]
    store.open()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.gather(*(writer(store, n) for n in range(16)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
