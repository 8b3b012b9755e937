"""The NATS JetStream sink against a real nats-server: every change of the table arrives once per message
id, in order per item, across a restart of nats-server and a kill -9 of Headwater; the CLI and the
config file manage sinks."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.nats_server import NatsServer
from tests.server import Server

SUBJECT = "orders.changes"
HEADWATER = (sys.executable, "-m", "headwater", "sinks")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    folder = tmp_path / "nats"
    folder.mkdir()
    server = NatsServer(folder).start()
    yield server
    server.stop()


def cli(srv: Server, *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "headwater", "sinks", *args, "--endpoint-url", srv.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(out) if out.strip() else None


def table_with_stream(srv: Server, name: str) -> Any:
    ddb = srv.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return ddb


def jetstream_messages(url: str, stream: str) -> list[tuple[str, dict[str, Any]]]:
    """(Nats-Msg-Id, record) of every message the JetStream stream holds, in stream order."""

    async def read() -> list[tuple[str, dict[str, Any]]]:
        import nats
        from nats.js.errors import NotFoundError

        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            js = nc.jetstream()
            try:
                info = await js.stream_info(stream)
            except NotFoundError:
                return []
            out = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                out.append(((msg.headers or {}).get("Nats-Msg-Id", ""), json.loads(msg.data or b"null")))
            return out
        finally:
            await nc.close()

    try:
        return asyncio.run(read())
    except Exception:
        return []  # nats-server down or restarting: the caller waits


def stream_records(srv: Server, table: str) -> list[dict[str, Any]]:
    streams = srv.client("dynamodbstreams")
    arn = srv.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    out: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        it = it["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it)
            out += page["Records"]
            it = page.get("NextShardIterator")
            if not page["Records"]:
                break
    return out


def wait_for(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def writes(srv: Server, table: str, prefix: str, count: int) -> None:
    ddb = srv.client("dynamodb")
    for i in range(count):
        key = f"{prefix}{i % 5}"
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": key}},
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def check_delivery(srv: Server, nats_url: str, table: str, stream: str) -> None:
    """Every stream record is in JetStream exactly once, and each item's records in their order."""
    expected = stream_records(srv, table)
    ids = {r["eventID"] for r in expected}
    got = wait_for(lambda: (m := jetstream_messages(nats_url, stream)) and {i for i, _ in m} >= ids and m)
    assert len(got) == len({i for i, _ in got}), "a message id was stored twice"
    assert all(record["eventID"] == msg_id for msg_id, record in got)
    per_key: dict[str, list[int]] = {}
    for _, record in got:
        image = record["dynamodb"].get("NewImage", {})
        per_key.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], []).append(
            int(image.get("n", {"N": "0"})["N"])
        )
    assert all(values == sorted(values) and len(set(values)) == len(values) for values in per_key.values())


def test_sink_survives_nats_restart_and_headwater_kill9(tmp_server: Any, nats_server: NatsServer) -> None:
    srv = tmp_server("--trigger-poll-interval", "0.05").start()
    table_with_stream(srv, "orders")
    added = cli(
        srv, "add", "orders", "--nats", nats_server.url, "--subject", SUBJECT, "--name", "orders-nats"
    )
    assert added["Subject"] == SUBJECT and added["TableName"] == "orders"
    stream = "headwater_orders-nats"
    writes(srv, "orders", "a", 30)
    check_delivery(srv, nats_server.url, "orders", stream)

    # nats-server goes away while changes keep coming; it comes back on the same store
    nats_server.kill()
    writes(srv, "orders", "b", 30)
    status = wait_for(lambda: (s := cli(srv, "status", "orders-nats")[0]) and s["LastError"] and s)
    assert status["LagSeconds"] >= 0
    nats_server.start()
    check_delivery(srv, nats_server.url, "orders", stream)

    # Headwater is killed during writes: after the restart the sink resumes from its checkpoint
    stop = threading.Event()
    acknowledged = [0]

    def writer() -> None:
        ddb = srv.client("dynamodb")
        i = 0
        while not stop.is_set():
            try:
                ddb.update_item(
                    TableName="orders",
                    Key={"pk": {"S": f"c{i % 5}"}},
                    UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
            except Exception:
                return
            i += 1
            acknowledged[0] = i

    thread = threading.Thread(target=writer)
    thread.start()
    wait_for(lambda: acknowledged[0] >= 50)  # killed while writes are flowing, not at a moment in time
    srv.kill()
    stop.set()
    thread.join(timeout=30)
    srv.start()
    writes(srv, "orders", "d", 10)
    check_delivery(srv, nats_server.url, "orders", stream)
    assert [s["Name"] for s in cli(srv, "list")] == ["orders-nats"]
    cli(srv, "remove", "orders-nats")
    assert cli(srv, "list") == []


def test_sinks_from_config_file_and_errors(tmp_server: Any, tmp_path: Path, nats_server: NatsServer) -> None:
    config = tmp_path / "sinks.json"
    config.write_text(
        json.dumps({"sinks": [{"TableName": "cfg", "Nats": nats_server.url, "Subject": "cfg.changes"}]})
    )
    srv = tmp_server().start()
    table_with_stream(srv, "cfg")
    srv.stop()
    srv = Server(srv.data_dir, ("--sinks-config", str(config)), port=srv.port).start()
    try:
        (sink,) = cli(srv, "list")
        assert (sink["Name"], sink["Subject"]) == ("cfg-cfg.changes", "cfg.changes")
        writes(srv, "cfg", "x", 5)
        check_delivery(srv, nats_server.url, "cfg", "headwater_cfg-cfg_changes")
        bad = subprocess.run(
            [
                *HEADWATER,
                "add",
                "nope",
                "--nats",
                nats_server.url,
                "--subject",
                "x",
                "--endpoint-url",
                srv.endpoint,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert bad.returncode != 0 and "ResourceNotFoundException" in bad.stderr
        srv.client("dynamodb").create_table(
            TableName="plain",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        bad = subprocess.run(
            [
                *HEADWATER,
                "add",
                "plain",
                "--nats",
                nats_server.url,
                "--subject",
                "a.*",
                "--endpoint-url",
                srv.endpoint,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert bad.returncode != 0 and "ValidationException" in bad.stderr
    finally:
        srv.stop()


def test_a_sink_of_a_table_in_another_region(tmp_server: Any, nats_server: NatsServer) -> None:
    """`--region` names the table's region; the sink reads that region's stream."""
    srv = tmp_server("--trigger-poll-interval", "0.05").start()
    ddb2 = srv.client("dynamodb", region="us-east-2")
    ddb2.create_table(
        TableName="eastern",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    added = cli(
        srv, "add", "eastern", "--nats", nats_server.url, "--subject", SUBJECT, "--region", "us-east-2"
    )
    assert added["TableName"] == "arn:aws:dynamodb:us-east-2:000000000000:table/eastern"
    assert added["Name"] == f"eastern-{SUBJECT}"
    ddb2.put_item(TableName="eastern", Item={"pk": {"S": "a"}})
    (message,) = wait_for(lambda: jetstream_messages(nats_server.url, "headwater_eastern-orders_changes"))
    assert message[1]["awsRegion"] == "us-east-2"
    assert message[1]["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
