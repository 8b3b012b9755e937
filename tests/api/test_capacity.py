"""`serve --enforce-capacity`: provisioned tables and GSIs throttle past their capacity with DynamoDB's burst
capacity, on-demand tables at their maximums, decreases are limited, and an SDK retries the throttling.

The server runs on a test clock (HEADWATER_TEST_CLOCK) that moves only when a test says so, so a bucket's
level is exact: no request refills it by taking time."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server import Server

pytestmark = pytest.mark.headwater_only  # DynamoDB Local never throttles

START = 1_800_000_000  # 2027-01-15 08:00:00 UTC

TABLE_EXCEEDED = (
    "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
    "provisioning level with the UpdateTable API."
)
INDEX_EXCEEDED = (
    "The level of configured provisioned throughput for one or more global secondary indexes of the table "
    "was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary "
    "indexes with the UpdateTable API"
)
TEN_UNITS = "x" * 10_000  # with its key: a 10,011-byte item, 10 write units


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("capacity"), ("--enforce-capacity",))
    srv.env["HEADWATER_TEST_CLOCK"] = str(START)
    srv.start()
    yield srv
    srv.stop()


def advance(srv: Server, seconds: float) -> float:
    status, _, body = srv.request(
        "POST", "/_headwater/clock/advance", json.dumps({"Seconds": seconds}).encode(), service="dynamodb"
    )
    assert status == 200, body
    now: float = json.loads(body)["Now"]
    return now


def provisioned(ddb: Any, read: int, write: int, gsi_write: int | None = None) -> str:
    name = f"cap-{uuid.uuid4().hex[:10]}"
    extra: dict[str, Any] = {}
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
    if gsi_write is not None:
        definitions.append({"AttributeName": "g", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": gsi_write},
            }
        ]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=definitions,
        ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": write},
        **extra,
    )
    return name


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def arn_of(ddb: Any, name: str) -> str:
    arn: str = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    return arn


def test_provisioned_writes_and_reads_past_capacity_are_throttled(capped: Server) -> None:
    ddb = capped.client()
    name = provisioned(ddb, read=1, write=1)
    item = {"pk": {"S": "a"}}
    ddb.put_item(TableName=name, Item=item)  # a new bucket holds one second: 1 unit
    err = error_of(ddb.put_item, TableName=name, Item=item)
    assert err["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert err["Error"]["Message"] == TABLE_EXCEEDED
    arn = arn_of(ddb, name)
    assert err["ThrottlingReasons"] == [
        {"reason": "TableWriteProvisionedThroughputExceeded", "resource": arn}
    ]
    # reads have their own bucket: two eventually consistent reads of a small item are one unit
    ddb.get_item(TableName=name, Key=item)
    ddb.get_item(TableName=name, Key=item)
    err = error_of(ddb.get_item, TableName=name, Key=item)
    assert err["ThrottlingReasons"] == [{"reason": "TableReadProvisionedThroughputExceeded", "resource": arn}]
    advance(capped, 1)  # a second later there is room again
    assert ddb.get_item(TableName=name, Key=item, ConsistentRead=True)["Item"] == item


def test_burst_capacity_keeps_300_seconds_then_runs_out(capped: Server) -> None:
    ddb = capped.client()
    name = provisioned(ddb, read=1, write=1)

    def puts_until_throttled() -> int:
        done = 0
        while True:
            try:
                ddb.put_item(TableName=name, Item={"pk": {"S": f"k{done}"}, "v": {"S": TEN_UNITS}})
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
                return done
            done += 1
            assert done < 100, "never throttled"

    first = ddb.put_item(
        TableName=name, Item={"pk": {"S": "first"}, "v": {"S": TEN_UNITS}}, ReturnConsumedCapacity="TOTAL"
    )
    assert first["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 10.0}  # 1 unit left, 9 owed
    assert puts_until_throttled() == 0
    advance(capped, 309)  # the debt paid back, then 300 s unused: 300 units of burst
    assert puts_until_throttled() == 30
    advance(capped, 3600)  # an hour unused keeps no more than 300 seconds of it
    assert puts_until_throttled() == 30


def test_a_gsi_without_write_capacity_throttles_the_base_table(capped: Server) -> None:
    ddb = capped.client()
    name = provisioned(ddb, read=100, write=100, gsi_write=1)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    err = error_of(ddb.put_item, TableName=name, Item={"pk": {"S": "b"}, "g": {"S": "y"}})
    assert err["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert err["Error"]["Message"] == INDEX_EXCEEDED
    resource = arn_of(ddb, name) + "/index/byg"
    assert err["ThrottlingReasons"] == [
        {"reason": "IndexWriteProvisionedThroughputExceeded", "resource": resource}
    ]
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "b"}}, ConsistentRead=True)
    advance(capped, 1)
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "g": {"S": "y"}})


def test_a_batch_leaves_a_throttled_table_unprocessed(capped: Server) -> None:
    ddb = capped.client()
    tight, roomy = provisioned(ddb, read=1, write=1), provisioned(ddb, read=1, write=50)
    ddb.put_item(TableName=tight, Item={"pk": {"S": "a"}})
    put = [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]
    out = ddb.batch_write_item(RequestItems={tight: put, roomy: put})
    assert out["UnprocessedItems"] == {tight: put}
    assert ddb.get_item(TableName=roomy, Key={"pk": {"S": "b"}})["Item"] == {"pk": {"S": "b"}}
    err = error_of(ddb.batch_write_item, RequestItems={tight: put})  # every table throttled: the error
    assert err["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_a_transaction_on_a_throttled_table_is_cancelled(capped: Server) -> None:
    ddb = capped.client()
    tight, roomy = provisioned(ddb, read=1, write=1), provisioned(ddb, read=1, write=50)
    ddb.put_item(TableName=tight, Item={"pk": {"S": "a"}})
    err = error_of(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": roomy, "Item": {"pk": {"S": "b"}}}},
            {"Put": {"TableName": tight, "Item": {"pk": {"S": "b"}}}},
        ],
    )
    assert err["Error"]["Code"] == "TransactionCanceledException"
    assert err["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ProvisionedThroughputExceeded]"
    )
    assert err["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_EXCEEDED},
    ]
    assert "Item" not in ddb.get_item(TableName=roomy, Key={"pk": {"S": "b"}})


def test_on_demand_tables_throttle_at_their_maximum(capped: Server) -> None:
    ddb = capped.client()
    name = f"cap-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        OnDemandThroughput={"MaxReadRequestUnits": 5, "MaxWriteRequestUnits": 2},
    )
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["OnDemandThroughput"] == {"MaxReadRequestUnits": 5, "MaxWriteRequestUnits": 2}
    for n in range(2):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}})
    err = error_of(ddb.put_item, TableName=name, Item={"pk": {"S": "k2"}})
    assert err["Error"]["Code"] == "ThrottlingException"
    reason = {"reason": "TableWriteMaxOnDemandThroughputExceeded", "resource": described["TableArn"]}
    assert err["throttlingReasons"] == [reason]
    advance(capped, 1)  # no burst on demand: one second holds two units again, no more
    ddb.put_item(TableName=name, Item={"pk": {"S": "k2"}})
    # the maximum removed (-1): the per-table quota, 40,000 units a second, is far away
    ddb.update_table(TableName=name, OnDemandThroughput={"MaxWriteRequestUnits": -1})
    assert ddb.describe_table(TableName=name)["Table"]["OnDemandThroughput"] == {"MaxReadRequestUnits": 5}
    for n in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"more{n}"}})


def test_one_partition_key_value_serves_1000_write_units_a_second(capped: Server) -> None:
    ddb = capped.client()
    name = f"cap-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(100):  # 10 units each: the hot key's 1,000 for this second
        ddb.put_item(TableName=name, Item={"pk": {"S": "hot"}, "sk": {"N": str(n)}, "v": {"S": TEN_UNITS}})
    err = error_of(ddb.put_item, TableName=name, Item={"pk": {"S": "hot"}, "sk": {"N": "100"}})
    assert err["Error"]["Code"] == "ThrottlingException"
    arn = arn_of(ddb, name)
    assert err["throttlingReasons"] == [{"reason": "TableWriteKeyRangeThroughputExceeded", "resource": arn}]
    ddb.put_item(TableName=name, Item={"pk": {"S": "cold"}, "sk": {"N": "0"}})  # another key: room
    ddb.get_item(TableName=name, Key={"pk": {"S": "hot"}, "sk": {"N": "0"}})  # reads: their own limit
    advance(capped, 1)
    ddb.put_item(TableName=name, Item={"pk": {"S": "hot"}, "sk": {"N": "100"}})


def test_decreases_are_limited_as_dynamodb_limits_them(capped: Server) -> None:
    ddb = capped.client()
    name = provisioned(ddb, read=20, write=5)
    for read in (19, 18, 17, 16):
        ddb.update_table(
            TableName=name, ProvisionedThroughput={"ReadCapacityUnits": read, "WriteCapacityUnits": 5}
        )
        now = advance(capped, 60)
    throughput = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert throughput["NumberOfDecreasesToday"] == 4
    last = now - 60
    assert throughput["LastDecreaseDateTime"] == dt.datetime.fromtimestamp(last, dt.UTC)
    err = error_of(
        ddb.update_table,
        TableName=name,
        ProvisionedThroughput={"ReadCapacityUnits": 15, "WriteCapacityUnits": 5},
    )
    assert err["Error"]["Code"] == "LimitExceededException"
    assert err["Error"]["Message"] == (
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. "
        "After the first 4 decreases, each subsequent decrease in the same UTC day can be performed at most "
        f"once every 3600 seconds. Number of decreases today: 4. Last decrease at {_spoken(last)}. Next "
        f"decrease can be made at {_spoken(last + 3600)}"
    )
    # increases are never limited; an hour after the last decrease, one more
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 30, "WriteCapacityUnits": 5})
    advance(capped, 3600)
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 15, "WriteCapacityUnits": 5})
    throughput = ddb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert throughput["NumberOfDecreasesToday"] == 5
    assert "LastIncreaseDateTime" in throughput


def _spoken(at: float) -> str:
    moment = dt.datetime.fromtimestamp(at, dt.UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    when = f"{moment:%A, %B} {moment.day}, {moment.year} at {hour}:{moment:%M:%S} {half}"
    return when + " Coordinated Universal Time"


def test_the_sdk_retries_a_throttled_request(capped: Server) -> None:
    name = provisioned(capped.client(), read=1, write=1)
    ddb = capped.client(retries={"max_attempts": 2, "mode": "standard"})
    sent: list[str] = []
    ddb.meta.events.register("before-send.dynamodb.PutItem", lambda **_: sent.append("PutItem"))
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    assert sent == ["PutItem"]
    err = error_of(ddb.put_item, TableName=name, Item={"pk": {"S": "b"}})  # the clock stands still
    assert err["Error"]["Code"] == "ProvisionedThroughputExceededException"
    # botocore's `max_attempts` counts the retries after the first attempt
    assert err["ResponseMetadata"]["RetryAttempts"] == 2
    assert err["ResponseMetadata"]["MaxAttemptsReached"] is True
    assert len(sent) == 1 + 3


def test_capacity_is_not_enforced_by_default(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()
    try:
        ddb = srv.client()
        name = provisioned(ddb, read=1, write=1)
        for n in range(5):
            ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}, "v": {"S": TEN_UNITS}})
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("clock/advance", {"Seconds": -1}),
        ("clock/advance", {"Seconds": "soon"}),
        ("clock/advance", {}),
        ("usage", {"Since": "yesterday"}),
        ("usage", {"Since": -5}),
        ("usage", {"Region": 7}),
    ],
)
def test_the_admin_calls_refuse_bad_input(capped: Server, path: str, body: dict[str, Any]) -> None:
    status, _, answer = capped.request(
        "POST", "/_headwater/" + path, json.dumps(body).encode(), service="dynamodb"
    )
    assert status == 400
    assert json.loads(answer)["__type"].endswith("#ValidationException")


def test_the_clock_moves_only_on_a_test_server(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()
    try:
        status, _, answer = srv.request(
            "POST", "/_headwater/clock/advance", b'{"Seconds": 1}', service="dynamodb"
        )
        assert status == 400
        assert json.loads(answer)["__type"].endswith("#UnknownOperationException")
    finally:
        srv.stop()
