from __future__ import annotations

import gzip
import re
import zlib

import orjson
import pytest

from headwater.errors import (
    RequestEntityTooLarge,
    ResourceNotFoundException,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from headwater.protocol.targets import parse_target
from headwater.protocol.wire import (
    MAX_BODY_BYTES,
    RequestIds,
    crc32_header,
    encode_response,
    error_body,
    new_request_id,
    parse_body,
)


def test_request_id_shape() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9A-V]{52}", i) for i in ids)


def test_crc32_matches_dynamodb() -> None:
    # Observed from DynamoDB Local: body {"Streams":[]} carries x-amz-crc32: 1490112021.
    assert crc32_header(b'{"Streams":[]}') == "1490112021"
    assert crc32_header(b"") == "0"


def test_encode_response() -> None:
    assert encode_response({"TableNames": []}) == b'{"TableNames":[]}'
    assert encode_response(b"{}") == b"{}"


def test_error_bodies() -> None:
    assert orjson.loads(error_body(ValidationException("bad"))) == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "bad",
    }
    assert orjson.loads(error_body(SerializationException("NUMBER_VALUE cannot be converted to String"))) == {
        "__type": "com.amazon.coral.service#SerializationException",
        "Message": "NUMBER_VALUE cannot be converted to String",
    }
    assert orjson.loads(error_body(UnknownOperationException())) == {
        "__type": "com.amazon.coral.service#UnknownOperationException"
    }
    assert orjson.loads(error_body(ResourceNotFoundException())) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": "Requested resource not found",
    }


def test_parse_body_plain_and_empty() -> None:
    assert parse_body(b'{"TableName": "abc"}') == {"TableName": "abc"}
    assert parse_body(b"") == {}
    assert parse_body(b"  \n") == {}


@pytest.mark.parametrize("raw", [b"notjson", b"{", b'{"a":}', b"[]", b"5", b"null", b'"x"', b"\xff\xfe"])
def test_parse_body_rejects_non_objects(raw: bytes) -> None:
    with pytest.raises(SerializationException) as info:
        parse_body(raw)
    assert info.value.message is None
    assert orjson.loads(error_body(info.value)) == {
        "__type": "com.amazon.coral.service#SerializationException"
    }


def test_parse_body_compressed() -> None:
    body = b'{"TableName": "abc"}'
    assert parse_body(gzip.compress(body), "gzip") == {"TableName": "abc"}
    assert parse_body(zlib.compress(body), "deflate") == {"TableName": "abc"}
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert parse_body(raw_deflate.compress(body) + raw_deflate.flush(), "deflate") == {"TableName": "abc"}
    with pytest.raises(SerializationException):
        parse_body(b"not gzip", "gzip")


def test_parse_body_size_limit() -> None:
    with pytest.raises(RequestEntityTooLarge) as info:
        parse_body(b" " * (MAX_BODY_BYTES + 1))
    assert info.value.status == 413
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES + 10))
    with pytest.raises(RequestEntityTooLarge):
        parse_body(bomb, "gzip")
    assert parse_body(b"{}" + b" " * (MAX_BODY_BYTES - 2)) == {}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("DynamoDB_20120810.PutItem", ("dynamodb", "PutItem")),
        ("DynamoDB_20120810.ListTables", ("dynamodb", "ListTables")),
        ("DynamoDBStreams_20120810.GetRecords", ("dynamodbstreams", "GetRecords")),
        ("DynamoDBStreams_20120810.ListStreams", ("dynamodbstreams", "ListStreams")),
    ],
)
def test_parse_target(target: str, expected: tuple[str, str]) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "DynamoDB_20120810",
        "DynamoDB_20120810.",
        "DynamoDB_20120810.Nope",
        "DynamoDB_20120810.putItem",
        "DynamoDBStreams_20120810.PutItem",
        "DynamoDB_20120810.GetRecords",
        "dynamodb_20120810.ListTables",
        "Foo_20120810.ListTables",
    ],
)
def test_parse_target_unknown(target: str | None) -> None:
    with pytest.raises(UnknownOperationException) as info:
        parse_target(target)
    assert info.value.wire_type == "com.amazon.coral.service#UnknownOperationException"


def test_request_ids_from_a_counter_are_unique_and_well_formed() -> None:
    ids = RequestIds()
    seen = [ids.next() for _ in range(2000)]
    assert len(set(seen)) == 2000
    assert all(len(i) == 52 and all(c in "0123456789ABCDEFGHIJKLMNOPQRSTUV" for c in i) for i in seen)
    assert RequestIds().next()[:39] != ids.next()[:39]  # another process (instance) gets another prefix
