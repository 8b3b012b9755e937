"""Two `--auth sigv4` servers replicating a global table: each signs its calls to the other (the Streams
API, DescribeTable, Scan, the replicas/join and membership calls) with `--peer-credentials`, a key of the
other's credentials file, verified and authorized there like any client's."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.e2e.auth_support import ACCOUNT, ADMIN, AuthServer, Identity, Key, allow, denied, user_arn
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
        "headwater:ReadReplicationStamps",  # Scan and GetRecords with HeadwaterReplicationStamps
    ]
)
# a client that may read the table and its stream as any AWS client does, but is not a peer
READER = allow(
    [
        "dynamodb:Scan",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeStream",
        "dynamodb:GetShardIterator",
        "dynamodb:GetRecords",
    ]
)


def wait_for(what: str, check: Any, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server, dict[str, Key]]]:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("peer", policies=[PEER]),
        Identity("reader", policies=[READER]),
    ]
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
    yield made[0], made[1], config.keys
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


def test_signed_replication_between_two_servers(servers: tuple[Server, Server, dict[str, Key]]) -> None:
    east_server, eu_server, keys = servers
    alice = keys["alice"]
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


def signed(server: Server, key: Key, target: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A DynamoDB (or Streams) call signed with `key`, with members boto3 would not send."""
    body = json.dumps(request).encode()
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    aws = AWSRequest("POST", server.endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key.id, key.secret), "dynamodb", EAST).add_auth(aws)
    prepared = urllib.request.Request(
        server.endpoint + "/", data=body, headers=dict(aws.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return int(err.code), json.loads(err.read())


def test_only_a_peer_reads_the_stamps(servers: tuple[Server, Server, dict[str, Key]]) -> None:
    """HeadwaterReplicationStamps (Scan, GetRecords) needs headwater:ReadReplicationStamps: a client
    allowed to scan and read the stream is refused it with AWS's AccessDeniedException, and its plain
    calls answer as before."""
    east_server, _, keys = servers
    east = client(east_server, EAST, keys["alice"])
    east.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    east.put_item(TableName="orders", Item={"pk": {"S": "a"}})
    reader, peer = keys["reader"], keys["peer"]
    table = f"arn:aws:dynamodb:{EAST}:{ACCOUNT}:table/orders"
    refusal = denied(user_arn("reader"), "headwater:ReadReplicationStamps", table)

    scan = {"TableName": "orders", "ConsistentRead": True}
    status, answer = signed(east_server, reader, "DynamoDB_20120810.Scan", scan)
    assert (status, answer) == (200, {"Items": [{"pk": {"S": "a"}}], "Count": 1, "ScannedCount": 1})
    stamped = {**scan, "HeadwaterReplicationStamps": True}
    status, answer = signed(east_server, reader, "DynamoDB_20120810.Scan", stamped)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#AccessDeniedException"
    assert answer["Message"] == refusal
    status, answer = signed(east_server, peer, "DynamoDB_20120810.Scan", stamped)
    assert status == 200 and answer["HeadwaterReplicationStamps"] == [None]  # not a global table

    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=east_server.endpoint,
        region_name=EAST,
        aws_access_key_id=reader.id,
        aws_secret_access_key=reader.secret,
    )
    arn = east.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = {"ShardIterator": iterator["ShardIterator"]}
    status, answer = signed(east_server, reader, "DynamoDBStreams_20120810.GetRecords", records)
    assert status == 200 and len(answer["Records"]) == 1
    records["HeadwaterReplicationStamps"] = True
    status, answer = signed(east_server, reader, "DynamoDBStreams_20120810.GetRecords", records)
    assert status == 400 and answer["Message"] == refusal
