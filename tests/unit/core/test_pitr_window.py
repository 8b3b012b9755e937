"""Point-in-time recovery on the database's clock (a FakeClock): the change log outlives the stream's
retention, the recovery window moves forward (older changes folded into the base, then dropped from
the log), and a restore anywhere inside it is exact."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from headwater.api.registry import DYNAMODB_OPERATIONS
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core import pitr
from headwater.core.database import Database
from headwater.core.pitr_log import LOG_SLOT, in_use_key, recovery
from headwater.errors import (
    ContinuousBackupsUnavailableException,
    InvalidRestoreTimeException,
    ResourceInUseException,
)
from headwater.storage.sqlite import SqliteStorage
from headwater.streams.background import enforce_retention
from tests.waiting import wait_until_async

DAY = 86_400.0


class Env:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.db = Database(Settings(in_memory=True), SqliteStorage(None), self.clock)
        self.loop = asyncio.new_event_loop()
        self.db.open()
        self.run(self.db.streams.start())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def ddb(self, op: str, **request: Any) -> Any:
        out = self.run(DYNAMODB_OPERATIONS[op](self.db, request))
        return orjson.loads(out) if isinstance(out, bytes) else out

    def put(self, pk: str, value: str) -> None:
        self.ddb("PutItem", TableName="t", Item={"pk": {"S": pk}, "v": {"S": value}})

    def items(self, name: str) -> dict[str, str]:
        found = self.ddb("Scan", TableName=name)["Items"]
        return {item["pk"]["S"]: item["v"]["S"] for item in found}

    def restore(self, name: str, when: float) -> dict[str, str]:
        self.ddb("RestoreTableToPointInTime", SourceTableName="t", TargetTableName=name, RestoreDateTime=when)

        async def active() -> None:
            await wait_until_async(lambda: self.db.catalog.require_table(name).status == "ACTIVE")

        self.run(active())
        return self.items(name)

    def log_size(self) -> int:
        found = recovery(self.db.catalog.require_table("t"))
        assert found is not None
        return len(self.db.storage.stream_records(found.log_id, LOG_SLOT, 0, None, 100_000))

    def close(self) -> None:
        self.run(self.db.close())
        self.loop.close()


@pytest.fixture
def env() -> Any:
    made = Env()
    yield made
    made.close()


def test_the_window_outlives_the_stream_and_moves_forward(env: Env) -> None:
    env.ddb(
        "CreateTable",
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    env.put("a", "0")
    start = env.clock.now()
    env.ddb(
        "UpdateContinuousBackups",
        TableName="t",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 2},
    )
    env.clock.advance(10)
    env.put("a", "1")
    env.put("b", "1")
    day1 = env.clock.now()
    env.clock.advance(DAY)
    env.put("a", "2")
    env.ddb("DeleteItem", TableName="t", Key={"pk": {"S": "b"}})
    day2 = env.clock.now()

    # a day and a half later the stream's records are gone (24 hours), the recovery log is not
    env.clock.advance(DAY / 2)
    assert env.run(enforce_retention(env.db.streams, 24 * 3600, env.clock.now())) > 0
    assert env.restore("r1", day1) == {"a": "1", "b": "1"}
    assert env.restore("r2", day2) == {"a": "2"}
    assert env.restore("r0", start) == {"a": "0"}

    # three days after the start, the window's start moves to now minus two days
    env.clock.advance(DAY + DAY / 2)
    env.put("c", "3")
    logged = env.log_size()
    assert env.run(pitr.fold(env.db, env.db.catalog.require_table("t")))
    assert env.log_size() < logged  # the folded changes left the log
    described = env.ddb("DescribeContinuousBackups", TableName="t")["ContinuousBackupsDescription"]
    earliest = described["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"]
    assert earliest == pytest.approx(env.clock.now() - 2 * DAY, abs=0.01)
    with pytest.raises(InvalidRestoreTimeException):
        env.ddb(
            "RestoreTableToPointInTime", SourceTableName="t", TargetTableName="early", RestoreDateTime=day1
        )
    # inside the window: the base (now as of its start) plus the changes after it
    assert env.restore("r3", earliest) == {"a": "2"}
    assert env.restore("r4", env.clock.now()) == {"a": "2", "c": "3"}
    # nothing older than the window left to fold
    assert not env.run(pitr.fold(env.db, env.db.catalog.require_table("t")))


def test_turning_it_off_drops_the_log_and_the_base(env: Env) -> None:
    env.ddb(
        "CreateTable",
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    env.put("a", "0")
    env.ddb(
        "UpdateContinuousBackups",
        TableName="t",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    env.put("b", "1")
    found = recovery(env.db.catalog.require_table("t"))
    assert found is not None
    assert env.log_size() == 1
    assert len(list(env.db.storage.scan(found.base_id, 0))) == 1
    env.ddb(
        "UpdateContinuousBackups",
        TableName="t",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    assert env.db.storage.stream_records(found.log_id, LOG_SLOT, 0, None, 10) == []
    assert list(env.db.storage.scan(found.base_id, 0)) == []
    env.put("c", "2")  # no log any more
    assert env.db.storage.stream_records(found.log_id, LOG_SLOT, 0, None, 10) == []


def test_a_table_is_not_deleted_under_a_restore_of_its_recovery_data(env: Env) -> None:
    env.ddb(
        "CreateTable",
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    env.ddb(
        "UpdateContinuousBackups",
        TableName="t",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    found = recovery(env.db.catalog.require_table("t"))
    assert found is not None
    env.db.backups_in_use.add(in_use_key(found))  # as a restore reading it marks it
    with pytest.raises(ResourceInUseException, match="Table is being restored from: t"):
        env.ddb("DeleteTable", TableName="t")
    with pytest.raises(ContinuousBackupsUnavailableException):
        env.ddb(
            "UpdateContinuousBackups",
            TableName="t",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
        )
    env.db.backups_in_use.discard(in_use_key(found))
    env.ddb("DeleteTable", TableName="t")
    assert env.db.catalog.get("t") is None
