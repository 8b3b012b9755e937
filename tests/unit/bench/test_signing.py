"""The benchmark signs its pre-rendered requests for real (`--auth sigv4`): the server's verifier accepts
them, and refuses them under another secret."""

from __future__ import annotations

import time

import pytest
from bench.signing import Credentials
from bench.wire import Endpoint, RequestBuilder

from headwater.auth.credentials import AccessKey, KeyRing, Principal, Secret
from headwater.auth.sigv4 import SignedRequest, SigV4Verifier
from headwater.clock import FakeClock
from headwater.errors import InvalidSignatureException

CREDS = Credentials("AKIABENCHBENCHBENCH2", "bench-secret-bench-secret-bench-secret-00")
BENCH = Principal("user", "000000000000", "bench", "arn:aws:iam::000000000000:user/bench", "", "AIDABENCH")


def parsed(raw: bytes) -> SignedRequest:
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.decode().split("\r\n")
    method, path, _ = line.split(" ")
    headers = tuple((name, value.strip()) for name, _, value in (f.partition(":") for f in fields))
    return SignedRequest(method, path, "", headers, body)


def verifier(secret: str) -> SigV4Verifier:
    ring = KeyRing.of([AccessKey(CREDS.key_id, Secret(secret), BENCH)])
    return SigV4Verifier(ring, FakeClock(time.time()))


@pytest.mark.parametrize(
    ("target", "service"),
    [
        ("DynamoDB_20120810.PutItem", "dynamodb"),
        ("DynamoDBStreams_20120810.GetRecords", "dynamodb"),
        ("Kinesis_20131202.PutRecord", "kinesis"),
    ],
)
def test_signed_requests_verify(target: str, service: str) -> None:
    builder = RequestBuilder(Endpoint("127.0.0.1", 8000, CREDS))
    request = parsed(builder.render(target, b'{"TableName": "t", "Item": {"pk": {"S": "a"}}}'))
    verified = verifier(CREDS.secret).verify(request, service=service)
    assert verified.principal == BENCH and verified.region == "us-east-1"


def test_another_secret_does_not_verify() -> None:
    builder = RequestBuilder(Endpoint("127.0.0.1", 8000, CREDS))
    request = parsed(builder.render("DynamoDB_20120810.ListTables", b"{}"))
    with pytest.raises(InvalidSignatureException):
        verifier(CREDS.secret + "x").verify(request, service="dynamodb")


def test_requests_are_signed_for_the_endpoints_region() -> None:
    builder = RequestBuilder(Endpoint("127.0.0.1", 8000, CREDS).in_region("eu-west-1"))
    request = parsed(builder.render("DynamoDB_20120810.ListTables", b"{}"))
    assert verifier(CREDS.secret).verify(request, service="dynamodb").region == "eu-west-1"


def test_unsigned_requests_name_the_endpoints_region_in_their_scope() -> None:
    builder = RequestBuilder(Endpoint("127.0.0.1", 8000).in_region("ap-southeast-2"))
    request = builder.render("DynamoDB_20120810.ListTables", b"{}")
    assert b"Credential=x/20260101/ap-southeast-2/dynamodb/aws4_request" in request
