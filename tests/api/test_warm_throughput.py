"""Warm throughput and on-demand scaling under `serve --enforce-capacity`: a new on-demand table serves its
warm throughput (12,000 read, 4,000 write units a second) at once, twice a new peak from 30 minutes after
it was reached, never more than its OnDemandThroughput maximums; WarmThroughput is set, raised, refused and
described as DynamoDB does it (DynamoDB Local ignores it: the texts are AWS's answers).

The server runs on a test clock (HEADWATER_TEST_CLOCK): a second of traffic is exact, nothing sleeps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_capacity import START, advance, error_of
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only  # DynamoDB Local neither throttles nor keeps WarmThroughput

BIG = "x" * (399 * 1024)  # with its key and name: a little over 399 KB, 400 write units
INVALID = "One or more parameter values were invalid: "
INITIAL = (
    " is lower than initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/"
    "developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial"
)


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("warm"), ("--enforce-capacity",))
    srv.env["HEADWATER_TEST_CLOCK"] = str(START)
    srv.start()
    yield srv
    srv.stop()


def on_demand(ddb: Any, **extra: Any) -> str:
    name = f"warm-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def with_gsi(ddb: Any, index: dict[str, Any], **table: Any) -> str:
    """A new table (key pk) with the GSI `byg` on g; `index` adds to the GSI, `table` to the table."""
    name = f"warm-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {"IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], **index}
        ],
        **table,
    )
    return name


def big_puts_until_throttled(ddb: Any, name: str, limit: int = 100) -> tuple[int, dict[str, Any]]:
    """400-unit puts, each to its own key (one key serves 1,000 units a second), until one is throttled."""
    done = 0
    while True:
        try:
            ddb.put_item(TableName=name, Item={"pk": {"S": uuid.uuid4().hex}, "v": {"S": BIG}})
        except ClientError as err:
            return done, err.response
        done += 1
        assert done < limit, "never throttled"


def warm_of(ddb: Any, name: str) -> dict[str, Any]:
    described: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]["WarmThroughput"]
    return described


def test_a_new_on_demand_table_serves_its_warm_throughput_then_double_its_peak(warm: Server) -> None:
    ddb = warm.client()
    name = on_demand(ddb)
    assert warm_of(ddb, name) == {
        "ReadUnitsPerSecond": 12000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }
    done, err = big_puts_until_throttled(ddb, name)
    assert done == 10  # 4,000 write units in this second
    assert err["Error"]["Code"] == "ThrottlingException"
    assert err["Error"]["Message"].startswith(
        "Throughput exceeds the current capacity of your table or index."
    )
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    assert err["throttlingReasons"] == [{"reason": "TableWriteKeyRangeThroughputExceeded", "resource": arn}]
    advance(warm, 1)  # the peak, 4,000 units, is reached; doubling it takes 30 minutes
    assert big_puts_until_throttled(ddb, name)[0] == 10
    assert warm_of(ddb, name)["WriteUnitsPerSecond"] == 4000
    advance(warm, 1800)
    assert warm_of(ddb, name)["WriteUnitsPerSecond"] == 8000
    assert big_puts_until_throttled(ddb, name)[0] == 20


def test_a_maximum_below_the_warm_throughput_throttles_first(warm: Server) -> None:
    ddb = warm.client()
    name = on_demand(
        ddb,
        WarmThroughput={"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 8000},
        OnDemandThroughput={"MaxWriteRequestUnits": 2000},
    )
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["WarmThroughput"] == {
        "ReadUnitsPerSecond": 20000,
        "WriteUnitsPerSecond": 8000,
        "Status": "ACTIVE",
    }
    done, err = big_puts_until_throttled(ddb, name)
    assert done == 5
    reason = {"reason": "TableWriteMaxOnDemandThroughputExceeded", "resource": described["TableArn"]}
    assert err["throttlingReasons"] == [reason]
    advance(warm, 1)
    ddb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": -1})
    assert big_puts_until_throttled(ddb, name)[0] == 20  # the warm throughput set at creation


def test_pre_warming_with_update_table_raises_what_is_served_at_once(warm: Server) -> None:
    ddb = warm.client()
    name = on_demand(ddb)
    answer = ddb.update_table(TableName=name, WarmThroughput={"WriteUnitsPerSecond": 6000})
    assert answer["TableDescription"]["WarmThroughput"]["WriteUnitsPerSecond"] == 6000
    assert warm_of(ddb, name) == {
        "ReadUnitsPerSecond": 12000,
        "WriteUnitsPerSecond": 6000,
        "Status": "ACTIVE",
    }
    assert big_puts_until_throttled(ddb, name)[0] == 15
    ddb.update_table(TableName=name, WarmThroughput={"WriteUnitsPerSecond": 6000})  # the same: accepted
    err = error_of(ddb.update_table, TableName=name, WarmThroughput={"WriteUnitsPerSecond": 5000})
    assert err["Error"]["Code"] == "ValidationException"
    assert err["Error"]["Message"] == (
        INVALID + "Requested WriteUnitsPerSecond for WarmThroughput for table is lower than current "
        "WarmThroughput, decreasing WarmThroughput is not supported"
    )


def test_a_gsi_has_its_own_warm_throughput_and_maximum(warm: Server) -> None:
    ddb = warm.client()
    name = with_gsi(
        ddb,
        {
            "Projection": {"ProjectionType": "ALL"},
            "WarmThroughput": {"ReadUnitsPerSecond": 15000},
            "OnDemandThroughput": {"MaxWriteRequestUnits": 800},
        },
        BillingMode="PAY_PER_REQUEST",
    )
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["WarmThroughput"] == {
        "ReadUnitsPerSecond": 15000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }
    assert index["OnDemandThroughput"] == {"MaxWriteRequestUnits": 800}
    # the index's maximum holds back the table's writes (GSI back-pressure): two 400-unit writes fill it
    for n in range(2):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}, "g": {"S": f"g{n}"}, "v": {"S": BIG}})
    err = error_of(ddb.put_item, TableName=name, Item={"pk": {"S": "k2"}, "g": {"S": "g2"}})
    assert err["throttlingReasons"] == [
        {"reason": "IndexWriteMaxOnDemandThroughputExceeded", "resource": index["IndexArn"]}
    ]
    ddb.update_table(
        TableName=name,
        GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": "byg", "WarmThroughput": {"WriteUnitsPerSecond": 5000}}}
        ],
    )
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["WarmThroughput"]["WriteUnitsPerSecond"] == 5000
    updates: list[tuple[dict[str, Any], str]] = [
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 12000}},
            INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for index byg is lower than current "
            "WarmThroughput, decreasing WarmThroughput is not supported",
        ),
        (
            {"WarmThroughput": {}},
            INVALID + "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond "
            "specified for index: byg",
        ),
        (
            {},
            INVALID + "The only Updates for index: byg when TableThroughputMode is PAY_PER_REQUEST can be to "
            "OnDemandThroughput, WarmThroughput",
        ),
    ]
    for update, message in updates:
        err = error_of(
            ddb.update_table,
            TableName=name,
            GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "byg", **update}}],
        )
        assert (err["Error"]["Code"], err["Error"]["Message"]) == ("ValidationException", message)


def test_a_provisioned_tables_warm_throughput_follows_its_highest_capacity(warm: Server) -> None:
    ddb = warm.client()
    name = f"warm-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    assert warm_of(ddb, name) == {"ReadUnitsPerSecond": 5, "WriteUnitsPerSecond": 5, "Status": "ACTIVE"}
    for units in (10, 3):
        ddb.update_table(
            TableName=name, ProvisionedThroughput={"ReadCapacityUnits": units, "WriteCapacityUnits": units}
        )
    assert warm_of(ddb, name) == {"ReadUnitsPerSecond": 10, "WriteUnitsPerSecond": 10, "Status": "ACTIVE"}
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    assert warm_of(ddb, name)["WriteUnitsPerSecond"] == 4000


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"BillingMode": "PAY_PER_REQUEST", "WarmThroughput": {"ReadUnitsPerSecond": 1}},
            INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for table" + INITIAL,
        ),
        (
            {
                "BillingMode": "PAY_PER_REQUEST",
                "WarmThroughput": {"ReadUnitsPerSecond": 0, "WriteUnitsPerSecond": 0},
            },
            INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for table" + INITIAL,
        ),
        (
            {"BillingMode": "PAY_PER_REQUEST", "WarmThroughput": {"WriteUnitsPerSecond": -4}},
            INVALID + "Requested WriteUnitsPerSecond for WarmThroughput for table" + INITIAL,
        ),
        (
            {
                "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
                "WarmThroughput": {"ReadUnitsPerSecond": 5, "WriteUnitsPerSecond": 5},
            },
            INVALID
            + "Requested ReadUnitsPerSecond for WarmThroughput for table is lower than ReadCapacityUnits "
            "of ProvisionedThroughput",
        ),
        (
            {"BillingMode": "PAY_PER_REQUEST", "OnDemandThroughput": {"MaxReadRequestUnits": 0}},
            "Table read and write throughput must be at least 1, and cannot be null",
        ),
    ],
)
def test_create_table_refuses_bad_warm_and_on_demand_throughput(
    warm: Server, extra: dict[str, Any], message: str
) -> None:
    ddb = warm.client()
    name = f"warm-{uuid.uuid4().hex[:10]}"
    err = error_of(
        ddb.create_table,
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        **extra,
    )
    assert (err["Error"]["Code"], err["Error"]["Message"]) == ("ValidationException", message)


def test_update_table_refuses_bad_warm_throughput(warm: Server) -> None:
    ddb = warm.client()
    name = on_demand(ddb)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 13000}, "DeletionProtectionEnabled": False},
            INVALID + "WarmThroughput must be the only operation in the request",
        ),
        (
            {
                "WarmThroughput": {"ReadUnitsPerSecond": 13000},
                "OnDemandThroughput": {"MaxReadRequestUnits": 9},
            },
            INVALID + "OnDemandThroughput can only be combined with BillingMode in an UpdateTable request",
        ),
        (
            {
                "WarmThroughput": {"ReadUnitsPerSecond": 13000},
                "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
                "GlobalSecondaryIndexUpdates": [
                    {
                        "Create": {
                            "IndexName": "byg",
                            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "KEYS_ONLY"},
                        }
                    }
                ],
            },
            INVALID + "Create global secondary index cannot be specified when updating WarmThroughput",
        ),
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 11999}},
            INVALID + "Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current "
            "WarmThroughput, decreasing WarmThroughput is not supported",
        ),
        (
            {"WarmThroughput": {}},
            INVALID + "WarmThroughput must have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond "
            "specified",
        ),
    ]
    for request, message in cases:
        err = error_of(ddb.update_table, TableName=name, **request)
        assert (err["Error"]["Code"], err["Error"]["Message"]) == ("ValidationException", message)
    # an empty WarmThroughput beside another change is dropped, as DynamoDB does
    ddb.update_table(TableName=name, WarmThroughput={}, DeletionProtectionEnabled=False)
    assert warm_of(ddb, name)["ReadUnitsPerSecond"] == 12000


def test_a_gsi_created_by_update_table_takes_its_warm_throughput(warm: Server) -> None:
    ddb = warm.client()
    name = on_demand(ddb)

    def create(index: dict[str, Any]) -> None:
        ddb.update_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "byg",
                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                        **index,
                    }
                }
            ],
        )

    err = error_of(create, index={"WarmThroughput": {"WriteUnitsPerSecond": 3999}})
    assert (
        err["Error"]["Message"]
        == INVALID + "Requested WriteUnitsPerSecond for WarmThroughput for index byg" + INITIAL
    )
    create(
        {"WarmThroughput": {"ReadUnitsPerSecond": 13000}, "OnDemandThroughput": {"MaxReadRequestUnits": 50}}
    )

    def active() -> dict[str, Any] | None:
        index: dict[str, Any] = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
        return index if index["IndexStatus"] == "ACTIVE" else None

    index = wait_until(active, what="index byg active")
    assert index["WarmThroughput"] == {
        "ReadUnitsPerSecond": 13000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }
    assert index["OnDemandThroughput"] == {"MaxReadRequestUnits": 50}


def test_a_provisioned_gsis_update_needs_its_throughput_or_a_warm_throughput(warm: Server) -> None:
    ddb = warm.client()
    name = with_gsi(
        ddb,
        {
            "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        },
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["WarmThroughput"] == {"ReadUnitsPerSecond": 5, "WriteUnitsPerSecond": 5, "Status": "ACTIVE"}
    err = error_of(
        ddb.update_table, TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "byg"}}]
    )
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "ValidationException",
        "No provisioned throughput specified for the global secondary index",
    )
    ddb.update_table(
        TableName=name,
        GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": "byg", "WarmThroughput": {"ReadUnitsPerSecond": 50}}}
        ],
    )
    index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
    assert index["WarmThroughput"]["ReadUnitsPerSecond"] == 50


def test_update_table_refuses_settings_above_the_per_table_quota(warm: Server) -> None:
    ddb = warm.client()
    name = with_gsi(
        ddb,
        {"Projection": {"ProjectionType": "KEYS_ONLY"}},
        BillingMode="PAY_PER_REQUEST",
    )
    quota = (
        "Subscriber limit exceeded: Requested {} exceeds TableMax{}CapacityUnits of the account in region "
        "us-east-1"
    )
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 40001}},
            quota.format("ReadUnitsPerSecond for WarmThroughput for table", "Read"),
        ),
        (
            {"OnDemandThroughput": {"MaxWriteRequestUnits": 50000}},
            quota.format("MaxWriteRequestUnits for OnDemandThroughput for table", "Write"),
        ),
        (
            {
                "GlobalSecondaryIndexUpdates": [
                    {"Update": {"IndexName": "byg", "WarmThroughput": {"WriteUnitsPerSecond": 40001}}}
                ]
            },
            quota.format("WriteUnitsPerSecond for WarmThroughput for index byg", "Write"),
        ),
        (
            {
                "GlobalSecondaryIndexUpdates": [
                    {"Update": {"IndexName": "byg", "OnDemandThroughput": {"MaxReadRequestUnits": 40001}}}
                ]
            },
            quota.format("MaxReadRequestUnits for OnDemandThroughput for index : byg", "Read"),
        ),
    ]
    for request, message in cases:
        err = error_of(ddb.update_table, TableName=name, **request)
        assert (err["Error"]["Code"], err["Error"]["Message"]) == ("LimitExceededException", message)
    ddb.update_table(TableName=name, WarmThroughput={"ReadUnitsPerSecond": 40000})  # the quota itself: taken


def test_turning_provisioned_drops_the_on_demand_maximums_for_good(warm: Server) -> None:
    ddb = warm.client()
    name = with_gsi(
        ddb,
        {"Projection": {"ProjectionType": "ALL"}, "OnDemandThroughput": {"MaxReadRequestUnits": 100}},
        BillingMode="PAY_PER_REQUEST",
        OnDemandThroughput={"MaxReadRequestUnits": 200},
    )
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["OnDemandThroughput"] == {"MaxReadRequestUnits": 200}
    assert table["GlobalSecondaryIndexes"][0]["OnDemandThroughput"] == {"MaxReadRequestUnits": 100}
    five = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput=five,
        GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "byg", "ProvisionedThroughput": five}}],
    )
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    table = ddb.describe_table(TableName=name)["Table"]
    assert "OnDemandThroughput" not in table
    assert "OnDemandThroughput" not in table["GlobalSecondaryIndexes"][0]
