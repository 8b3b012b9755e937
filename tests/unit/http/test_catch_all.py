"""The catch-all around every request, in-process: an unexpected exception anywhere in the request
(here: an answer that cannot be encoded, and a failure while the body is read) becomes a logged 500 with
DynamoDB's InternalServerError body, never an exception out of the app (a dropped connection)."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import pytest

from headwater.api.context import Handler, Response
from headwater.clock import FakeClock
from headwater.config import Settings
from headwater.core.database import Database
from headwater.http.app import HeadwaterApp
from headwater.http.asgi import ASGIApp, Message
from headwater.http.catch_all import CatchAll
from headwater.storage.sqlite import SqliteStorage

AUTH = (
    b"AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
)


class BrokenBody(Exception):
    pass


async def unencodable(db: Database, request: dict[str, Any]) -> Response:
    return {"TableNames": [object()]}  # a bug: orjson cannot encode it, outside the handler's own guard


def app(operations: dict[tuple[str, str], Handler]) -> HeadwaterApp:
    return HeadwaterApp(Database(Settings(in_memory=True), SqliteStorage(None), FakeClock()), operations)


def call(asgi: ASGIApp, *, body_error: bool = False) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        if body_error:
            raise BrokenBody("the body could not be read")
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"authorization", AUTH), (b"x-amz-target", b"DynamoDB_20120810.ListTables")],
    }

    async def run() -> None:
        await asgi(scope, receive, send)

    asyncio.run(run())
    return sent


def assert_internal_server_error(sent: list[Message]) -> None:
    start, body = sent
    assert start["status"] == 500
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/x-amz-json-1.0"
    assert int(headers[b"x-amz-crc32"]) == zlib.crc32(body["body"])
    assert len(headers[b"x-amzn-requestid"]) == 52
    assert json.loads(body["body"]) == {
        "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "message": "Internal server error",
    }


def test_an_answer_that_cannot_be_encoded_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    operations: dict[tuple[str, str], Handler] = {("dynamodb", "ListTables"): unencodable}
    with pytest.raises(TypeError):  # what escaped before: the server dropped the request
        call(app(operations))
    assert_internal_server_error(call(CatchAll(app(operations))))
    assert "unexpected error answering POST /" in caplog.text


def test_a_failure_while_reading_the_body_is_a_500() -> None:
    assert_internal_server_error(call(CatchAll(app({})), body_error=True))


def test_a_failure_after_the_response_started_goes_to_the_server() -> None:
    async def started_then_failed(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise BrokenBody("mid-response")

    with pytest.raises(BrokenBody):
        call(CatchAll(started_then_failed))
