"""The HTTP/JSON protocol itself, with raw requests: headers, errors, compression, limits."""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from collections.abc import Callable
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
    path: str = "/",
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    all_headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        all_headers["X-Amz-Target"] = target
    if auth:
        all_headers["Authorization"] = server.authorization
    all_headers.update(headers or {})
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.mark.headwater_only  # GET / is Headwater's health check
def test_health_check(server: Server) -> None:
    status, _, body = raw(server, b"", method="GET", auth=False)
    assert status == 200
    assert body.decode().startswith(f"healthy: 127.0.0.1:{server.port}")


@pytest.mark.differs_from_dynamodb_local("a 36-character request id, Server: Jetty")
def test_response_headers(server: Server) -> None:
    status, headers, body = raw(server, b"{}")
    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.0"
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))
    assert len(headers["x-amzn-requestid"]) == 52
    assert headers["server"] == "Server"  # what DynamoDB sends
    assert "content-encoding" not in headers


@pytest.mark.differs_from_dynamodb_local("'#MissingAuthenticationToken', no 'Exception'")
def test_only_get_slash_is_the_health_check(server: Server) -> None:
    """Any other path or method is an API call, as DynamoDB Local answers it: unsigned, it is refused."""
    for method, path in (
        ("GET", "/foo"),
        ("GET", "/shell"),
        ("PUT", "/"),
        ("DELETE", "/x"),
        ("OPTIONS", "/"),
    ):
        status, headers, body = raw(server, b"", target=None, auth=False, method=method, path=path)
        assert status == 400, (method, path)
        assert json.loads(body)["__type"].endswith("#MissingAuthenticationTokenException")
        assert headers["server"] == "Server"
    status, _, body = raw(server, b"{}", method="GET", path="/foo")
    assert status == 200 and "TableNames" in json.loads(body)
    status, headers, body = raw(server, b"", method="HEAD", auth=False)
    assert status == 200 and body == b"" and headers["server"] == "Server"


@pytest.mark.differs_from_dynamodb_local("its own type and text for a request without authorization")
def test_missing_authorization(server: Server) -> None:
    status, _, body = raw(server, b"{}", auth=False)
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token",
    }


@pytest.mark.parametrize("target", [None, "DynamoDB_20120810.Nope", "Foo.ListTables", "DynamoDB_20120810"])
@pytest.mark.differs_from_dynamodb_local("500s and DynamoDB types for unknown targets")
def test_unknown_operation(server: Server, target: str | None) -> None:
    status, _, body = raw(server, b"{}", target=target)
    assert status == 400
    assert json.loads(body) == {"__type": "com.amazon.coral.service#UnknownOperationException"}


@pytest.mark.parametrize("body", [b"{", b"[]", b"nonsense", b'"text"'])
@pytest.mark.differs_from_dynamodb_local("500 InternalFailure for a body that is not a JSON object")
def test_bad_json(server: Server, body: bytes) -> None:
    status, _, data = raw(server, body)
    assert status == 400
    assert json.loads(data) == {"__type": "com.amazon.coral.service#SerializationException"}


@pytest.mark.differs_from_dynamodb_local("a wrong JSON type is taken for its string form")
def test_wrong_json_type(server: Server) -> None:
    status, _, data = raw(server, b'{"TableName": 5}', target="DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert json.loads(data) == {
        "__type": "com.amazon.coral.service#SerializationException",
        "Message": "NUMBER_VALUE cannot be converted to String",
    }


@pytest.mark.differs_from_dynamodb_local("'Message', without the '1 validation error detected' envelope")
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


@pytest.mark.differs_from_dynamodb_local("500 InternalFailure for a body nested too deeply")
def test_a_body_nested_100000_deep_is_a_serialization_error(server: Server) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"TableName": "t", "Key": ' + b"[" * 100_000 + b"}"):
        status, _, data = raw(server, body, target="DynamoDB_20120810.GetItem")
        assert status == 400
        assert json.loads(data) == {"__type": "com.amazon.coral.service#SerializationException"}


def test_a_hundred_thousand_expression_attribute_names_are_a_validation_error(
    server: Server, make_table: Callable[..., str]
) -> None:
    """1.3 MB of names, one of them used: refused as unused (every other one), not worked through."""
    names = {f"#n{i}": f"a{i}" for i in range(100_000)}
    body = {
        "TableName": make_table(),
        "Key": {"pk": {"S": "x"}},
        "ProjectionExpression": "#n0",
        "ExpressionAttributeNames": names,
    }
    status, _, data = raw(server, json.dumps(body).encode(), target="DynamoDB_20120810.GetItem")
    assert status == 400
    error = json.loads(data)
    assert error["__type"] == "com.amazon.coral.validate#ValidationException"
    message = error.get("message") or error["Message"]  # DynamoDB Local's capital M
    assert message.startswith("Value provided in ExpressionAttributeNames unused in expressions: keys: {#n")


ORIGIN = {"Origin": "http://localhost:3000"}
EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"
CORS = (
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
)


