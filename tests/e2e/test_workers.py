"""`headwater serve --workers N`: front processes on one port (SO_REUSEPORT) beside the process that
writes. A client's write is visible to its next read through any front; a table created through one
front is usable through the others at once; the Lambda and admin routes answer through any front; a
front that dies is replaced; `kill -9` of the server takes its fronts with it."""

from __future__ import annotations

import http.client
import json
import os
import signal
from pathlib import Path
from typing import Any

from tests.server import Server
from tests.waiting import wait_until

FRONTS = 2


def call(srv: Server, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One request on a connection of its own: the kernel picks the front (a new connection each time)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": srv.authorization,
        }
        conn.request("POST", "/", json.dumps(body).encode(), headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def create(srv: Server, name: str) -> None:
    status, body = call(
        srv,
        "CreateTable",
        {
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    assert status == 200, body


def fronts_of(pid: int) -> list[int]:
    """The server's front processes that are alive (a child that just ended, or is still between fork and
    exec, is not one)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        if b"headwater.process.front" in cmdline and state != "Z":
            found.append(int(child))
    return found


def test_a_write_is_visible_to_the_next_read_through_any_front(tmp_server: Any) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    assert srv.process is not None and len(fronts_of(srv.process.pid)) == FRONTS
    create(srv, "ryw")
    for i in range(150):
        item = {"pk": {"S": f"k{i % 10}"}, "n": {"N": str(i)}}
        assert call(srv, "PutItem", {"TableName": "ryw", "Item": item})[0] == 200
        status, got = call(srv, "GetItem", {"TableName": "ryw", "Key": {"pk": {"S": f"k{i % 10}"}}})
        assert status == 200 and got["Item"]["n"] == {"N": str(i)}, (i, got)
        status, page = call(srv, "Query", _query(f"k{i % 10}"))
        assert page["Items"][0]["n"] == {"N": str(i)}, (i, page)


def _query(pk: str) -> dict[str, Any]:
    return {
        "TableName": "ryw",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": pk}},
    }


def test_a_table_created_through_one_front_is_usable_through_all(tmp_server: Any) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    for i in range(12):
        name = f"fresh_{i}"
        create(srv, name)
        status, body = call(srv, "PutItem", {"TableName": name, "Item": {"pk": {"S": "a"}}})
        assert status == 200, (name, body)
        status, described = call(srv, "DescribeTable", {"TableName": name})
        assert described["Table"]["TableStatus"] == "ACTIVE"
        assert call(srv, "DeleteTable", {"TableName": name})[0] == 200
        status, gone = call(srv, "DescribeTable", {"TableName": name})
        assert status == 400 and gone["__type"].endswith("ResourceNotFoundException"), (name, gone)


def test_streams_lambda_and_admin_routes_answer_through_the_fronts(tmp_server: Any) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    create(srv, "routes")
    assert call(srv, "PutItem", {"TableName": "routes", "Item": {"pk": {"S": "a"}}})[0] == 200
    streams = srv.client("dynamodbstreams")
    arn = streams.list_streams(TableName="routes")["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert srv.client("lambda").list_functions()["Functions"] == []
    body = json.dumps({"TableName": "routes"}).encode()
    assert srv.request("POST", "/_headwater/streams/rollover", body, service="dynamodb")[0] == 200
    assert len(streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]) == 2


def test_a_front_that_dies_is_replaced(tmp_server: Any) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    assert srv.process is not None
    victim = fronts_of(srv.process.pid)[0]
    os.kill(victim, signal.SIGKILL)
    pid = srv.process.pid
    wait_until(lambda: victim not in fronts_of(pid) and len(fronts_of(pid)) == FRONTS, what="a new front")
    create(srv, "after")
    for _ in range(20):  # every front answers
        assert call(srv, "PutItem", {"TableName": "after", "Item": {"pk": {"S": "a"}}})[0] == 200


def test_kill_9_of_the_server_takes_its_fronts_and_port_with_it(tmp_server: Any) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    assert srv.process is not None
    fronts = fronts_of(srv.process.pid)
    srv.kill()
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in fronts), what="the fronts to die")
    srv.start()  # the same port, free again
    create(srv, "again")
