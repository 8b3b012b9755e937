"""A global table on PostgreSQL (`--storage-url`): the stamp rows live under a negative table id that
PostgreSQL's integer column holds, replicas converge, and deleting the table drops its stamps."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from tests.api.test_global_tables import HOME, WEST, add_replica, items, replica_status, wait_for
from tests.postgres_server import PostgresServer
from tests.server import Server


def test_replicas_converge_on_postgres(
    postgres_server: PostgresServer, tmp_server: Callable[..., Server]
) -> None:
    url = postgres_server.create_database()
    server = tmp_server("--storage-url", url).start()
    home, west = server.client("dynamodb", HOME), server.client("dynamodb", WEST)
    home.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(20):
        home.put_item(TableName="orders", Item={"pk": {"S": f"k{i}"}})
    add_replica(home, "orders", WEST)
    wait_for("the replica", lambda: replica_status(home, "orders") == {WEST: "ACTIVE"})

    def write(client: Any, tag: str) -> None:
        for i in range(20):
            client.put_item(TableName="orders", Item={"pk": {"S": f"k{i}"}, "by": {"S": tag}})

    threads = [threading.Thread(target=write, args=(c, t)) for c, t in ((home, "home"), (west, "west"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for("convergence", lambda: items(home, "orders") == items(west, "orders"))
    with psycopg.connect(url) as conn:
        stamps = conn.execute("SELECT count(*) FROM items WHERE table_id < -1073741824").fetchone()
    assert stamps is not None and stamps[0] == 40  # one per item per replica
    home.update_table(TableName="orders", ReplicaUpdates=[{"Delete": {"RegionName": WEST}}])
    home.delete_table(TableName="orders")
    wait_for("the replica gone", lambda: "orders" not in west.list_tables()["TableNames"])
    with psycopg.connect(url) as conn:
        stamps = conn.execute("SELECT count(*) FROM items WHERE table_id < -1073741824").fetchone()
    assert stamps is not None and stamps[0] == 0


def test_a_stamped_scan_on_postgres(
    postgres_server: PostgresServer, tmp_server: Callable[..., Server]
) -> None:
    """The backfill's read for another server (a Scan with HeadwaterReplicationStamps: items with their
    stamps and the tombstones, one statement a page) on PostgreSQL, paged by Limit."""
    server = tmp_server("--storage-url", postgres_server.create_database()).start()
    home = server.client("dynamodb", HOME)
    home.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    home.put_item(TableName="orders", Item={"pk": {"S": "before"}})
    add_replica(home, "orders", WEST)
    wait_for("the replica", lambda: replica_status(home, "orders") == {WEST: "ACTIVE"})
    for i in range(6):
        home.put_item(TableName="orders", Item={"pk": {"S": f"k{i}"}})
    for i in range(3):
        home.delete_item(TableName="orders", Key={"pk": {"S": f"k{i}"}})
    stamps: dict[str, Any] = {}
    tombstones: set[str] = set()
    request: dict[str, Any] = {"TableName": "orders", "HeadwaterReplicationStamps": True, "Limit": 2}
    headers = {"X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0"}
    while True:
        status, _, body = server.request(
            "POST", "/", json.dumps(request).encode(), headers=headers, service="dynamodb"
        )
        assert status == 200, body
        page = json.loads(body)
        for item, stamp in zip(page["Items"], page["HeadwaterReplicationStamps"], strict=True):
            stamps[item["pk"]["S"]] = stamp
        tombstones |= {t["Keys"]["pk"]["S"] for t in page["HeadwaterReplicationTombstones"]}
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert tombstones == {"k0", "k1", "k2"}
    assert set(stamps) == {"before", "k3", "k4", "k5"} and stamps["before"] is None
    assert all(stamps[f"k{i}"]["region"] == HOME for i in range(3, 6))
