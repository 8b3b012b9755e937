"""Nothing escapes a request: an unexpected exception anywhere (an answer that cannot be encoded, a
failure while carrying out or routing a call) becomes a logged 500 with DynamoDB's InternalServerError
body, never an exception out of the app (a dropped connection)."""

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
from headwater.core.namespace import Namespace
from headwater.http import messages, server
from headwater.http.app import HeadwaterApp
from headwater.http.calls import LocalCalls
from headwater.storage.sqlite import SqliteStorage

AUTH = (
    b"AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
)


async def unencodable(db: Database, request: dict[str, Any]) -> Response:
    return {"TableNames": [object()]}  # a bug: orjson cannot encode it


class BrokenCalls:
    async def run(
        self, namespace: Namespace, service: str, operation: str, request: dict[str, Any], body: bytes
    ) -> tuple[int, bytes]:
        raise RuntimeError("a bug below the app")


def app_with(operations: dict[tuple[str, str], Handler]) -> HeadwaterApp:
    db = Database(Settings(in_memory=True), SqliteStorage(None), FakeClock())
    return HeadwaterApp(LocalCalls(db, operations), None, b"healthy", Namespace("000000000000", "us-east-1"))


def call(app: HeadwaterApp) -> messages.Response:
    request = messages.Request(
        "POST",
        "/",
        b"",
        {b"authorization": AUTH, b"x-amz-target": b"DynamoDB_20120810.ListTables"},
        [],
        b"{}",
        "127.0.0.1",
    )
    return asyncio.run(server.call(app, request))


def assert_internal_server_error(response: messages.Response) -> None:
    assert response.status == 500
    headers = dict(response.headers)
    assert headers[b"content-type"] == b"application/x-amz-json-1.0"
    assert int(headers[b"x-amz-crc32"]) == zlib.crc32(response.body)
    assert len(headers[b"x-amzn-requestid"]) == 52
    assert json.loads(response.body) == {
        "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "message": "Internal server error",
    }


def test_an_answer_that_cannot_be_encoded_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    assert_internal_server_error(call(app_with({("dynamodb", "ListTables"): unencodable})))
    assert "ListTables failed" in caplog.text


def test_a_failure_below_the_app_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    app = HeadwaterApp(BrokenCalls(), None, b"healthy", Namespace("000000000000", "us-east-1"))
    assert_internal_server_error(call(app))
    assert "unexpected error answering POST /" in caplog.text
