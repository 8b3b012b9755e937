"""`headwater serve --workers N`: front processes beside the process that writes. The core accepts every
connection; one that only reads moves to a front, and back once it only writes (process/handoff.py),
with the client on the same connection throughout. A client's write is visible to its next read through
any front; a table created through one process is usable through the others at once; the Lambda and
admin routes answer through any front; a front that dies is replaced; `kill -9` of the server takes its
fronts with it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
from pathlib import Path
from typing import Any

from headwater.http.server import MOVE_AFTER
from tests.server import Server
from tests.waiting import wait_until

FRONTS = 2


def call(srv: Server, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One request on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        return on(conn, srv, operation, body)
    finally:
        conn.close()


def on(
    conn: http.client.HTTPConnection, srv: Server, operation: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """One request on `conn`, kept open."""
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Authorization": srv.authorization,
    }
    conn.request("POST", "/", json.dumps(body).encode(), headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


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


def holder(srv: Server, conn: http.client.HTTPConnection) -> int:
    """The pid of the server process (the core or a front) that holds the server's end of `conn`."""
    assert srv.process is not None and conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == srv.port and int(remote.split(":")[1], 16) == client_port:
            inode = fields[9]
    assert inode is not None, "the server's end of the connection is not open"
    for pid in [srv.process.pid, *fronts_of(srv.process.pid)]:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except FileNotFoundError:
                continue
    raise AssertionError("no server process holds the connection")


def _item(i: int) -> dict[str, Any]:
    return {"TableName": "moves", "Item": {"pk": {"S": f"k{i % 5}"}, "n": {"N": str(i)}}}


def _key(i: int) -> dict[str, Any]:
    return {"TableName": "moves", "Key": {"pk": {"S": f"k{i % 5}"}}}


def test_a_connection_that_only_reads_moves_to_a_front_and_back_once_it_only_writes(
    tmp_server: Any,
) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    assert srv.process is not None
    core = srv.process.pid
    create(srv, "moves")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        assert on(conn, srv, "PutItem", _item(0))[0] == 200
        sock = conn.sock
        assert holder(srv, conn) == core
        for _ in range(MOVE_AFTER):
            assert on(conn, srv, "GetItem", _key(0))[1]["Item"]["n"] == {"N": "0"}
        front = holder(srv, conn)
        assert front in fronts_of(core)
        # a write through the front (forwarded to the core) is seen by the next read on the front
        for i in range(1, 6):
            assert on(conn, srv, "PutItem", _item(i))[0] == 200
            assert holder(srv, conn) == front
            assert on(conn, srv, "GetItem", _key(i))[1]["Item"]["n"] == {"N": str(i)}
        for i in range(6, 6 + MOVE_AFTER):
            assert on(conn, srv, "PutItem", _item(i))[0] == 200
        assert holder(srv, conn) == core
        status, got = on(conn, srv, "GetItem", _key(6 + MOVE_AFTER - 1))
        assert status == 200 and got["Item"]["n"] == {"N": str(6 + MOVE_AFTER - 1)}
        assert conn.sock is sock  # one connection throughout: http.client never reconnected
    finally:
        conn.close()


def test_a_connection_mixing_reads_and_writes_stays_in_the_core(tmp_server: Any) -> None:
    srv = tmp_server("--workers", str(FRONTS)).start()
    assert srv.process is not None
    create(srv, "moves")
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        for i in range(3 * MOVE_AFTER):
            assert (
                on(
                    conn,
                    srv,
                    "PutItem" if i % MOVE_AFTER == 0 else "GetItem",
                    _item(i) if i % MOVE_AFTER == 0 else _key(0),
                )[0]
                == 200
            )
        assert holder(srv, conn) == srv.process.pid
    finally:
        conn.close()


def test_pipelined_reads_are_answered_in_order_across_a_move(tmp_server: Any) -> None:
    """Requests sent ahead of their answers: the connection moves only once nothing is read and
    unanswered, so every answer comes, in order, from one process or the other."""
    srv = tmp_server("--workers", str(FRONTS)).start()
    create(srv, "moves")
    for i in range(5):
        assert call(srv, "PutItem", _item(i))[0] == 200
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        reader = sock.makefile("rb")
        for batch in range(3):
            count = 2 * MOVE_AFTER
            requests = b"".join(_raw_get(srv, i % 5) for i in range(count))
            sock.sendall(requests)
            for i in range(count):
                status, body = _read_answer(reader)
                assert status == 200 and body["Item"]["n"] == {"N": str(i % 5)}, (batch, i, body)


def _raw_get(srv: Server, i: int) -> bytes:
    body = json.dumps(_key(i)).encode()
    return (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Target: DynamoDB_20120810.GetItem\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n%s"
        % (srv.authorization.encode(), len(body), body)
    )


def _read_answer(reader: Any) -> tuple[int, dict[str, Any]]:
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, json.loads(reader.read(length))


def test_the_core_keeps_a_share_of_the_connections_that_only_read(tmp_server: Any) -> None:
    """With one front, readers are shared out in turn: one moves, the next stays in the core for good,
    so both processes answer reads."""
    srv = tmp_server("--workers", "1").start()
    assert srv.process is not None
    core = srv.process.pid
    create(srv, "moves")
    assert call(srv, "PutItem", _item(0))[0] == 200
    first = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    second = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        for _ in range(MOVE_AFTER):
            assert on(first, srv, "GetItem", _key(0))[0] == 200
        for _ in range(3 * MOVE_AFTER):
            assert on(second, srv, "GetItem", _key(0))[0] == 200
        assert holder(srv, first) in fronts_of(core)
        assert holder(srv, second) == core
    finally:
        first.close()
        second.close()
