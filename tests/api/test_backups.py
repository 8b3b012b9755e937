"""On-demand backups through boto3: CreateBackup, DescribeBackup, ListBackups, DeleteBackup and
RestoreTableFromBackup, their errors, and a snapshot's consistency under concurrent writes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.postgres_server import PostgresServer
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.differs_from_dynamodb_local("the backup operations are unknown operations")

BACKUP_ARN = re.compile(r"^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]+/backup/\d{14}-[0-9a-f]{8}$")


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def available(ddb: Any, arn: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        return found if found["BackupDetails"]["BackupStatus"] == "AVAILABLE" else None

    return wait_until(check, what=f"backup {arn} AVAILABLE")


def restored(ddb: Any, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        table: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]
        return table if table["TableStatus"] == "ACTIVE" else None

    return wait_until(check, what=f"table {name} ACTIVE")


def items_of(ddb: Any, name: str, **extra: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True, **extra):
        found.extend(page["Items"])
    return sorted(found, key=lambda item: (item["pk"]["S"], item.get("sk", {}).get("N", "")))


def indexed_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        SSESpecification={"Enabled": True},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )


def fill(ddb: Any, name: str, count: int) -> None:
    for i in range(count):
        item = {"pk": {"S": f"p{i % 3}"}, "sk": {"N": str(i)}, "v": {"S": "x" * i}}
        if i % 2 == 0:
            item["g"] = {"S": f"g{i % 4}"}
        if i % 3 == 0:
            item["l"] = {"S": f"l{i}"}
        ddb.put_item(TableName=name, Item=item)


def test_backup_outlives_its_table_and_restores_items_and_indexes(ddb: Any, table_name: str) -> None:
    indexed_table(ddb, table_name)
    fill(ddb, table_name, 30)
    before = items_of(ddb, table_name)
    source = ddb.describe_table(TableName=table_name)["Table"]
    details = ddb.create_backup(TableName=table_name, BackupName="nightly.1")["BackupDetails"]
    assert BACKUP_ARN.match(details["BackupArn"]), details["BackupArn"]
    assert details["BackupArn"].startswith(source["TableArn"] + "/backup/")
    assert details["BackupName"] == "nightly.1"
    assert details["BackupType"] == "USER"
    assert details["BackupStatus"] in ("CREATING", "AVAILABLE")
    described = available(ddb, details["BackupArn"])
    assert described["BackupDetails"]["BackupSizeBytes"] == source["TableSizeBytes"]
    table = described["SourceTableDetails"]
    assert table["TableName"] == table_name
    assert table["TableArn"] == source["TableArn"]
    assert table["TableId"] == source["TableId"]
    assert table["ItemCount"] == 30
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == source["KeySchema"]
    features = described["SourceTableFeatureDetails"]
    assert [ix["IndexName"] for ix in features["GlobalSecondaryIndexes"]] == ["by_g"]
    assert [ix["IndexName"] for ix in features["LocalSecondaryIndexes"]] == ["by_l"]
    assert features["StreamDescription"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert features["SSEDescription"]["Status"] == "ENABLED"

    ddb.delete_table(TableName=table_name)
    target = table_name + "_r"
    answer = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=details["BackupArn"])
    description = answer["TableDescription"]
    assert description["TableName"] == target
    assert description["RestoreSummary"]["SourceBackupArn"] == details["BackupArn"]
    assert description["RestoreSummary"]["SourceTableArn"] == source["TableArn"]
    assert (
        description["RestoreSummary"]["RestoreDateTime"]
        == described["BackupDetails"]["BackupCreationDateTime"]
    )
    made = restored(ddb, target)
    assert made["RestoreSummary"]["RestoreInProgress"] is False
    assert made["ItemCount"] == 30
    assert made["TableSizeBytes"] == source["TableSizeBytes"]
    assert "StreamSpecification" not in made  # streams are not restored, as on AWS
    assert made["SSEDescription"]["Status"] == "ENABLED"
    assert items_of(ddb, target) == before
    by_g = ddb.query(
        TableName=target,
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g2"}},
    )["Items"]
    assert sorted(int(i["sk"]["N"]) for i in by_g) == [2, 6, 10, 14, 18, 22, 26]
    by_l = ddb.query(
        TableName=target,
        IndexName="by_l",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p0"}},
    )["Items"]
    assert sorted(int(i["sk"]["N"]) for i in by_l) == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]
    gsi = made["GlobalSecondaryIndexes"][0]
    assert gsi["ItemCount"] == 15 and gsi["IndexStatus"] == "ACTIVE"
    # the restored table is an ordinary table
    ddb.put_item(TableName=target, Item={"pk": {"S": "new"}, "sk": {"N": "1"}})
    assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 31
    # the backup is still there, and can be deleted
    deleted = ddb.delete_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    with pytest.raises(ClientError) as exc:
        ddb.describe_backup(BackupArn=details["BackupArn"])
    assert error_of(exc) == ("BackupNotFoundException", f"Backup not found: {details['BackupArn']}")
    with pytest.raises(ClientError) as exc:
        ddb.delete_backup(BackupArn=details["BackupArn"])
    assert error_of(exc)[0] == "BackupNotFoundException"
    ddb.delete_table(TableName=target)


def test_restore_overrides(ddb: Any, table_name: str) -> None:
    indexed_table(ddb, table_name)
    fill(ddb, table_name, 6)
    arn = ddb.create_backup(TableName=table_name, BackupName="b-overrides")["BackupDetails"]["BackupArn"]
    available(ddb, arn)
    target = table_name + "_o"
    ddb.restore_table_from_backup(
        TargetTableName=target,
        BackupArn=arn,
        GlobalSecondaryIndexOverride=[],
        LocalSecondaryIndexOverride=[],
        BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        SSESpecificationOverride={"Enabled": False},
    )
    made = restored(ddb, target)
    assert "GlobalSecondaryIndexes" not in made and "LocalSecondaryIndexes" not in made
    assert made["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert made["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert "SSEDescription" not in made
    assert {a["AttributeName"] for a in made["AttributeDefinitions"]} == {"pk", "sk"}
    assert made["ItemCount"] == 6
    kept = table_name + "_k"
    ddb.restore_table_from_backup(
        TargetTableName=kept,
        BackupArn=arn,
        GlobalSecondaryIndexOverride=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    made = restored(ddb, kept)
    assert [ix["IndexName"] for ix in made["GlobalSecondaryIndexes"]] == ["by_g"]
    assert made["GlobalSecondaryIndexes"][0]["ItemCount"] == 3
    assert [ix["IndexName"] for ix in made["LocalSecondaryIndexes"]] == ["by_l"]
    for name in (target, kept, table_name):
        ddb.delete_table(TableName=name)
    ddb.delete_backup(BackupArn=arn)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {
                "GlobalSecondaryIndexOverride": [
                    {
                        "IndexName": "nope",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ]
            },
            "One or more parameter values were invalid: "
            "Global secondary index nope is not an index of the source table",
        ),
        (
            {
                "LocalSecondaryIndexOverride": [
                    {
                        "IndexName": "by_l",
                        "KeySchema": [
                            {"AttributeName": "pk", "KeyType": "HASH"},
                            {"AttributeName": "l", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ]
            },
            "One or more parameter values were invalid: "
            "Local secondary index by_l does not match the source table's index definition",
        ),
        (
            {"ProvisionedThroughputOverride": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits "
            "can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            {"BillingModeOverride": "PROVISIONED"},
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must "
            "both be specified when BillingMode is PROVISIONED",
        ),
    ],
)
def test_bad_overrides(ddb: Any, table_name: str, override: dict[str, Any], expected: str) -> None:
    indexed_table(ddb, table_name)
    arn = ddb.create_backup(TableName=table_name, BackupName="bad")["BackupDetails"]["BackupArn"]
    available(ddb, arn)
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_from_backup(TargetTableName=table_name + "_x", BackupArn=arn, **override)
    assert error_of(exc) == ("ValidationException", expected)
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=table_name + "_x")
    ddb.delete_backup(BackupArn=arn)
    ddb.delete_table(TableName=table_name)


def test_errors(ddb: Any, server: Server, make_table: Callable[..., str], table_name: str) -> None:
    with pytest.raises(ClientError) as exc:
        ddb.create_backup(TableName="no_such_table", BackupName="b1x")
    assert error_of(exc) == ("TableNotFoundException", "Table not found: no_such_table")
    make_table()
    arn = ddb.create_backup(TableName=table_name, BackupName="errors")["BackupDetails"]["BackupArn"]
    available(ddb, arn)
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_from_backup(TargetTableName=table_name, BackupArn=arn)
    assert error_of(exc) == ("TableAlreadyExistsException", f"Table already exists: {table_name}")
    missing = arn[:-8] + ("0" * 8 if not arn.endswith("0" * 8) else "1" * 8)
    for call in (ddb.describe_backup, ddb.delete_backup):
        with pytest.raises(ClientError) as exc:
            call(BackupArn=missing)
        assert error_of(exc) == ("BackupNotFoundException", f"Backup not found: {missing}")
    with pytest.raises(ClientError) as exc:
        ddb.restore_table_from_backup(TargetTableName=table_name + "_m", BackupArn=missing)
    assert error_of(exc) == ("BackupNotFoundException", f"Backup not found: {missing}")
    with pytest.raises(ClientError) as exc:
        ddb.list_backups(ExclusiveStartBackupArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/nope")
    assert error_of(exc)[0] == "ValidationException"
    unchecked = server.client("dynamodb", parameter_validation=False)
    for bad, message in (
        ({"TableName": table_name, "BackupName": "a b c"}, "Member must satisfy regular expression"),
        ({"TableName": table_name, "BackupName": "ab"}, "Member must have length greater than or equal to 3"),
        ({"TableName": table_name}, "Member must not be null"),
    ):
        with pytest.raises(ClientError) as exc:
            unchecked.create_backup(**bad)
        code, text = error_of(exc)
        assert code == "ValidationException" and message in text, text
    for bad_list, message in (
        ({"Limit": 0}, "Member must have value greater than or equal to 1"),
        ({"Limit": 101}, "Member must have value less than or equal to 100"),
        ({"BackupType": "MINE"}, "Member must satisfy enum value set"),
    ):
        with pytest.raises(ClientError) as exc:
            unchecked.list_backups(**bad_list)
        code, text = error_of(exc)
        assert code == "ValidationException" and message in text, text
    with pytest.raises(ClientError) as exc:
        unchecked.describe_backup(BackupArn="short")
    assert error_of(exc)[0] == "ValidationException"
    ddb.delete_backup(BackupArn=arn)


def test_list_filters_and_paging(ddb: Any, make_table: Callable[..., str], table_name: str) -> None:
    other = make_table(table_name + "_2")
    make_table()
    arns = []
    for i, name in enumerate((table_name, other, table_name)):
        details = ddb.create_backup(TableName=name, BackupName=f"list-{i}")["BackupDetails"]
        arns.append(details["BackupArn"])
        available(ddb, details["BackupArn"])
    created = [ddb.describe_backup(BackupArn=a)["BackupDescription"]["BackupDetails"] for a in arns]

    def listed(**kw: Any) -> list[str]:
        found: list[str] = []
        for page in ddb.get_paginator("list_backups").paginate(**kw):
            found.extend(s["BackupArn"] for s in page["BackupSummaries"] if s["BackupArn"] in arns)
        return found

    assert listed() == arns
    assert listed(BackupType="ALL") == arns
    assert listed(BackupType="SYSTEM") == []
    assert listed(TableName=table_name) == [arns[0], arns[2]]
    table_arn = ddb.describe_table(TableName=other)["Table"]["TableArn"]
    assert listed(TableName=table_arn) == [arns[1]]
    # boto3 sends whole seconds: bounds around the first and last backups' seconds
    first = int(created[0]["BackupCreationDateTime"].timestamp())
    last = int(created[2]["BackupCreationDateTime"].timestamp())
    assert listed(TimeRangeLowerBound=first) == arns
    assert listed(TimeRangeLowerBound=last + 1) == []
    assert listed(TimeRangeUpperBound=first) == []
    assert listed(TimeRangeLowerBound=first, TimeRangeUpperBound=last + 1) == arns
    # paging by the last backup's ARN, one at a time
    seen: list[str] = []
    start: dict[str, Any] = {}
    while True:
        page = ddb.list_backups(Limit=1, TableName=table_name, **start)
        seen.extend(s["BackupArn"] for s in page["BackupSummaries"])
        if "LastEvaluatedBackupArn" not in page:
            break
        assert page["LastEvaluatedBackupArn"] == seen[-1]
        start = {"ExclusiveStartBackupArn": page["LastEvaluatedBackupArn"]}
    assert seen == [arns[0], arns[2]]
    summary = ddb.list_backups(TableName=other)["BackupSummaries"][0]
    assert summary["TableName"] == other and summary["TableArn"] == table_arn
    assert summary["BackupName"] == "list-1" and summary["BackupStatus"] == "AVAILABLE"
    # a page that ended on a backup deleted since still goes on after it
    ddb.delete_backup(BackupArn=arns[0])
    page = ddb.list_backups(TableName=table_name, ExclusiveStartBackupArn=arns[0])
    assert [s["BackupArn"] for s in page["BackupSummaries"]] == [arns[2]]
    for arn in arns[1:]:
        ddb.delete_backup(BackupArn=arn)


def test_backups_belong_to_their_region(server: Server, make_table: Callable[..., str]) -> None:
    ddb = server.client("dynamodb")
    elsewhere = server.client("dynamodb", region="eu-west-1")
    name = make_table()
    arn = ddb.create_backup(TableName=name, BackupName="region")["BackupDetails"]["BackupArn"]
    available(ddb, arn)
    assert arn not in [s["BackupArn"] for s in elsewhere.list_backups()["BackupSummaries"]]
    with pytest.raises(ClientError) as exc:
        elsewhere.describe_backup(BackupArn=arn)
    assert error_of(exc)[0] == "BackupNotFoundException"
    ddb.delete_backup(BackupArn=arn)


def test_snapshot_is_one_instant_under_concurrent_writes(ddb: Any, make_table: Callable[..., str]) -> None:
    snapshot_under_load(ddb, make_table())


@pytest.mark.headwater_only
def test_snapshot_under_load_on_postgres_and_after_a_restart(
    postgres_server: PostgresServer, tmp_server: Callable[..., Server]
) -> None:
    pytest.importorskip("psycopg")
    srv = tmp_server("--storage-url", postgres_server.create_database()).start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="pg_backup",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    snapshot_under_load(ddb, "pg_backup", keep=True)
    srv.stop()
    srv.start()
    ddb = srv.client("dynamodb")
    (summary,) = ddb.list_backups(TableName="pg_backup")["BackupSummaries"]
    assert summary["BackupStatus"] == "AVAILABLE"
    ddb.restore_table_from_backup(TargetTableName="pg_again", BackupArn=summary["BackupArn"])
    again = restored(ddb, "pg_again")
    assert again["TableSizeBytes"] == summary["BackupSizeBytes"]
    assert items_of(ddb, "pg_again") == items_of(ddb, "pg_backup_c")


def snapshot_under_load(ddb: Any, name: str, *, keep: bool = False) -> None:
    """Each write adds item i and moves `head` to i in one transaction: a consistent snapshot holds
    exactly the items 0..head, however the writes interleave with the backup (whose copy, of more rows
    than one read fetches, goes on while they do)."""
    for start in range(0, 4000, 25):
        requests = [{"PutRequest": {"Item": {"pk": {"S": f"f{n}"}}}} for n in range(start, start + 25)]
        ddb.batch_write_item(RequestItems={name: requests})
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 5000:
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": name, "Item": {"pk": {"S": f"i{i:05d}"}}}},
                    {"Put": {"TableName": name, "Item": {"pk": {"S": "head"}, "n": {"N": str(i)}}}},
                ]
            )
            written.append(i)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_until(lambda: len(written) >= 50, what="writes under way")
        arn = ddb.create_backup(TableName=name, BackupName="under-load")["BackupDetails"]["BackupArn"]
        wait_until(lambda: len(written) >= 100 or None, what="writes after the backup")
    finally:
        stop.set()
        thread.join()
    available(ddb, arn)
    target = name + "_c"
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    restored(ddb, target)
    items = items_of(ddb, target)
    head = next(int(i["n"]["N"]) for i in items if i["pk"]["S"] == "head")
    assert sorted(i["pk"]["S"] for i in items if i["pk"]["S"].startswith("i")) == [
        f"i{n:05d}" for n in range(head + 1)
    ]
    assert head < len(written) - 1  # the table went on after the backup, which did not see it
    assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 4000 + head + 2
    if not keep:
        ddb.delete_backup(BackupArn=arn)
        ddb.delete_table(TableName=target)


@pytest.mark.headwater_only
def test_backups_through_front_processes(tmp_server: Callable[..., Server]) -> None:
    """With --workers the reads (DescribeBackup, ListBackups, DescribeContinuousBackups) are answered
    by front processes and the rest by the core: both see the same backups."""
    srv = tmp_server("--workers", "2").start()
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName="fronts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(10):
        ddb.put_item(TableName="fronts", Item={"pk": {"S": f"k{i}"}})
    arn = ddb.create_backup(TableName="fronts", BackupName="via-fronts")["BackupDetails"]["BackupArn"]
    available(ddb, arn)
    assert [s["BackupArn"] for s in ddb.list_backups()["BackupSummaries"]] == [arn]
    ddb.update_continuous_backups(
        TableName="fronts", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    described = ddb.describe_continuous_backups(TableName="fronts")["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ddb.restore_table_from_backup(TargetTableName="fronts_back", BackupArn=arn)
    assert restored(ddb, "fronts_back")["ItemCount"] == 10
