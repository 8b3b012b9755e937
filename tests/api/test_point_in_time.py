"""Point-in-time recovery through boto3: UpdateContinuousBackups, DescribeContinuousBackups and
RestoreTableToPointInTime, restoring a table to the second before bad changes (updates, deletes, a
transaction, a TTL expiry) item by item, and the errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_backups import items_of
from tests.api.test_backups import restored as active
from tests.postgres_server import PostgresServer
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.differs_from_dynamodb_local("point-in-time recovery is an unknown operation")

HEADWATER = str(Path(sys.executable).with_name("headwater"))


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def sweep_ttl(server: Server) -> None:
    out = subprocess.run(
        [HEADWATER, "admin", "sweep-ttl", "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr


def make(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def enable(ddb: Any, name: str, **spec: Any) -> dict[str, Any]:
    answer: dict[str, Any] = ddb.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, **spec},
    )["ContinuousBackupsDescription"]
    return answer


def test_restore_to_the_second_before_bad_changes(ddb: Any, server: Server, table_name: str) -> None:
    restore_to_the_second_before_bad_changes(ddb, server, table_name)


def test_restore_to_the_second_before_bad_changes_on_postgres(
    postgres_server: PostgresServer, tmp_server: Callable[..., Server]
) -> None:
    """On PostgreSQL the change log's base and restore read its shard's own ceiling (stream records are
    numbered per shard there: storage/postgres/schema.py)."""
    pytest.importorskip("psycopg")
    srv = tmp_server("--storage-url", postgres_server.create_database()).start()
    restore_to_the_second_before_bad_changes(srv.client("dynamodb"), srv, "pitr_pg")


def restore_to_the_second_before_bad_changes(ddb: Any, server: Server, table_name: str) -> None:
    make(ddb, table_name)
    for i in range(20):  # written before recovery is on: the base holds them
        ddb.put_item(TableName=table_name, Item={"pk": {"S": f"a{i:02d}"}, "g": {"S": f"g{i % 3}"}})
    ddb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    described = enable(ddb, table_name, RecoveryPeriodInDays=7)
    recovery = described["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert recovery["RecoveryPeriodInDays"] == 7
    assert recovery["EarliestRestorableDateTime"] <= recovery["LatestRestorableDateTime"]
    for i in range(20, 40):  # written after: the log holds them
        ddb.put_item(TableName=table_name, Item={"pk": {"S": f"a{i:02d}"}, "n": {"N": str(i)}})
    ddb.update_item(
        TableName=table_name,
        Key={"pk": {"S": "a05"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "good"}},
    )
    ddb.delete_item(TableName=table_name, Key={"pk": {"S": "a06"}})
    noted = int(time.time()) + 1  # the whole second after every good change
    ddb.put_item(
        TableName=table_name,
        Item={"pk": {"S": "mortal"}, "g": {"S": "g0"}, "expires": {"N": str(noted)}},
    )
    good = items_of(ddb, table_name)
    good_g0 = ddb.query(
        TableName=table_name,
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g0"}},
    )["Items"]
    wait_until(lambda: time.time() > noted + 0.01, what="the noted second to pass")

    # the bad changes: updates, deletes, a transaction and a TTL expiry
    for i in range(0, 40, 4):
        ddb.update_item(
            TableName=table_name,
            Key={"pk": {"S": f"a{i:02d}"}},
            UpdateExpression="SET g = :g, v = :v",
            ExpressionAttributeValues={":g": {"S": "bad"}, ":v": {"S": "bad"}},
        )
    for i in range(1, 40, 5):
        ddb.delete_item(TableName=table_name, Key={"pk": {"S": f"a{i:02d}"}})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table_name, "Item": {"pk": {"S": "intruder"}, "g": {"S": "g0"}}}},
            {"Delete": {"TableName": table_name, "Key": {"pk": {"S": "a02"}}}},
            {
                "Update": {
                    "TableName": table_name,
                    "Key": {"pk": {"S": "a05"}},
                    "UpdateExpression": "REMOVE v",
                }
            },
        ]
    )
    sweep_ttl(server)
    assert ddb.get_item(TableName=table_name, Key={"pk": {"S": "mortal"}}).get("Item") is None
    now = items_of(ddb, table_name)
    assert now != good

    target = table_name + "_at"
    answer = ddb.restore_table_to_point_in_time(
        SourceTableName=table_name,
        TargetTableName=target,
        RestoreDateTime=datetime.fromtimestamp(noted, UTC),
    )["TableDescription"]
    summary = answer["RestoreSummary"]
    assert summary["RestoreInProgress"] is True
    assert summary["SourceTableArn"] == ddb.describe_table(TableName=table_name)["Table"]["TableArn"]
    assert summary["RestoreDateTime"] == datetime.fromtimestamp(noted, UTC)
    restored = active(ddb, target)
    assert items_of(ddb, target) == good  # item by item
    assert restored["ItemCount"] == len(good)
    assert restored["RestoreSummary"]["RestoreInProgress"] is False
    restored_g0 = ddb.query(
        TableName=target,
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g0"}},
    )["Items"]
    assert sorted(i["pk"]["S"] for i in restored_g0) == sorted(i["pk"]["S"] for i in good_g0)
    # TTL, streams and recovery itself are not restored (as on AWS)
    assert (
        ddb.describe_time_to_live(TableName=target)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    )
    target_backups = ddb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
    assert target_backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"

    latest = table_name + "_latest"
    ddb.restore_table_to_point_in_time(
        SourceTableArn=ddb.describe_table(TableName=table_name)["Table"]["TableArn"],
        TargetTableName=latest,
        UseLatestRestorableTime=True,
    )
    active(ddb, latest)
    assert items_of(ddb, latest) == now

    for name in (target, latest, table_name):
        ddb.delete_table(TableName=name)


def test_describe_update_and_errors(ddb: Any, server: Server, make_table: Any, table_name: str) -> None:
    make_table()
    described = ddb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
    assert described == {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
    }
    target = table_name + "_t"
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table_name, TargetTableName=target, UseLatestRestorableTime=True
        )
    assert error_of(exc) == (
        "PointInTimeRecoveryUnavailableException",
        f"Point in time recovery is not enabled for table '{table_name}'",
    )
    recovery = enable(ddb, table_name)["PointInTimeRecoveryDescription"]
    assert recovery["RecoveryPeriodInDays"] == 35  # the default
    assert (
        enable(ddb, table_name, RecoveryPeriodInDays=1)["PointInTimeRecoveryDescription"][
            "RecoveryPeriodInDays"
        ]
        == 1
    )
    earliest = recovery["EarliestRestorableDateTime"]
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table_name,
            TargetTableName=target,
            RestoreDateTime=datetime.fromtimestamp(earliest.timestamp() - 3600, UTC),
        )
    assert error_of(exc)[0] == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table_name,
            TargetTableName=target,
            RestoreDateTime=datetime.fromtimestamp(time.time() + 3600, UTC),
        )
    assert error_of(exc)[0] == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table_name, TargetTableName=table_name, UseLatestRestorableTime=True
        )
    assert error_of(exc) == ("TableAlreadyExistsException", f"Table already exists: {table_name}")
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(
            SourceTableName="missing_source", TargetTableName=target, UseLatestRestorableTime=True
        )
    assert error_of(exc) == ("TableNotFoundException", "Table not found: missing_source")
    for bad in (
        {"SourceTableName": table_name, "TargetTableName": target},
        {
            "SourceTableName": table_name,
            "TargetTableName": target,
            "UseLatestRestorableTime": True,
            "RestoreDateTime": datetime.now(UTC),
        },
        {"TargetTableName": target, "UseLatestRestorableTime": True},
    ):
        with pytest.raises(ClientError) as exc:
            ddb.restore_table_to_point_in_time(**bad)
        assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.update_continuous_backups(
            TableName="missing_table", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    assert error_of(exc) == ("TableNotFoundException", "Table not found: missing_table")
    with pytest.raises(ClientError) as exc:
        ddb.describe_continuous_backups(TableName="missing_table")
    assert error_of(exc) == ("TableNotFoundException", "Table not found: missing_table")
    unchecked = server.client("dynamodb", parameter_validation=False)
    for days, message in ((0, "greater than or equal to 1"), (36, "less than or equal to 35")):
        with pytest.raises(ClientError) as exc:
            unchecked.update_continuous_backups(
                TableName=table_name,
                PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": True,
                    "RecoveryPeriodInDays": days,
                },
            )
        code, text = error_of(exc)
        assert code == "ValidationException" and message in text, text
    with pytest.raises(ClientError) as exc:
        unchecked.update_continuous_backups(TableName=table_name, PointInTimeRecoverySpecification={})
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False, "RecoveryPeriodInDays": 3},
        )
    assert error_of(exc)[0] == "ValidationException"
    off = ddb.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )["ContinuousBackupsDescription"]
    assert off["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_to_point_in_time(
            SourceTableName=table_name, TargetTableName=target, UseLatestRestorableTime=True
        )
    assert error_of(exc)[0] == "PointInTimeRecoveryUnavailableException"


@pytest.mark.headwater_only
@pytest.mark.parametrize("instant", [1e300, -1e300, 1e18])
def test_an_instant_out_of_any_range_is_a_clear_error(
    server: Server, make_table: Any, table_name: str, instant: float
) -> None:
    """Times come as numbers: one no calendar can hold is refused with the window, never a 500."""
    make_table()
    enable(server.client("dynamodb"), table_name)
    for operation, body in (
        ("RestoreTableToPointInTime", {"SourceTableName": table_name, "TargetTableName": table_name + "_x"}),
        (
            "ExportTableToPointInTime",
            {"TableArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{table_name}", "S3Bucket": "bucket"},
        ),
    ):
        key = "RestoreDateTime" if operation.startswith("Restore") else "ExportTime"
        status, _, answer = server.request(
            "POST",
            "/",
            json.dumps({**body, key: instant}).encode(),
            headers={
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
            },
            service="dynamodb",
        )
        assert status == 400, answer
        assert json.loads(answer)["__type"].endswith(
            ("InvalidRestoreTimeException", "InvalidExportTimeException")
        )
