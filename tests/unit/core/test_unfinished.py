"""What a stop in the middle leaves, and what the next start does with it: a backup still CREATING is
dropped (its rows too), a table still being filled by a restore or an import is dropped, recovery whose
base was never made is turned off, exports and imports IN_PROGRESS are FAILED."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from headwater.api.registry import DYNAMODB_OPERATIONS
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core import backups, jobs, pitr, table_restore
from headwater.core.database import Database
from headwater.core.pitr_log import PITR, Recovery, recovery
from headwater.storage.base import Row
from headwater.storage.sqlite import SqliteStorage


@pytest.fixture
def db() -> Any:
    loop = asyncio.new_event_loop()
    made = Database(Settings(in_memory=True), SqliteStorage(None), FakeClock())
    made.open()
    yield made, loop
    loop.run_until_complete(made.close())
    loop.close()


def test_the_next_start_cleans_up(db: Any) -> None:
    database, loop = db

    def call(op: str, **request: Any) -> Any:
        return loop.run_until_complete(DYNAMODB_OPERATIONS[op](database, request))

    for name in ("kept", "filling"):
        call(
            "CreateTable",
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    kept = database.catalog.require_table("kept")
    # a backup cut short: its document says CREATING, some rows are copied
    storage_id, counter = database.catalog.allocate_id()
    cut = backups.Backup(
        arn=backups.backup_arn(kept, 1_700_000_000_000),
        name="cut",
        namespace=kept.namespace,
        storage_id=storage_id,
        status="CREATING",
        backup_type="USER",
        created_at=1_700_000_000.0,
        size=0,
        item_count=0,
        spec=kept,
        seq=0,
    )
    loop.run_until_complete(backups.save(database, cut, counter))
    loop.run_until_complete(
        database.storage.write(backups.CopyOp(storage_id, (Row(1, b"k", b"", b"\0\0\0\0{}"),)))
    )
    # a table being filled, recovery whose base was never made, jobs in progress
    filling = database.catalog.require_table("filling")
    half = dataclasses.replace(filling, extra={**filling.extra, table_restore.FILLING: True})
    loop.run_until_complete(database.catalog.save(half))
    started = Recovery(99, 98, 35, 1.0, None, 1.0)
    loop.run_until_complete(
        database.catalog.save(kept.evolve(extra={**kept.extra, PITR: started.to_extra()}))
    )
    for kind, arn_field in ((jobs.EXPORT_KIND, "ExportArn"), (jobs.IMPORT_KIND, "ImportArn")):
        status = arn_field.replace("Arn", "Status")
        loop.run_until_complete(
            jobs.save(
                database,
                kind,
                f"arn:{kind}",
                {arn_field: f"arn:{kind}", status: "IN_PROGRESS", "StartTime": 1.0},
            )
        )

    async def start() -> None:
        await backups.drop_unfinished(database)
        await table_restore.drop_unfinished(database)
        await pitr.drop_unfinished(database)
        await jobs.fail_unfinished(database)

    loop.run_until_complete(start())
    assert backups.get(database, cut.arn) is None
    assert list(database.storage.scan(storage_id, 0)) == []
    assert database.catalog.get("filling") is None
    assert recovery(database.catalog.require_table("kept")) is None
    assert jobs.get(database, jobs.EXPORT_KIND, "arn:export")["ExportStatus"] == "FAILED"  # type: ignore[index]
    assert jobs.get(database, jobs.IMPORT_KIND, "arn:import")["ImportStatus"] == "FAILED"  # type: ignore[index]
