"""A global table across two `headwater serve` processes, each serving one region and told where the
other lives (`--region-endpoint`): replicas made by UpdateTable, changes replicated both ways over HTTP
(the DynamoDB Streams API, signed with `--peer-credentials`), nothing lost across kill -9 of either
server or a partition (one server down while both sides take writes)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_global_tables import items, replica_status, wait_for
from tests.server import Server, free_port
from tests.tls_support import make_pki

EAST, EU, WEST = "us-east-1", "eu-west-1", "us-west-2"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    east_port, eu_port = free_port(), free_port()
    (tmp_path / "east").mkdir()
    (tmp_path / "eu").mkdir()
    east = Server(
        tmp_path / "east",
        ("--region", EAST, "--region-endpoint", f"{EU}=http://127.0.0.1:{eu_port}"),
        port=east_port,
    )
    eu = Server(
        tmp_path / "eu",
        (
            "--region",
            EU,
            "--region-endpoint",
            f"{EAST}=http://127.0.0.1:{east_port}",
            "--region-endpoint",  # the east server's second region
            f"{WEST}=http://127.0.0.1:{east_port}",
        ),
        port=eu_port,
    )
    east.start()
    eu.start()
    yield east, eu
    for server in (east, eu):
        if server.process is not None:
            server.kill()
        server.close_clients()


def write_many(client: Any, table: str, prefix: str, count: int, same: str = "same") -> None:
    for i in range(count):
        client.put_item(TableName=table, Item={"pk": {"S": f"{prefix}{i}"}, "v": {"N": str(i)}})
        client.put_item(TableName=table, Item={"pk": {"S": f"{same}{i % 5}"}, "by": {"S": prefix}})


def converged(east: Any, eu: Any, table: str) -> bool:
    return items(east, table) == items(eu, table)


def test_two_servers_replicate_both_ways_through_kill_and_partition(pair: tuple[Server, Server]) -> None:
    east_server, eu_server = pair
    east = east_server.client("dynamodb", EAST)
    eu = eu_server.client("dynamodb", EU)
    name = "orders"
    east.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    write_many(east, name, "before", 30)
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    wait_for("the replica on the other server", lambda: replica_status(east, name) == {EU: "ACTIVE"})
    described = eu.describe_table(TableName=name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert [r["RegionName"] for r in described["Replicas"]] == [EAST]
    wait_for("the first copy", lambda: converged(east, eu, name))

    # both sides at once, the same keys too
    threads = [
        threading.Thread(target=write_many, args=(east, name, "east", 40)),
        threading.Thread(target=write_many, args=(eu, name, "eu", 40)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for("both servers to converge", lambda: converged(east, eu, name))

    # kill -9 the eu server while the east one takes writes; it comes back and catches up
    writer = threading.Thread(target=write_many, args=(east, name, "during", 60))
    writer.start()
    eu_server.kill()
    writer.join()
    eu_server.start()
    write_many(eu, name, "eu-after", 10)
    wait_for("convergence after kill -9", lambda: converged(east, eu, name))
    assert {f"during{i}" for i in range(60)} <= set(items(eu, name))

    # a partition: the east server down while the eu one takes writes, then both sides write
    east_server.kill()
    write_many(eu, name, "partitioned", 20)
    east_server.start()
    write_many(east, name, "healed", 20)
    wait_for("convergence after the partition", lambda: converged(east, eu, name))
    final = items(east, name)
    assert {f"partitioned{i}" for i in range(20)} | {f"healed{i}" for i in range(20)} <= set(final)

    # a third region, on the east server: the eu server learns of it and follows it too
    west = east_server.client("dynamodb", WEST)
    east.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": WEST}}])
    wait_for("the us-west-2 replica", lambda: replica_status(east, name) == {EU: "ACTIVE", WEST: "ACTIVE"})
    wait_for("the eu server to know it", lambda: replica_status(eu, name) == {EAST: "ACTIVE", WEST: "ACTIVE"})
    write_many(west, name, "west", 10)
    write_many(eu, name, "eu-last", 10)
    wait_for(
        "three regions on two servers to converge",
        lambda: converged(east, eu, name) and converged(east, west, name),
    )

    # the eu replica removed from the east server while the eu server is down: DELETING until it is
    # back, then deleted there and no longer listed anywhere
    eu_server.kill()
    east.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": EU}}])
    assert replica_status(east, name) == {EU: "DELETING", WEST: "ACTIVE"}
    eu_server.start()
    wait_for("the eu replica gone", lambda: replica_status(east, name) == {WEST: "ACTIVE"})
    wait_for("us-west-2 to forget eu-west-1", lambda: replica_status(west, name) == {EAST: "ACTIVE"})
    wait_for("the eu table deleted", lambda: name not in eu.list_tables()["TableNames"])


def _tls_pair(tmp_path: Path, peer_ca: Path) -> tuple[Server, Server]:
    """Two servers serving HTTPS with one CA's certificates, each trusting `peer_ca` for the other."""
    pki = make_pki(tmp_path / "pki")
    east_port, eu_port = free_port(), free_port()
    tls = ("--tls-cert", str(pki.cert), "--tls-key", str(pki.key), "--peer-ca", str(peer_ca))
    servers = []
    for region, port, other, other_port in ((EAST, east_port, EU, eu_port), (EU, eu_port, EAST, east_port)):
        (tmp_path / region).mkdir()
        args = ("--region", region, "--region-endpoint", f"{other}=https://127.0.0.1:{other_port}", *tls)
        servers.append(Server(tmp_path / region, args, port=port, tls_ca=pki.ca).start())
    return servers[0], servers[1]


