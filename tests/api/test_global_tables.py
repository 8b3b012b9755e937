"""Global tables (version 2019.11.21) through boto3 against a live server: replicas in other regions of
the same server, created with UpdateTable's ReplicaUpdates, converging under concurrent writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_aws_cli import aws
from tests.api.test_streams import all_records
from tests.server import Server

HOME, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
DEADLINE = 60.0


def wait_for(what: str, check: Callable[[], bool], deadline: float = DEADLINE) -> None:
    """Poll `check` until it holds; fail naming `what` at the deadline."""
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def items(client: Any, table: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            out[item["pk"]["S"]] = item
    return out


def replica_status(client: Any, table: str) -> dict[str, str]:
    described = client.describe_table(TableName=table)["Table"]
    return {r["RegionName"]: r["ReplicaStatus"] for r in described.get("Replicas", [])}


def add_replica(client: Any, table: str, region: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.update_table(
        TableName=table, ReplicaUpdates=[{"Create": {"RegionName": region}}]
    )
    return answer


def stream_records(server: Server, region: str, table: str) -> list[dict[str, Any]]:
    arn = server.client("dynamodb", region).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return all_records(server.client("dynamodbstreams", region), arn)


@pytest.fixture
def global_table(server: Server, make_table: Callable[..., str]) -> str:
    """A table in us-east-1 with items, then replicas in us-west-2 and eu-west-1, both ACTIVE."""
    name = make_table()
    home = server.client("dynamodb", HOME)
    for i in range(50):
        home.put_item(TableName=name, Item={"pk": {"S": f"old{i}"}, "v": {"N": str(i)}})
    created = add_replica(home, name, WEST)["TableDescription"]
    assert created["GlobalTableVersion"] == "2019.11.21"
    assert created["Replicas"] == [
        {
            "RegionName": WEST,
            "ReplicaStatus": "CREATING",
            "ReplicaStatusDescription": created["Replicas"][0]["ReplicaStatusDescription"],
        }
    ]
    assert created["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    wait_for("the us-west-2 replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    add_replica(home, name, EU)
    wait_for("the eu-west-1 replica", lambda: replica_status(home, name) == {WEST: "ACTIVE", EU: "ACTIVE"})
    return name


def test_replicas_copy_the_items_and_describe_each_other(server: Server, global_table: str) -> None:
    for region in (WEST, EU):
        client = server.client("dynamodb", region)
        described = client.describe_table(TableName=global_table)["Table"]
        assert described["TableStatus"] == "ACTIVE"
        assert described["GlobalTableVersion"] == "2019.11.21"
        others = {HOME, WEST, EU} - {region}
        assert {r["RegionName"] for r in described["Replicas"]} == others
        assert len(items(client, global_table)) == 50


def test_concurrent_writes_in_three_regions_converge(server: Server, global_table: str) -> None:
    clients = {region: server.client("dynamodb", region) for region in (HOME, WEST, EU)}

    def writer(region: str) -> None:
        client = clients[region]
        for i in range(40):
            key = f"same{i % 10}" if i % 2 else f"{region}-{i}"
            client.put_item(
                TableName=global_table, Item={"pk": {"S": key}, "by": {"S": region}, "i": {"N": str(i)}}
            )
            if i % 7 == 0:
                client.delete_item(TableName=global_table, Key={"pk": {"S": f"old{i}"}})

    threads = [threading.Thread(target=writer, args=(region,)) for region in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def converged() -> bool:
        states = [items(client, global_table) for client in clients.values()]
        return states[0] == states[1] == states[2]

    wait_for("the three replicas to converge", converged)
    final = items(clients[HOME], global_table)
    for region in clients:
        assert all(f"{region}-{i}" in final for i in range(0, 40, 2))
    assert all(f"old{i}" not in final for i in range(0, 40, 7))
    assert {key for key in final if key.startswith("same")} == {f"same{i}" for i in (1, 3, 5, 7, 9)}


def test_each_replica_stream_shows_the_replicated_changes(server: Server, global_table: str) -> None:
    west = server.client("dynamodb", WEST)
    west.put_item(TableName=global_table, Item={"pk": {"S": "from-west"}, "v": {"S": "w"}})
    for region in (HOME, EU):

        def arrived(region: str = region) -> bool:
            return any(
                r["dynamodb"]["Keys"]["pk"]["S"] == "from-west" and r["eventName"] == "INSERT"
                for r in stream_records(server, region, global_table)
            )

        wait_for(f"the change in {region}'s stream", arrived)
        record = next(
            r
            for r in stream_records(server, region, global_table)
            if r["dynamodb"]["Keys"]["pk"]["S"] == "from-west"
        )
        assert record["awsRegion"] == region
        assert record["dynamodb"]["NewImage"] == {"pk": {"S": "from-west"}, "v": {"S": "w"}}


def test_deleting_a_replica(server: Server, global_table: str) -> None:
    home = server.client("dynamodb", HOME)
    answer = home.update_table(TableName=global_table, ReplicaUpdates=[{"Delete": {"RegionName": EU}}])
    listed = {r["RegionName"]: r["ReplicaStatus"] for r in answer["TableDescription"]["Replicas"]}
    assert listed == {EU: "DELETING", WEST: "ACTIVE"}
    with pytest.raises(ClientError) as again:  # once is enough
        home.update_table(TableName=global_table, ReplicaUpdates=[{"Delete": {"RegionName": EU}}])
    assert again.value.response["Error"]["Message"] in (
        f"Cannot delete the replica in region {EU} while it is DELETING",
        f"Cannot delete a replica in region {EU}: the table has no replica there",  # it went meanwhile
    )
    eu = server.client("dynamodb", EU)

    def gone() -> bool:
        try:
            eu.describe_table(TableName=global_table)
        except ClientError as err:
            return bool(err.response["Error"]["Code"] == "ResourceNotFoundException")
        return False

    wait_for("the eu-west-1 table to be deleted", gone)
    assert replica_status(home, global_table) == {WEST: "ACTIVE"}
    assert replica_status(server.client("dynamodb", WEST), global_table) == {HOME: "ACTIVE"}
    home.update_table(TableName=global_table, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])
    wait_for("the last replica to go", lambda: replica_status(home, global_table) == {})
    described = home.describe_table(TableName=global_table)["Table"]
    assert "Replicas" not in described and "GlobalTableVersion" not in described


def test_updating_a_replica(server: Server, global_table: str) -> None:
    home = server.client("dynamodb", HOME)
    update = {"RegionName": EU, "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}
    answer = home.update_table(TableName=global_table, ReplicaUpdates=[{"Update": update}])
    listed = {r["RegionName"]: r["ReplicaStatus"] for r in answer["TableDescription"]["Replicas"]}
    assert listed == {EU: "UPDATING", WEST: "ACTIVE"}
    wait_for(
        "the replica ACTIVE again",
        lambda: replica_status(home, global_table) == {EU: "ACTIVE", WEST: "ACTIVE"},
    )
    eu = server.client("dynamodb", EU).describe_table(TableName=global_table)["Table"]
    assert eu["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"


def test_deleting_the_table_while_its_replica_is_deleting(
    server: Server, make_table: Callable[..., str]
) -> None:
    home = server.client("dynamodb", HOME)
    west = server.client("dynamodb", WEST)
    name = make_table()
    add_replica(home, name, WEST)
    wait_for("the replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    home.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])
    home.delete_table(TableName=name)  # at once: the replica asked to go goes too, none is left behind

    def gone(client: Any) -> bool:
        return name not in client.list_tables()["TableNames"]

    wait_for("both tables gone", lambda: gone(home) and gone(west))


def test_ttl_deletes_replicate_as_deletes(server: Server, make_table: Callable[..., str]) -> None:
    home = server.client("dynamodb", HOME)
    west = server.client("dynamodb", WEST)
    name = make_table()
    home.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    add_replica(home, name, WEST)
    wait_for("the replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    expired = str(int(time.time()) - 60)
    home.put_item(TableName=name, Item={"pk": {"S": "gone"}, "exp": {"N": expired}})
    wait_for("the item in us-west-2", lambda: "gone" in items(west, name))
    status, _, body = server.request("POST", "/_headwater/ttl/sweep", b"{}", service="dynamodb")
    assert status == 200, body
    wait_for("the TTL delete in us-west-2", lambda: "gone" not in items(west, name))
    removes = [r for r in stream_records(server, WEST, name) if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"] for r in removes] == [{"pk": {"S": "gone"}}]
    assert removes[0]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def test_deleting_a_replica_in_its_own_region(server: Server, make_table: Callable[..., str]) -> None:
    home = server.client("dynamodb", HOME)
    west = server.client("dynamodb", WEST)
    name = make_table()
    add_replica(home, name, WEST)
    wait_for("the replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    wait_for("the table", lambda: west.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE")
    west.delete_table(TableName=name)
    assert "Replicas" not in home.describe_table(TableName=name)["Table"]
    home.put_item(TableName=name, Item={"pk": {"S": "after"}})
    assert items(home, name) == {"after": {"pk": {"S": "after"}}}


def test_replicas_status_command(server: Server, global_table: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "headwater",
            "replicas",
            "status",
            global_table,
            "--endpoint-url",
            server.endpoint,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    links = json.loads(result.stdout)
    assert {(link["SourceRegion"], link["TargetRegion"]) for link in links} == {
        (source, target) for source in (HOME, WEST, EU) for target in (HOME, WEST, EU) if source != target
    }
    assert all(link["Running"] for link in links)


def link_status(server: Server) -> list[dict[str, Any]]:
    status, _, body = server.request("POST", "/_headwater/replicas/status", b"{}", service="dynamodb")
    assert status == 200, body
    links: list[dict[str, Any]] = json.loads(body)["Links"]
    return links


def holds(server: Server, region: str, table: str, key: str) -> bool:
    return any(r["dynamodb"]["Keys"]["pk"]["S"] == key for r in stream_records(server, region, table))


def test_a_change_is_shipped_by_its_origin_only(server: Server, global_table: str) -> None:
    """A change made in us-east-1 is applied once in each other region, by the link from us-east-1; the
    links from the regions that received it (whose streams hold it too) neither apply nor refuse it."""
    server.client("dynamodb", HOME).put_item(TableName=global_table, Item={"pk": {"S": "once"}})

    def counts() -> dict[tuple[str, str], int]:
        links = [x for x in link_status(server) if x["TableName"] == global_table]
        return {(x["SourceRegion"], x["TargetRegion"]): x["Applied"] + x["Skipped"] for x in links}

    wait_for("the change in both other regions", lambda: counts()[(HOME, WEST)] == counts()[(HOME, EU)] == 1)
    wait_for("us-west-2's stream to hold it", lambda: holds(server, WEST, global_table, "once"))
    wait_for("eu-west-1's stream to hold it", lambda: holds(server, EU, global_table, "once"))
    begun = {x["Link"]: x["Passes"] for x in link_status(server)}
    wait_for(
        "every link to have made a whole pass since",
        lambda: all(x["Passes"] > begun[x["Link"]] + 1 for x in link_status(server)),
    )
    echoes = {link: n for link, n in counts().items() if link[0] != HOME}
    assert echoes == {(WEST, HOME): 0, (WEST, EU): 0, (EU, HOME): 0, (EU, WEST): 0}


def test_aws_cli_adds_a_replica(server: Server, make_table: Callable[..., str]) -> None:
    """`aws dynamodb update-table --replica-updates`, as the console notes do it, then a write seen in
    the other region through the CLI."""
    name = make_table()
    updated = aws(
        server,
        "dynamodb",
        "update-table",
        "--table-name",
        name,
        "--replica-updates",
        f"Create={{RegionName={WEST}}}",
    )
    assert updated["TableDescription"]["Replicas"][0]["RegionName"] == WEST
    home = server.client("dynamodb", HOME)
    wait_for("the replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    aws(server, "dynamodb", "put-item", "--table-name", name, "--item", '{"pk": {"S": "cli"}}')
    west = server.client("dynamodb", WEST)
    wait_for("the item in us-west-2", lambda: "cli" in items(west, name))
    described = aws(server, "--region", WEST, "dynamodb", "describe-table", "--table-name", name)["Table"]
    assert described["GlobalTableVersion"] == "2019.11.21"
    assert described["Replicas"] == [{"RegionName": HOME, "ReplicaStatus": "ACTIVE"}]


def test_a_replica_has_the_indexes_and_keeps_them(server: Server, make_table: Callable[..., str]) -> None:
    name = make_table(
        attribute_definitions=[("city", "S")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-city",
                "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    home = server.client("dynamodb", HOME)
    home.put_item(TableName=name, Item={"pk": {"S": "1"}, "city": {"S": "Oslo"}})
    add_replica(home, name, WEST)
    wait_for("the replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    assert home.describe_table(TableName=name)["Table"]["Replicas"][0]["GlobalSecondaryIndexes"] == [
        {"IndexName": "by-city"}
    ]
    home.put_item(TableName=name, Item={"pk": {"S": "2"}, "city": {"S": "Oslo"}})
    west = server.client("dynamodb", WEST)

    def in_index() -> set[str]:
        page = west.query(
            TableName=name,
            IndexName="by-city",
            KeyConditionExpression="city = :c",
            ExpressionAttributeValues={":c": {"S": "Oslo"}},
        )
        return {item["pk"]["S"] for item in page["Items"]}

    wait_for("both items in the replica's index", lambda: in_index() == {"1", "2"})


def test_an_index_added_to_a_global_table_is_every_replicas(
    server: Server, make_table: Callable[..., str]
) -> None:
    name = make_table()
    home, west = server.client("dynamodb", HOME), server.client("dynamodb", WEST)
    add_replica(home, name, WEST)
    wait_for("the replica", lambda: replica_status(home, name) == {WEST: "ACTIVE"})
    wait_for("the table", lambda: home.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE")
    west.put_item(TableName=name, Item={"pk": {"S": "1"}, "city": {"S": "Oslo"}})
    wait_for("the item in us-east-1", lambda: "1" in items(home, name))
    home.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "city", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-city",
                    "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )

    def index_status(client: Any) -> str | None:
        indexes = client.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", [])
        return str(indexes[0]["IndexStatus"]) if indexes else None

    wait_for("the index in both regions", lambda: index_status(home) == index_status(west) == "ACTIVE")
    for client in (home, west):
        found = client.query(
            TableName=name,
            IndexName="by-city",
            KeyConditionExpression="city = :c",
            ExpressionAttributeValues={":c": {"S": "Oslo"}},
        )["Items"]
        assert [item["pk"]["S"] for item in found] == ["1"], client.meta.region_name
    west.put_item(TableName=name, Item={"pk": {"S": "2"}, "city": {"S": "Oslo"}})

    def in_home_index() -> list[str]:
        page = home.query(
            TableName=name,
            IndexName="by-city",
            KeyConditionExpression="city = :c",
            ExpressionAttributeValues={":c": {"S": "Oslo"}},
        )
        return sorted(item["pk"]["S"] for item in page["Items"])

    wait_for("a replicated write in the index", lambda: in_home_index() == ["1", "2"])


def raw_get_records(server: Server, table: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """GetRecords from TRIM_HORIZON of `table`'s last shard at HOME, with Headwater's own members."""
    streams = server.client("dynamodbstreams", HOME)
    arn = server.client("dynamodb", HOME).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][-1]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    body = json.dumps({"ShardIterator": iterator, **extra}).encode()
    headers = {
        "X-Amz-Target": "DynamoDBStreams_20120810.GetRecords",
        "Content-Type": "application/x-amz-json-1.0",
    }
    status, _, answer = server.request("POST", "/", body, headers=headers, service="dynamodb")
    answered: dict[str, Any] = json.loads(answer)
    return status, answered


def test_stream_records_keep_dynamodbs_shape(server: Server, global_table: str) -> None:
    """The last-writer-wins stamp a global table's records carry is for replication links only: a
    GetRecords answer has DynamoDB's members, unless the request asks for the stamps (Headwater's own
    HeadwaterReplicationStamps member, which the links send)."""
    home = server.client("dynamodb", HOME)
    home.put_item(TableName=global_table, Item={"pk": {"S": "shape"}, "v": {"N": "1"}})

    def raw_records(**extra: Any) -> list[dict[str, Any]]:
        status, answer = raw_get_records(server, global_table, **extra)
        assert status == 200, answer
        records: list[dict[str, Any]] = answer["Records"]
        return [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == "shape"]

    (plain,) = raw_records()
    assert set(plain) == {"awsRegion", "dynamodb", "eventID", "eventName", "eventSource", "eventVersion"}
    (stamped,) = raw_records(HeadwaterReplicationStamps=True)
    assert stamped["replication"]["region"] == HOME
    assert {k: v for k, v in stamped.items() if k != "replication"} == plain


def test_a_link_reads_other_origins_records_as_sequence_numbers(server: Server, global_table: str) -> None:
    """HeadwaterReplicationOrigin (a link's member, with the stamps): records of that origin whole, every
    other record reduced to its sequence number, so a link does not read what it would skip."""
    home = server.client("dynamodb", HOME)
    home.put_item(TableName=global_table, Item={"pk": {"S": "origin"}, "v": {"N": "1"}})
    server.client("dynamodb", EU).put_item(TableName=global_table, Item={"pk": {"S": "eu"}, "v": {"N": "1"}})
    wait_for(
        "the EU write at home",
        lambda: "Item" in home.get_item(TableName=global_table, Key={"pk": {"S": "eu"}}),
    )

    def records(origin: str) -> list[dict[str, Any]]:
        status, answer = raw_get_records(
            server, global_table, HeadwaterReplicationStamps=True, HeadwaterReplicationOrigin=origin
        )
        assert status == 200, answer
        found: list[dict[str, Any]] = answer["Records"]
        return found

    everything = raw_get_records(server, global_table, HeadwaterReplicationStamps=True)[1]["Records"]
    mine = records(HOME)
    assert [r["dynamodb"]["SequenceNumber"] for r in mine] == [
        r["dynamodb"]["SequenceNumber"] for r in everything
    ]
    whole = [r for r in mine if "eventName" in r]
    assert {r["dynamodb"]["Keys"]["pk"]["S"] for r in whole} == {"origin"}
    assert all(r["replication"]["region"] == HOME for r in whole)
    skipped = [r for r in mine if "eventName" not in r]
    assert skipped and all(
        r == {"dynamodb": {"SequenceNumber": r["dynamodb"]["SequenceNumber"]}} for r in skipped
    )
    assert {r["dynamodb"]["Keys"]["pk"]["S"] for r in records(EU) if "eventName" in r} == {"eu"}

    for wrong in (7, "", "x" * 65):
        status, answer = raw_get_records(
            server, global_table, HeadwaterReplicationStamps=True, HeadwaterReplicationOrigin=wrong
        )
        assert status == 400
        assert answer["__type"].endswith("ValidationException")
        assert "HeadwaterReplicationOrigin" in answer["message"]


def test_a_ttl_change_is_every_replicas(server: Server, global_table: str) -> None:
    home = server.client("dynamodb", HOME)
    spec = {"Enabled": True, "AttributeName": "expires"}
    home.update_time_to_live(TableName=global_table, TimeToLiveSpecification=spec)
    for region in (EU, WEST):
        described = server.client("dynamodb", region).describe_time_to_live(TableName=global_table)
        assert described["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": "expires",
        }
    assert replica_status(home, global_table) == {EU: "ACTIVE", WEST: "ACTIVE"}  # same server: at once
