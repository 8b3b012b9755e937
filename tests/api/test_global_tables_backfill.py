"""A new replica on another server is filled with the origin's items AND their last-writer-wins stamps
(a Scan with Headwater's own member HeadwaterReplicationStamps), tombstones included: an older change
that a third region's stream brings later loses there as it lost everywhere else, even once the origin's
stream no longer holds the item's last change. A plain Scan is DynamoDB's, stamps nowhere."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater.http.server import MOVE_AFTER
from tests.api.test_global_tables import items, replica_status, wait_for
from tests.api.test_streams import all_records
from tests.e2e.test_workers import fronts_of, holder, on
from tests.server import Server, free_port

EAST, WEST, EU, AP = "us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"
START = float(int(time.time()))
TABLE = "orders"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """us-east-1 and us-west-2 on one server, keeping their stream records 1 s of its test clock;
    eu-west-1 and ap-southeast-1 on the other. Both on test clocks that stand still unless a test
    moves them."""
    east_port, other_port = free_port(), free_port()
    (tmp_path / "east").mkdir()
    (tmp_path / "other").mkdir()
    elsewhere = f"http://127.0.0.1:{other_port}"
    east = Server(
        tmp_path / "east",
        (
            "--region",
            EAST,
            "--stream-retention",
            "1",
            "--region-endpoint",
            f"{EU}={elsewhere}",
            "--region-endpoint",
            f"{AP}={elsewhere}",
        ),
        port=east_port,
    )
    other = Server(
        tmp_path / "other",
        (
            "--region",
            EU,
            "--region-endpoint",
            f"{EAST}=http://127.0.0.1:{east_port}",
            "--region-endpoint",
            f"{WEST}=http://127.0.0.1:{east_port}",
        ),
        port=other_port,
    )
    for server in (east, other):
        server.env["HEADWATER_TEST_CLOCK"] = str(START)
        server.start()
    yield east, other
    for server in (east, other):
        if server.process is not None:
            server.kill()
        server.close_clients()


def advance(server: Server, seconds: float) -> None:
    body = json.dumps({"Seconds": seconds}).encode()
    status, _, answer = server.request("POST", "/_headwater/clock/advance", body, service="dynamodb")
    assert status == 200, answer


def stream_keys(server: Server, region: str) -> set[str]:
    """The keys of the records `region`'s stream of the table still holds."""
    arn = server.client("dynamodb", region).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    records = all_records(server.client("dynamodbstreams", region), arn)
    return {record["dynamodb"]["Keys"]["pk"]["S"] for record in records}


def trimmed_keys(server: Server, region: str) -> set[str]:
    """`stream_keys` while retention trims the stream: an iterator taken just before a trim points at
    trimmed records (TrimmedDataAccessException, as on AWS); then the keys are not known yet."""
    try:
        return stream_keys(server, region)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TrimmedDataAccessException":
            raise
        return {"x", "y"}


def link(server: Server, source: str, target: str) -> dict[str, Any]:
    status, _, body = server.request(
        "POST", "/_headwater/replicas/status", json.dumps({"TableName": TABLE}).encode(), service="dynamodb"
    )
    assert status == 200, body
    found = [
        entry
        for entry in json.loads(body)["Links"]
        if entry["SourceRegion"] == source and entry["TargetRegion"] == target
    ]
    return found[0] if found else {}


def raw_scan(server: Server, region: str, **request: Any) -> tuple[int, dict[str, Any]]:
    """A Scan as any signed client sends it, with members boto3 would not send."""
    headers = {"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"}
    server.access_key = "test"
    body = json.dumps({"TableName": TABLE, **request}).encode()
    status, _, answer = server.request("POST", "/", body, headers=headers, service="dynamodb")
    answered: dict[str, Any] = json.loads(answer)
    return status, answered


def create(client: Any) -> None:
    """The tests' table: a string partition key, on demand."""
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def pk(name: str) -> dict[str, Any]:
    return {"pk": {"S": name}}


