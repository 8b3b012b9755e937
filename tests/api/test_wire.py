"""The HTTP/JSON protocol itself, with raw requests: headers, errors, compression, limits."""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from typing import Any

import pytest

from tests.server import Server

AUTH = (
    "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
)


def raw(
    server: Server,
    body: bytes,
    *,
    target: str | None = "DynamoDB_20120810.ListTables",
    auth: bool = True,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    all_headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        all_headers["X-Amz-Target"] = target
    if auth:
        all_headers["Authorization"] = server.authorization
    all_headers.update(headers or {})
    conn.request(method, "/", body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.mark.headwater_only  # GET / is Headwater's health check
def test_health_check(server: Server) -> None:
    status, _, body = raw(server, b"", method="GET", auth=False)
    assert status == 200
    assert body.decode().startswith(f"healthy: 127.0.0.1:{server.port}")


def test_response_headers(server: Server) -> None:
    status, headers, body = raw(server, b"{}")
    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.0"
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))
    assert len(headers["x-amzn-requestid"]) == 52


def test_missing_authorization(server: Server) -> None:
    status, _, body = raw(server, b"{}", auth=False)
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token",
    }


@pytest.mark.parametrize("target", [None, "DynamoDB_20120810.Nope", "Foo.ListTables", "DynamoDB_20120810"])
def test_unknown_operation(server: Server, target: str | None) -> None:
    status, _, body = raw(server, b"{}", target=target)
    assert status == 400
    assert json.loads(body) == {"__type": "com.amazon.coral.service#UnknownOperationException"}


@pytest.mark.parametrize("body", [b"{", b"[]", b"nonsense", b'"text"'])
def test_bad_json(server: Server, body: bytes) -> None:
    status, _, data = raw(server, body)
    assert status == 400
    assert json.loads(data) == {"__type": "com.amazon.coral.service#SerializationException"}


def test_wrong_json_type(server: Server) -> None:
    status, _, data = raw(server, b'{"TableName": 5}', target="DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert json.loads(data) == {
        "__type": "com.amazon.coral.service#SerializationException",
        "Message": "NUMBER_VALUE cannot be converted to String",
    }


def test_validation_message(server: Server) -> None:
    status, _, data = raw(server, b"{}", target="DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert json.loads(data) == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null",
    }


@pytest.mark.headwater_only  # compressed request bodies are a Headwater extension
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_request(server: Server, encoding: str) -> None:
    payload = json.dumps({"Limit": 1}).encode()
    body = gzip.compress(payload) if encoding == "gzip" else zlib.compress(payload)
    status, _, data = raw(server, body, headers={"Content-Encoding": encoding})
    assert status == 200
    assert "TableNames" in json.loads(data)


@pytest.mark.headwater_only  # Headwater's own request bound
def test_request_too_large(server: Server) -> None:
    body = b'{"TableName": "' + b"x" * (16 * 1024 * 1024) + b'"}'
    status, _, data = raw(server, body, target="DynamoDB_20120810.DescribeTable")
    assert status == 413
    assert json.loads(data)["__type"].endswith("RequestEntityTooLarge")


@pytest.mark.headwater_only  # Headwater's robustness (DynamoDB Local answers 500 to some)
def test_no_500_on_random_bodies(server: Server) -> None:
    """A few hostile shapes: the server answers 400s, never 500 or a dropped connection."""
    bodies: list[Any] = [
        {"TableName": "t", "Item": {"a": {"S": {"nested": 1}}}},
        {"TableName": "t", "Key": []},
        {"TableName": None},
        {"TableName": "t" * 300},
        {"TableName": "abc", "Item": {"pk": {}}},
    ]
    for body in bodies:
        for op in ("PutItem", "GetItem", "DeleteItem", "UpdateItem", "CreateTable"):
            status, _, data = raw(server, json.dumps(body).encode(), target=f"DynamoDB_20120810.{op}")
            assert status == 400, (op, body, data)