@pytest.mark.differs_from_dynamodb_local("no CORS")
def test_cors_preflight_as_dynamodb_answers_it(server: Server) -> None:
    asked = "content-type,x-amz-target,x-amz-date,authorization,amz-sdk-invocation-id,amz-sdk-request"
    preflight = {**ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": asked}
    status, headers, body = raw(server, b"", target=None, auth=False, method="OPTIONS", headers=preflight)
    assert (status, body) == (200, b"")
    assert {name: headers[name] for name in CORS} == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": asked,
        "access-control-expose-headers": EXPOSED,
        "access-control-max-age": "172800",
    }
    assert headers["content-length"] == "0" and len(headers["x-amzn-requestid"]) == 52


@pytest.mark.differs_from_dynamodb_local("no CORS")
def test_cors_on_the_request_itself_and_not_without_an_origin(server: Server) -> None:
    for auth in (True, False):  # an answer and an error
        _, headers, _ = raw(server, b"{}", auth=auth, headers=ORIGIN)
        assert headers["access-control-allow-origin"] == "*"
        assert headers["access-control-expose-headers"] == EXPOSED
        assert "access-control-max-age" not in headers and "access-control-allow-methods" not in headers
    _, headers, _ = raw(server, b"", method="GET", auth=False, headers=ORIGIN)  # the health check too
    assert headers["access-control-allow-origin"] == "*"
    _, headers, _ = raw(server, b"{}")
    assert not any(name in headers for name in CORS)


@pytest.mark.parametrize(
    "path", ["/2015-03-31/functions", "/2015-03-31/functions/f/invocations", "/_headwater/ttl/sweep"]
)
def test_no_cors_for_the_lambda_and_admin_routes(server: Server, path: str) -> None:
    """Those must refuse what a browser could send cross-site: no preflight succeeds, no answer is shared."""
    preflight = {**ORIGIN, "Access-Control-Request-Method": "POST"}
    for method in ("OPTIONS", "POST", "GET"):
        _, headers, _ = raw(server, b"{}", method=method, path=path, headers=preflight)
        assert not any(name in headers for name in CORS), (method, path)


@pytest.fixture(scope="module")
def big_item(ddb: Any) -> dict[str, Any]:
    """A table holding one item whose GetItem answer is well over 4 KB, and one under."""
    name = "wire_compression"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "big"}, "text": {"S": "lorem ipsum dolor " * 2000}}
    ddb.put_item(TableName=name, Item=item)
    return {"TableName": name, "Item": item}


def get_item_raw(server: Server, big_item: dict[str, Any], accept: str | None, key: str = "big") -> Any:
    request = json.dumps({"TableName": big_item["TableName"], "Key": {"pk": {"S": key}}}).encode()
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    return raw(server, request, target="DynamoDB_20120810.GetItem", headers=headers)


@pytest.mark.parametrize(
    ("accept", "coding"), [("gzip", "gzip"), ("deflate", "deflate"), ("gzip, deflate", "gzip")]
)
@pytest.mark.differs_from_dynamodb_local("answers are never compressed")
def test_large_answers_are_compressed_and_the_crc_covers_the_wire_bytes(
    server: Server, big_item: dict[str, Any], accept: str, coding: str
) -> None:
    status, headers, body = get_item_raw(server, big_item, accept)
    assert status == 200
    assert headers["content-encoding"] == coding
    assert headers["content-length"] == str(len(body))
    assert headers["x-amz-crc32"] == str(zlib.crc32(body))
    plain = gzip.decompress(body) if coding == "gzip" else zlib.decompress(body)
    assert json.loads(plain) == {"Item": big_item["Item"]}
    assert len(body) < len(plain) // 10


@pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0"])
def test_answers_are_not_compressed_unless_asked(
    server: Server, big_item: dict[str, Any], accept: str | None
) -> None:
    _, headers, body = get_item_raw(server, big_item, accept)
    assert "content-encoding" not in headers
    assert json.loads(body) == {"Item": big_item["Item"]}


def test_small_answers_are_not_compressed(server: Server, big_item: dict[str, Any]) -> None:
    _, headers, body = get_item_raw(server, big_item, "gzip", key="missing")
    assert "content-encoding" not in headers and json.loads(body) == {}


@pytest.mark.differs_from_dynamodb_local("answers are never compressed")
def test_boto3_validates_the_crc_of_a_compressed_answer(server: Server, big_item: dict[str, Any]) -> None:
    """botocore checks x-amz-crc32 against the undecoded bytes (retrying, then ChecksumError, on a
    mismatch); it does not inflate, so a client that asks for gzip inflates before parsing."""
    client: Any = server.client("dynamodb")
    seen: dict[str, str] = {}

    def ask_for_gzip(params: dict[str, Any], **_: Any) -> None:
        params["headers"]["Accept-Encoding"] = "gzip"

    def inflate(response_dict: dict[str, Any], **_: Any) -> None:
        seen["coding"] = response_dict["headers"].get("content-encoding", "")
        if seen["coding"] == "gzip":
            response_dict["body"] = gzip.decompress(response_dict["body"])

    client.meta.events.register("before-call.dynamodb.GetItem", ask_for_gzip)
    client.meta.events.register("before-parse.dynamodb.GetItem", inflate)
    got = client.get_item(TableName=big_item["TableName"], Key={"pk": {"S": "big"}})
    assert seen["coding"] == "gzip"
    assert got["Item"] == big_item["Item"]
