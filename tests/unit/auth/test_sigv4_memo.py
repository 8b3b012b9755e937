"""The remembering verifier (auth/sigv4_memo.py) accepts exactly what the full SigV4 verification accepts:
the first request of a client is verified in full, its later ones from what that established, and any
change to what the signature covers is refused with the full verification's error."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.auth.sigv4 import SignedRequest, SigV4Verifier
from headwater.auth.sigv4_memo import RememberingVerifier
from headwater.clock import FakeClock
from headwater.errors import DynamoDBError, InvalidSignatureException

from .signing import KEY_ID, SECRET, TOKEN, key_ring, signed


def http_form(request: SignedRequest) -> tuple[str, str, bytes, dict[bytes, bytes], bytes]:
    """What the HTTP server hands the app: lower-case names, repeated headers joined with commas."""
    headers: dict[bytes, bytes] = {}
    for name, value in request.headers:
        key = name.lower().encode()
        headers[key] = headers[key] + b"," + value.encode() if key in headers else value.encode()
    return request.method, request.raw_path, request.raw_query.encode(), headers, request.body or b""


def verify(remembering: RememberingVerifier, request: SignedRequest, service: str = "dynamodb") -> Any:
    method, path, query, headers, body = http_form(request)
    return remembering.verify(method, path, query, headers, body, service=service, full=lambda: request)


def verifiers() -> tuple[SigV4Verifier, RememberingVerifier]:
    clock = FakeClock(time.time())
    full = SigV4Verifier(key_ring(), clock)
    return full, RememberingVerifier(full, clock)


def outcome(call: Any) -> tuple[str, str] | str:
    try:
        return str(call().principal.arn)
    except DynamoDBError as err:
        return err.type_name, err.message or ""


@settings(max_examples=15, deadline=None)
@given(
    values=st.lists(st.text(alphabet="abc xyz019-_:", max_size=12), min_size=2, max_size=4),
    region=st.sampled_from(["us-east-1", "eu-west-3", "ap-southeast-2"]),
)
def test_later_requests_are_accepted_from_what_the_first_established(values: list[str], region: str) -> None:
    full, remembering = verifiers()
    for value in values:
        request = signed(
            "dynamodb", "get_item", {"TableName": "T", "Key": {"pk": {"S": value}}}, region=region
        )
        assert outcome(lambda r=request: verify(remembering, r)) == outcome(
            lambda r=request: full.verify(r, service="dynamodb")
        )
    assert len(remembering._known) == 1  # one client, one remembered header


def test_a_changed_body_or_signature_is_refused_with_the_full_error() -> None:
    _, remembering = verifiers()
    first = signed("dynamodb", "put_item", {"TableName": "T", "Item": {"pk": {"S": "a"}}})
    verify(remembering, first)
    second = signed("dynamodb", "put_item", {"TableName": "T", "Item": {"pk": {"S": "b"}}})
    tampered = SignedRequest(second.method, second.raw_path, second.raw_query, second.headers, b'{"x": 1}')
    with pytest.raises(InvalidSignatureException):
        verify(remembering, tampered)
    headers = tuple(
        (n, v.replace("Signature=", "Signature=0") if n == "Authorization" else v) for n, v in second.headers
    )
    forged = SignedRequest(second.method, second.raw_path, second.raw_query, headers, second.body)
    with pytest.raises(InvalidSignatureException):
        verify(remembering, forged)
    assert verify(remembering, second).principal.name == "alice"


def test_a_remembered_header_is_not_taken_for_another_service() -> None:
    _, remembering = verifiers()
    request = signed("dynamodb", "list_tables", {})
    verify(remembering, request)
    with pytest.raises(InvalidSignatureException, match="scoped to correct service: 'lambda'"):
        verify(remembering, request, service="lambda")


def test_expired_dates_are_refused_even_for_a_remembered_header() -> None:
    clock = FakeClock(time.time())
    full = SigV4Verifier(key_ring(), clock)
    remembering = RememberingVerifier(full, clock)
    request = signed("dynamodb", "list_tables", {})
    verify(remembering, request)
    clock.advance(16 * 60)
    with pytest.raises(InvalidSignatureException, match="Signature expired"):
        verify(remembering, request)


def test_temporary_credentials_are_always_verified_in_full() -> None:
    _, remembering = verifiers()
    request = signed("dynamodb", "list_tables", {}, key_id="ASIAWORKERWORKER2345", secret="x", token=TOKEN)
    with pytest.raises(InvalidSignatureException):
        verify(remembering, request)
    assert remembering._known == {}
    assert KEY_ID and SECRET  # the long-term key of the ring signs the other tests