def _orders(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_two_servers_replicate_over_https(tmp_path: Path) -> None:
    east_server, eu_server = pair = _tls_pair(tmp_path, tmp_path / "pki" / "ca.pem")
    try:
        east = east_server.client("dynamodb", EAST)
        eu = eu_server.client("dynamodb", EU)
        _orders(east, "secure")
        write_many(east, "secure", "before", 10)
        east.update_table(TableName="secure", ReplicaUpdates=[{"Create": {"RegionName": EU}}])
        wait_for("the replica over https", lambda: replica_status(east, "secure") == {EU: "ACTIVE"})
        write_many(eu, "secure", "eu", 10)
        write_many(east, "secure", "east", 10)
        wait_for("both servers to converge over https", lambda: converged(east, eu, "secure"))
        assert {f"eu{i}" for i in range(10)} | {f"before{i}" for i in range(10)} <= set(items(east, "secure"))
    finally:
        for server in pair:
            server.kill()
            server.close_clients()


def test_a_peer_whose_certificate_is_not_trusted_is_refused(tmp_path: Path) -> None:
    stranger = make_pki(tmp_path / "stranger", name="Another CA")  # signed nothing the servers serve
    east_server, eu_server = pair = _tls_pair(tmp_path, stranger.ca)
    try:
        east = east_server.client("dynamodb", EAST)
        _orders(east, "untrusted")
        with pytest.raises(ClientError) as caught:
            east.update_table(TableName="untrusted", ReplicaUpdates=[{"Create": {"RegionName": EU}}])
        error = caught.value.response["Error"]
        assert error["Code"] == "InternalServerError"
        assert error["Message"].startswith(f"The replica region {EU} answered ConnectionError:")
        assert "CERTIFICATE_VERIFY_FAILED" in error["Message"]
        assert "untrusted" not in eu_server.client("dynamodb", EU).list_tables()["TableNames"]
    finally:
        for server in pair:
            server.kill()
            server.close_clients()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--region-endpoint", "eu-west-1=ftp://127.0.0.1:1"), "expected REGION=http(s)://host:port"),
        (("--peer-ca", "PLAIN"), "holds no PEM certificate"),
    ],
)
def test_serve_refuses_a_bad_peer_setting(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("not a certificate\n")
    argv = [a.replace("PLAIN", str(plain)) for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "headwater", "serve", "--data-dir", str(tmp_path / "d"), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr


def ttl_of(client: Any, table: str) -> str:
    return str(client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"])


def index_status(client: Any, table: str) -> dict[str, str]:
    described = client.describe_table(TableName=table)["Table"]
    return {ix["IndexName"]: ix["IndexStatus"] for ix in described.get("GlobalSecondaryIndexes", [])}


def test_ttl_and_index_changes_reach_the_other_server(pair: tuple[Server, Server]) -> None:
    east_server, eu_server = pair
    east = east_server.client("dynamodb", EAST)
    eu = eu_server.client("dynamodb", EU)
    _orders(east, "settings")
    east.update_table(TableName="settings", ReplicaUpdates=[{"Create": {"RegionName": EU}}])
    wait_for("the replica", lambda: replica_status(east, "settings") == {EU: "ACTIVE"})

    # TTL turned on in us-east-1: the eu replica UPDATING until the other server has it
    east.update_time_to_live(
        TableName="settings", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    assert replica_status(east, "settings") == {EU: "UPDATING"}
    wait_for("TTL on the other server", lambda: ttl_of(eu, "settings") == "ENABLED")
    wait_for("the replica ACTIVE again", lambda: replica_status(east, "settings") == {EU: "ACTIVE"})

    # an index made in eu-west-1 is made in us-east-1 too, filled, and usable there
    east.put_item(TableName="settings", Item={"pk": {"S": "a"}, "colour": {"S": "red"}})
    wait_for("the item in eu-west-1", lambda: "a" in items(eu, "settings"))
    eu.update_table(
        TableName="settings",
        AttributeDefinitions=[{"AttributeName": "colour", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-colour",
                    "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    wait_for("the index in us-east-1", lambda: index_status(east, "settings") == {"by-colour": "ACTIVE"})
    found = east.query(
        TableName="settings",
        IndexName="by-colour",
        KeyConditionExpression="colour = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )["Items"]
    assert [item["pk"]["S"] for item in found] == ["a"]

    # TTL turned off while the eu server is down: pending until it is back, then made there
    eu_server.kill()
    east.update_time_to_live(
        TableName="settings", TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"}
    )
    assert replica_status(east, "settings") == {EU: "UPDATING"}
    east_server.stop()  # the pending change is in the catalog: a restart keeps it
    east_server.start()
    eu_server.start()
    wait_for("TTL off on the other server", lambda: ttl_of(eu, "settings") == "DISABLED")
    wait_for("the replica ACTIVE at last", lambda: replica_status(east, "settings") == {EU: "ACTIVE"})