@pytest.mark.parametrize("new", [EU, WEST], ids=["on-another-server", "on-the-origins-server"])
def test_an_older_change_loses_in_a_new_replica_after_the_origins_stream_is_trimmed(
    servers: tuple[Server, Server], new: str
) -> None:
    """x's last change (us-east-1's put) and y's (us-east-1's delete) are no longer in us-east-1's
    stream, older changes of both still are in ap-southeast-1's: a new replica copied from us-east-1
    (Scan with stamps from another server, ReplicaCopyOp on the same one) keeps x and y as they are."""
    east_server, other = servers
    new_server = other if new == EU else east_server
    east, ap = east_server.client("dynamodb", EAST), other.client("dynamodb", AP)
    create(east)
    east.put_item(TableName=TABLE, Item={**pk("before"), "v": {"S": "pre-global"}})
    east.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": AP}}])
    wait_for("the ap-southeast-1 replica", lambda: replica_status(east, TABLE) == {AP: "ACTIVE"})

    # ap-southeast-1 writes x and y first (stamped START on its server's clock); us-east-1 then
    # replaces x and deletes y a second later on its own
    ap.put_item(TableName=TABLE, Item={**pk("x"), "v": {"S": "older"}})
    ap.put_item(TableName=TABLE, Item={**pk("y"), "v": {"S": "older"}})
    wait_for("ap's writes in us-east-1", lambda: {"x", "y"} <= set(items(east, TABLE)))
    advance(east_server, 1)
    east.put_item(TableName=TABLE, Item={**pk("x"), "v": {"S": "later"}})
    east.delete_item(TableName=TABLE, Key=pk("y"))
    wait_for("us-east-1's changes in ap", lambda: items(ap, TABLE) == items(east, TABLE))

    # us-east-1's stream passes its retention: it no longer holds x's and y's last changes, while
    # ap-southeast-1's stream (the other server's clock stands still) still holds its older ones
    advance(east_server, 10)
    wait_for("us-east-1's stream trimmed", lambda: not {"x", "y"} & trimmed_keys(east_server, EAST))
    assert {"x", "y"} <= stream_keys(other, AP)

    # a new replica: copied from us-east-1, and it follows ap-southeast-1's stream from its trim
    # horizon, where the older changes are
    east.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": new}}])
    wait_for("the new replica", lambda: replica_status(east, TABLE) == {AP: "ACTIVE", new: "ACTIVE"})
    wait_for(
        "the link from ap-southeast-1 to read its stream",
        lambda: (
            (entry := link(new_server, AP, new)).get("Applied", 0) + entry.get("Skipped", 0) >= 2
            and entry["CaughtUp"]
        ),
    )
    final = items(east, TABLE)
    assert final == {
        "before": {**pk("before"), "v": {"S": "pre-global"}},
        "x": {**pk("x"), "v": {"S": "later"}},
    }
    assert items(ap, TABLE) == final
    assert items(new_server.client("dynamodb", new), TABLE) == final


