"""`serve --meter-usage` and `headwater usage`: a known workload's units counted exactly, kept over a
restart, and priced with a price file of round numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_metrics import scrape, value
from tests.server import Server
from tests.waiting import wait_until

pytestmark = pytest.mark.headwater_only  # Headwater's own admin route and command

START = 1_800_000_000  # on the hour: the workload's hour is the report's whole window
ITEM_VALUE = "v" * 2_500  # with its key and GSI attribute: 2,507 bytes, 3 write units, 1 read unit
PRICES = {
    "date": "2026-11-30",
    "currency": "USD",
    "source": "a test's round numbers",
    "regions": {
        "test-1": {
            "read_request_units_per_million": 1.0,
            "write_request_units_per_million": 10.0,
            "replicated_write_request_units_per_million": 10.0,
            "rcu_hour": 0.001,
            "wcu_hour": 0.01,
            "storage_gb_month": 1.0,
            "stream_read_requests_per_100000": 100.0,
        }
    },
}


def usage(srv: Server, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "headwater", "usage", "--json", "--endpoint-url", srv.endpoint, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def workload(ddb: Any, streams: Any) -> None:
    """5 puts of 3 units (and 3 each in the GSI), a delete whose condition fails (3 units: the existing
    item's size), 2 strongly and 2 eventually consistent reads (1 and 0.5 units), a Query of the GSI that
    finds nothing (0.5 units), 3 GetRecords calls."""
    ddb.create_table(
        TableName="metered",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byg",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for n in range(5):
        ddb.put_item(
            TableName="metered", Item={"pk": {"S": f"k{n}"}, "g": {"S": "x"}, "v": {"S": ITEM_VALUE}}
        )
    with pytest.raises(ClientError) as failed:  # still 3 write units: the existing item's size
        ddb.delete_item(
            TableName="metered", Key={"pk": {"S": "k0"}}, ConditionExpression="attribute_not_exists(v)"
        )
    assert "Item" not in failed.value.response  # not asked for: not returned
    for consistent in (True, True, False, False):
        ddb.get_item(TableName="metered", Key={"pk": {"S": "k0"}}, ConsistentRead=consistent)
    ddb.query(
        TableName="metered",
        IndexName="byg",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "nothing"}},
    )
    arn = ddb.describe_table(TableName="metered")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    cursor = iterator["ShardIterator"]
    for _ in range(3):
        cursor = streams.get_records(ShardIterator=cursor)["NextShardIterator"]


def test_a_known_workload_is_counted_exactly_and_priced(tmp_path: Path) -> None:
    srv = Server(tmp_path, ("--meter-usage",))
    srv.env["HEADWATER_TEST_CLOCK"] = str(START)
    srv.start()
    try:
        workload(srv.client(), srv.client("dynamodbstreams"))
        prices = tmp_path / "prices.json"
        prices.write_text(json.dumps(PRICES))
        live = usage(srv, "--prices", str(prices), "--price-region", "test-1")
        # the same units on /metrics, as CloudWatch names them (the table's own, not its GSI's)
        samples = scrape(srv.port)
        where = {"account": "000000000000", "region": "us-east-1", "table": "metered"}
        assert value(samples, "headwater_consumed_write_capacity_units_total", **where) == 15.0 + 3.0
        assert value(samples, "headwater_consumed_read_capacity_units_total", **where) == 1 + 1 + 0.5 + 0.5
        srv.stop()  # a clean stop flushes the counters
        srv.start()
        after = usage(srv, "--prices", str(prices), "--price-region", "test-1")
    finally:
        if srv.process is not None:
            srv.stop()
    for report in (live, after):
        assert report["Metered"] is True
        assert report["Hours"] == 1.0
        (table,) = report["Tables"]
        assert table["TableName"] == "metered"
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["WriteUnits"] == 15.0 + 3.0
        assert table["GsiWriteUnits"] == 15.0
        assert table["ReadUnits"] == 1 + 1 + 0.5 + 0.5 + 0.5
        assert table["StreamReadRequests"] == 3
        assert table["ReplicatedWriteUnits"] == 0
        assert table["ProvisionedRcuHours"] == table["ProvisionedWcuHours"] == 0
        assert table["ItemCount"] == 5
        assert table["StorageBytes"] == 2 * 5 * 2_507  # the table and its ALL-projected GSI
        assert table["BillableStorageBytes"] == table["StorageBytes"] + 100 * 10
        storage = table["BillableStorageBytes"] / 2**30 * 1.0
        streams = 3 / 100_000 * 100.0 * 730
        on_demand = (3.5 / 1e6 * 1.0 + 33 / 1e6 * 10.0) * 730 + storage + streams
        assert table["OnDemandMonthly"] == pytest.approx(on_demand, abs=1e-6)
        # provisioned for the hour's average rate, rounded up: 1 RCU and 1 WCU for the month
        assert table["ProvisionedMonthly"] == pytest.approx(
            730 * (0.001 + 0.01) + storage + streams, abs=1e-6
        )


def test_the_usage_command_prints_a_table_and_refuses_an_unknown_region(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()  # not metered: storage and capacity only, and a note saying so
    try:
        srv.client().create_table(
            TableName="plain",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 2},
        )
        command = [sys.executable, "-m", "headwater", "usage", "--endpoint-url", srv.endpoint]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "not run with --meter-usage" in done.stderr
        (row,) = [line for line in done.stdout.splitlines() if line.startswith("plain ")]
        assert "PROVISIONED" in row
        wrong = subprocess.run(
            [*command, "--price-region", "mars-1"], capture_output=True, text=True, timeout=60
        )
        assert wrong.returncode == 2
        assert "no prices for mars-1" in wrong.stderr
        since = subprocess.run([*command, "--since", "yesterday"], capture_output=True, text=True, timeout=60)
        assert since.returncode == 2
        assert "expected 24h, 90m, 7d" in since.stderr
    finally:
        srv.stop()


def test_replicated_writes_are_counted_in_the_receiving_region(tmp_path: Path) -> None:
    srv = Server(tmp_path, ("--meter-usage",)).start()
    try:
        home, eu = srv.client("dynamodb", "us-east-1"), srv.client("dynamodb", "eu-west-1")
        home.create_table(
            TableName="global",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        home.update_table(TableName="global", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])

        def replica_active() -> bool:
            replicas = home.describe_table(TableName="global")["Table"].get("Replicas", [])
            return [r["ReplicaStatus"] for r in replicas] == ["ACTIVE"]

        wait_until(replica_active, what="the eu-west-1 replica")
        for n in range(4):  # 3 write units each: a 2,505-byte item
            home.put_item(TableName="global", Item={"pk": {"S": f"k{n}"}, "v": {"S": ITEM_VALUE}})

        def replicated() -> float:
            (table,) = usage(srv, "--region", "eu-west-1")["Tables"]
            units: float = table["ReplicatedWriteUnits"]
            return units if units >= 12 else 0.0

        assert wait_until(replicated, what="the replicated writes counted") == 12.0
        (table,) = usage(srv, "--region", "eu-west-1")["Tables"]
        assert table["WriteUnits"] == 0  # the replica's own writes: none
        (source,) = usage(srv, "--region", "us-east-1")["Tables"]
        assert source["WriteUnits"] == 12.0
        assert source["ReplicatedWriteUnits"] == 0
        assert len(eu.scan(TableName="global")["Items"]) == 4
    finally:
        srv.stop()
