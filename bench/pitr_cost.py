"""What point-in-time recovery's change log costs on disk: the same 100,000 updates of ~100-byte items
into a SQLite database with recovery off and on, the database's size compared (run once, by hand:
`python bench/pitr_cost.py`; on a shared machine the sizes are exact, the times are not).

The updates go through the API's handlers in-process (the write path of a server), 200 at a time so
that they commit in groups as a server's concurrent clients do."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from headwater.api.registry import DYNAMODB_OPERATIONS
from headwater.clock import SystemClock
from headwater.config import Settings
from headwater.core.database import Database
from headwater.storage.sqlite import SqliteStorage

KEYS = 1_000
UPDATES = 100_000
AT_ONCE = 200
VALUE = "v" * 80  # with the key and the names: a ~100-byte item


async def run(directory: Path, pitr: bool) -> dict[str, Any]:
    storage = SqliteStorage(directory / "headwater.db", synchronous="NORMAL")
    db = Database(Settings(data_dir=directory), storage, SystemClock())
    db.open()

    async def call(op: str, **request: Any) -> Any:
        return await DYNAMODB_OPERATIONS[op](db, request)

    await call(
        "CreateTable",
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if pitr:
        await call(
            "UpdateContinuousBackups",
            TableName="t",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    started = time.monotonic()
    for first in range(0, UPDATES, AT_ONCE):
        await asyncio.gather(
            *(
                call(
                    "PutItem",
                    TableName="t",
                    Item={"pk": {"S": f"key{i % KEYS:06d}"}, "v": {"S": VALUE}, "n": {"N": str(i)}},
                )
                for i in range(first, first + AT_ONCE)
            )
        )
    elapsed = time.monotonic() - started
    await db.close()
    path = directory / "headwater.db"
    with sqlite3.connect(path) as conn:  # fold the WAL in, then measure the file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count", "page_size")
        )
    return {"bytes": (pages - free) * size, "file": os.path.getsize(path), "seconds": elapsed}


def main() -> None:
    results = {}
    for pitr in (False, True):
        with tempfile.TemporaryDirectory() as directory:
            results[pitr] = asyncio.run(run(Path(directory), pitr))
            print(f"PITR {'on ' if pitr else 'off'}: {results[pitr]}", flush=True)
    added = results[True]["bytes"] - results[False]["bytes"]
    print(f"the change log adds {added} bytes for {UPDATES} updates: {added / UPDATES:.0f} bytes per change")
    sys.exit(0)


if __name__ == "__main__":
    main()
