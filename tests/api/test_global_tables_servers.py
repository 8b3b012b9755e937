"""A global table across two `headwater serve` processes, each serving one region and told where the
other lives (`--region-endpoint`): replicas made by UpdateTable, changes replicated both ways over HTTP
(the DynamoDB Streams API, signed with `--peer-credentials`), nothing lost across kill -9 of either
server or a partition (one server down while both sides take writes)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_global_tables import items, replica_status, wait_for
from tests.server import Server, free_port

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

    # the eu replica removed from the east server: deleted there, and no longer listed anywhere
    east.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": EU}}])
    assert replica_status(east, name) == {WEST: "ACTIVE"}
    wait_for("us-west-2 to forget eu-west-1", lambda: replica_status(west, name) == {EAST: "ACTIVE"})
    assert name not in eu.list_tables()["TableNames"]
