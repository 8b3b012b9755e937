"""Two `--auth sigv4` servers replicating a global table: each signs its calls to the other (the Streams
API, DescribeTable, Scan, the replicas/join and membership calls) with `--peer-credentials`, a key of the
other's credentials file, verified and authorized there like any client's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.e2e.auth_support import ACCOUNT, ADMIN, AuthServer, Identity, allow
from tests.server import Server, free_port

EAST, EU = "us-east-1", "eu-west-1"
# what a peer server needs: read the streams and describe and scan the table, make and change replicas
PEER = allow(
    [
        "dynamodb:DescribeTable",
        "dynamodb:Scan",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeStream",
        "dynamodb:GetShardIterator",
        "dynamodb:GetRecords",
        "headwater:JoinGlobalTable",
        "headwater:UpdateGlobalTableMembership",
        "headwater:UpdateGlobalTableReplicaSettings",
    ]
)


def wait_for(what: str, check: Any, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server, Any]]:
    identities = [Identity("alice", policies=[ADMIN]), Identity("peer", policies=[PEER])]
    east_port, eu_port = free_port(), free_port()
    config = AuthServer(tmp_path, identities)
    config.write_config()
    peer = config.keys["peer"]
    common = ("--auth", "sigv4", "--auth-config", str(config.config_path), "--account-id", ACCOUNT)
    credentials = ("--peer-credentials", f"{peer.id}:{peer.secret}")
    made = []
    for name, region, port, other, other_port in (
        (("east", EAST, east_port, EU, eu_port)),
        ("eu", EU, eu_port, EAST, east_port),
    ):
        (tmp_path / name).mkdir()
        endpoint = ("--region-endpoint", f"{other}=http://127.0.0.1:{other_port}")
        made.append(
            Server(tmp_path / name, (*common, *credentials, "--region", region, *endpoint), port=port)
        )
    for server in made:
        server.start()
    yield made[0], made[1], config.keys["alice"]
    for server in made:
        if server.process is not None:
            server.stop()


def client(server: Server, region: str, key: Any) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key.id,
        aws_secret_access_key=key.secret,
        config=Config(retries={"max_attempts": 2}),
    )


def scan(ddb: Any, table: str) -> dict[str, Any]:
    return {item["pk"]["S"]: item for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_signed_replication_between_two_servers(servers: tuple[Server, Server, Any]) -> None:
    east_server, eu_server, alice = servers
    east, eu = client(east_server, EAST, alice), client(eu_server, EU, alice)
    east.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    east.put_item(TableName="orders", Item={"pk": {"S": "before"}})
    east.update_table(TableName="orders", ReplicaUpdates=[{"Create": {"RegionName": EU}}])

    def active() -> bool:
        replicas = east.describe_table(TableName="orders")["Table"].get("Replicas", [])
        return bool(replicas) and replicas[0]["ReplicaStatus"] == "ACTIVE"

    wait_for("the replica on the other server", active)
    eu.put_item(TableName="orders", Item={"pk": {"S": "from-eu"}})
    east.put_item(TableName="orders", Item={"pk": {"S": "from-east"}})
    wait_for("both servers to converge", lambda: scan(east, "orders") == scan(eu, "orders"))
    assert set(scan(eu, "orders")) == {"before", "from-eu", "from-east"}
