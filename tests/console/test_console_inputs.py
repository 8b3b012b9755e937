"""Whatever a person (or a forged request) puts in the console's forms and addresses is answered with
DynamoDB's error or a plain refusal, never a 500: over plain HTTP, as a browser would send it."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest

from tests.console.browser import ConsoleSession
from tests.e2e.triggers_support import unique
from tests.server import Server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("console-inputs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def table(live: Server) -> str:
    name = unique("inputs")
    live.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return name


def _get(session: ConsoleSession, path: str, **headers: str) -> tuple[int, str]:
    status, _, body = session.request("GET", path, cookie=session.cookie, headers=headers)
    return status, body.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"filter": "pk = :v", "values": '{":v": {"N": 5.5}}'}, "SerializationException"),
        ({"filter": "pk = :v", "values": "[1]"}, "SerializationException"),
        ({"filter": "pk = :v", "values": '{":v": '}, "SerializationException"),
        (
            {"filter": "#a = :v", "names": '{"#a": 5}', "values": '{":v": {"S": "x"}}'},
            "SerializationException",
        ),
        ({"filter": "pk = :v"}, "ValidationException"),
        ({"mode": "query", "key_condition": "pk BETWEEN"}, "ValidationException"),
        ({"index": "nope"}, "ValidationException"),
        ({"limit": "-5"}, "read (ScannedCount)"),
        ({"limit": "many", "start": "garbage!", "order": "sideways"}, "read (ScannedCount)"),
        ({"f_attr": "pk", "f_op": "drop table", "f_value": "x"}, "read (ScannedCount)"),
    ],
)
def test_bad_searches_show_the_apis_error(
    live: Server, table: str, query: dict[str, str], expected: str
) -> None:
    session = ConsoleSession(live)
    status, body = _get(session, f"/console/tables/{table}/items?{urlencode(query)}")
    assert status == 200
    assert expected in body


def test_bad_addresses_and_headers(live: Server, table: str) -> None:
    session = ConsoleSession(live)
    for path in (
        "/console/tables/%ZZ",
        f"/console/tables/{quote('a/b', safe='')}",
        "/console/tables/" + "x" * 300,
        f"/console/tables/{table}/item?key=AAAA",
        "/console/triggers/functions/%00",
        "/console/triggers/mappings/not-a-uuid",
    ):
        status, _ = _get(session, path)
        assert status == 200, path
    for path in ("/console/static/../app.py", "/console/static/nothing.js", "/console/nowhere"):
        status, _ = _get(session, path)
        assert status == 404, path
    # a forged tail position is no position: the tail starts at the stream's end
    status, body = _get(session, f"/console/tables/{table}/stream/events", **{"Last-Event-ID": "e30" * 50})
    assert status == 200
    assert "event: position" in body


def test_bad_posts_are_refused_plainly(live: Server, table: str) -> None:
    session = ConsoleSession(live)
    origin = session.origin
    status, body = session.post(
        f"/console/tables/{table}/item/delete", {"csrf": session.token, "key": "xx"}, Origin=origin
    )
    assert status == 400
    assert b"BadRequest" in body
    status, _ = session.post(
        f"/console/tables/{table}/item",
        {"csrf": session.token, "item": "x" * (1024 * 1024 + 1)},
        Origin=origin,
    )
    assert status == 400
    status, body = session.post(
        f"/console/tables/{table}/item", {"csrf": session.token, "item": '{"pk": {"S": ""}}'}, Origin=origin
    )
    assert status == 400
    assert b"ValidationException" in body
    status, body = session.post(
        f"/console/tables/{table}/settings",
        {"csrf": session.token, "change": "capacity", "billing": "FREE"},
        Origin=origin,
    )
    assert status == 200
    assert b"ValidationException" in body
    status, body = session.post(
        "/console/triggers/mappings",
        {"csrf": session.token, "function": "none", "source": "arn:x"},
        Origin=origin,
    )
    assert status == 200
    assert b"error" in body
    status, _ = session.post(
        "/console/triggers/mappings/none/replay", {"csrf": session.token, "n": "999"}, Origin=origin
    )
    assert status == 200
