"""The `headwater` commands and admin routes that name a table take its region (`--region`, `Region`),
the server's own `--region` when none is given."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.server import Server

HEADWATER = str(Path(sys.executable).with_name("headwater"))


def headwater(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HEADWATER, *args, "--endpoint-url", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stream_table(ddb: Any, name: str) -> str:
    created = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    return str(created["TableDescription"]["LatestStreamArn"])


def test_rollover_takes_the_tables_region(server: Server, table_name: str) -> None:
    ddb2, streams2 = (
        server.client("dynamodb", region="us-east-2"),
        server.client("dynamodbstreams", region="us-east-2"),
    )
    arn = stream_table(ddb2, table_name)
    try:
        missing = headwater(server, "admin", "rollover", table_name)
        assert missing.returncode != 0
        assert "ResourceNotFoundException" in missing.stderr
        rolled = headwater(server, "admin", "rollover", table_name, "--region", "us-east-2")
        assert rolled.returncode == 0, rolled.stderr
        assert len(streams2.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]) == 2
    finally:
        ddb2.delete_table(TableName=table_name)


def test_commands_default_to_the_servers_region(tmp_server: Callable[..., Server]) -> None:
    srv = tmp_server("--region", "eu-west-1").start()
    ddb = srv.client("dynamodb", region="eu-west-1")
    stream_table(ddb, "westward")
    ddb.put_item(TableName="westward", Item={"pk": {"S": "a"}})
    tail = ["streams", "tail", "westward", "--from", "trim-horizon", "--exit-when-idle", "--json"]
    found = headwater(srv, *tail)
    assert found.returncode == 0, found.stderr
    assert '"pk"' in found.stdout
    elsewhere = headwater(srv, *tail, "--region", "us-east-1")
    assert elsewhere.returncode != 0
    assert "ResourceNotFoundException" in elsewhere.stderr
    assert headwater(srv, "admin", "rollover", "westward").returncode == 0