def test_a_scan_shows_stamps_only_to_who_asks(servers: tuple[Server, Server]) -> None:
    """boto3's Scan of a global table answers DynamoDB's members only; with HeadwaterReplicationStamps
    it gives each item's stamp and the deleted items' tombstones, in pages bounded by Limit."""
    east_server, _ = servers
    east = east_server.client("dynamodb", EAST)
    create(east)
    east.put_item(TableName=TABLE, Item=pk("before"))
    east.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": AP}}])
    wait_for("the ap-southeast-1 replica", lambda: replica_status(east, TABLE) == {AP: "ACTIVE"})
    for i in range(5):
        east.put_item(TableName=TABLE, Item=pk(f"k{i}"))
    for i in range(3):
        east.delete_item(TableName=TABLE, Key=pk(f"k{i}"))

    plain = east.scan(TableName=TABLE)
    assert set(plain) == {"Items", "Count", "ScannedCount", "ResponseMetadata"}
    status, raw = raw_scan(east_server, EAST)
    assert status == 200 and set(raw) == {"Items", "Count", "ScannedCount"}
    assert not [name for name in raw if name.startswith("Headwater")]

    stamped: dict[str, Any] = {}
    tombstones: dict[str, Any] = {}
    request: dict[str, Any] = {"HeadwaterReplicationStamps": True, "Limit": 2}
    pages = 0
    while True:
        status, page = raw_scan(east_server, EAST, **request)
        assert status == 200, page
        pages += 1
        assert len(page["Items"]) + len(page["HeadwaterReplicationTombstones"]) <= 2
        for item, stamp in zip(page["Items"], page["HeadwaterReplicationStamps"], strict=True):
            stamped[item["pk"]["S"]] = stamp
        for tombstone in page["HeadwaterReplicationTombstones"]:
            tombstones[tombstone["Keys"]["pk"]["S"]] = tombstone["replication"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert pages >= 3
    assert set(stamped) == {"before", "k3", "k4"} and set(tombstones) == {"k0", "k1", "k2"}
    assert stamped["before"] is None  # written before the table was global
    for stamp in [stamped["k3"], stamped["k4"], *tombstones.values()]:
        assert stamp["region"] == EAST and START <= stamp["writeTime"] < START + 1  # the clock stood still


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"HeadwaterReplicationStamps": "yes"}, "HeadwaterReplicationStamps must be true"),
        (
            {"HeadwaterReplicationStamps": True, "FilterExpression": "attribute_exists(pk)"},
            "HeadwaterReplicationStamps reads whole items of the whole table: it cannot be used with "
            "FilterExpression",
        ),
        (
            {"HeadwaterReplicationStamps": True, "Segment": 0, "TotalSegments": 2},
            "HeadwaterReplicationStamps reads whole items of the whole table: it cannot be used with "
            "Segment, TotalSegments",
        ),
    ],
)
def test_a_stamped_scan_refuses_what_it_cannot_do(
    servers: tuple[Server, Server], extra: dict[str, Any], message: str
) -> None:
    east_server, _ = servers
    create(east_server.client("dynamodb", EAST))
    status, answer = raw_scan(east_server, EAST, **extra)
    assert status == 400
    assert answer["__type"].endswith("#ValidationException")
    assert answer["message"] == message


def test_front_processes_answer_a_stamped_scan(tmp_server: Callable[..., Server]) -> None:
    """With --workers 2 a front answers Scan on its read connections: the stamped Scan is one read too
    (no writer), so whichever process answers, the stamps are there (here the core, then a front)."""
    srv = tmp_server("--workers", "2").start()
    east = srv.client("dynamodb", EAST)
    create(east)
    east.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    wait_for("the eu-west-1 replica", lambda: replica_status(east, TABLE) == {EU: "ACTIVE"})
    east.put_item(TableName=TABLE, Item=pk("a"))
    east.put_item(TableName=TABLE, Item=pk("b"))
    east.delete_item(TableName=TABLE, Key=pk("b"))  # b's tombstone
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        for i in range(MOVE_AFTER + 3):  # a connection that only reads moves to a front on the way
            stamped = {"HeadwaterReplicationStamps": True} if i % 2 else {}
            status, page = on(conn, srv, "Scan", {"TableName": TABLE, **stamped})
            assert status == 200, page
            assert page["Items"] == [pk("a")]
            if stamped:
                assert [stamp["region"] for stamp in page["HeadwaterReplicationStamps"]] == [EAST]
                assert [t["Keys"] for t in page["HeadwaterReplicationTombstones"]] == [pk("b")]
        assert srv.process is not None and holder(srv, conn) in fronts_of(srv.process.pid)
    finally:
        conn.close()


def test_a_stamped_scan_page_ends_after_a_megabyte(tmp_server: Callable[..., Server]) -> None:
    """Like a Scan's, a stamped Scan's page ends once 1 MB of items is read, Limit or not."""
    srv = tmp_server().start()
    east = srv.client("dynamodb", EAST)
    create(east)
    for i in range(4):
        east.put_item(TableName=TABLE, Item={**pk(f"big{i}"), "v": {"S": "x" * 350_000}})
    seen: list[int] = []
    request: dict[str, Any] = {"HeadwaterReplicationStamps": True, "Limit": 100}
    while True:
        status, page = raw_scan(srv, EAST, **request)
        assert status == 200
        seen.append(len(page["Items"]))
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == [3, 1]
