"""SigV4 verification against requests signed by botocore exactly as boto3 signs them."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.auth import sigv4
from headwater.auth.sigv4 import SignedRequest, SigV4Verifier
from headwater.clock import FakeClock
from headwater.errors import (
    DynamoDBError,
    ExpiredTokenException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

from .signing import (
    ALICE,
    KEY_ID,
    SECRET,
    TEMP_KEY_ID,
    TEMP_SECRET,
    TOKEN,
    WORKER,
    from_prepared,
    header,
    key_ring,
    signed,
    with_header,
)

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
PUT = {"TableName": "Music", "Item": {"pk": {"S": "a/b c+é"}, "n": {"N": "1"}}}


def verifier(clock: FakeClock | None = None, token_expires_at: float | None = None) -> SigV4Verifier:
    return SigV4Verifier(key_ring(token_expires_at), clock or FakeClock(time.time()))


def refused(error: type[DynamoDBError], request: SignedRequest, service: str = "dynamodb", **kw: Any) -> str:
    with pytest.raises(error) as caught:
        verifier(**kw).verify(request, service=service)
    assert type(caught.value) is error
    return str(caught.value.message)


# --- what verifies


def test_a_dynamodb_request_verifies_as_its_signer() -> None:
    verified = verifier().verify(signed("dynamodb", "put_item", PUT, region="eu-west-3"), service="dynamodb")
    assert verified.principal == ALICE
    assert (verified.access_key_id, verified.region, verified.service) == (KEY_ID, "eu-west-3", "dynamodb")
    assert not verified.temporary


def test_streams_requests_sign_for_the_dynamodb_service() -> None:
    request = signed("dynamodbstreams", "list_streams", {"TableName": "Music"})
    assert verifier().verify(request, service="dynamodb").service == "dynamodb"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("invoke", {"FunctionName": "my-function", "Payload": b'{"a": 1}'}),
        (
            "invoke",
            {
                "FunctionName": "arn:aws:lambda:us-east-1:111122223333:function:my-fn",
                "Qualifier": "v 1/~x",
                "Payload": b"{}",
            },
        ),
        ("get_function", {"FunctionName": "my-fn:PROD"}),
        ("list_functions", {"Marker": "a b/c+d=e&f~g%h", "MaxItems": 5}),
        ("list_event_source_mappings", {"FunctionName": "fn", "EventSourceArn": "arn:aws:dynamodb:x"}),
        ("delete_function", {"FunctionName": "name.with-dots_and~tilde"}),
    ],
)
def test_lambda_requests_with_encoded_paths_and_queries_verify(
    operation: str, params: dict[str, Any]
) -> None:
    request = signed("lambda", operation, params)
    assert verifier().verify(request, service="lambda").principal == ALICE


def test_temporary_credentials_verify_with_their_session_token() -> None:
    request = signed("dynamodb", "list_tables", {}, key_id=TEMP_KEY_ID, secret=TEMP_SECRET, token=TOKEN)
    verified = verifier(token_expires_at=time.time() + 3600).verify(request, service="dynamodb")
    assert verified.principal == WORKER and verified.temporary


def test_a_date_header_can_stand_in_for_x_amz_date() -> None:
    request = AWSRequest("POST", "http://127.0.0.1:8000/", data=b"{}", headers={"Date": "x"})
    SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1").add_auth(request)
    assert "X-Amz-Date" not in request.headers
    prepared = from_prepared(request.prepare())
    assert verifier().verify(prepared, service="dynamodb").principal == ALICE


def test_a_presigned_url_verifies() -> None:
    request = AWSRequest("GET", "http://127.0.0.1:8000/2015-03-31/functions?MaxItems=3&Marker=a%20b")
    SigV4QueryAuth(Credentials(KEY_ID, SECRET), "lambda", "us-east-1", expires=300).add_auth(request)
    prepared = from_prepared(request.prepare())
    assert verifier().verify(prepared, service="lambda").principal == ALICE


def test_a_presigned_url_expires_after_its_expires_seconds() -> None:
    request = AWSRequest("GET", "http://127.0.0.1:8000/2015-03-31/functions")
    SigV4QueryAuth(Credentials(KEY_ID, SECRET), "lambda", "us-east-1", expires=60).add_auth(request)
    prepared = from_prepared(request.prepare())
    message = refused(InvalidSignatureException, prepared, "lambda", clock=FakeClock(time.time() + 120))
    assert message.startswith("Signature expired: ") and message.endswith(" - 60 sec.)")


def test_derived_signing_keys_are_cached() -> None:
    checker = verifier()
    for _ in range(3):
        checker.verify(signed("dynamodb", "list_tables", {}), service="dynamodb")
    info = checker._signing_key.cache_info()
    assert info.misses == 1 and info.hits == 2


# --- what does not


def test_a_wrong_secret_is_an_invalid_signature() -> None:
    request = signed("dynamodb", "put_item", PUT, secret="not-the-secret")
    assert refused(InvalidSignatureException, request) == MISMATCH


def test_an_unknown_access_key_is_an_unrecognized_client() -> None:
    request = signed("dynamodb", "list_tables", {}, key_id="AKIANOBODYNOBODY2345")
    assert (
        refused(UnrecognizedClientException, request)
        == "The security token included in the request is invalid."
    )


def test_no_authorization_is_a_missing_token() -> None:
    request = with_header(signed("dynamodb", "list_tables", {}), "Authorization", None)
    assert refused(MissingAuthenticationTokenException, request) == "Request is missing Authentication Token"


def test_a_non_sigv4_authorization_is_a_missing_token() -> None:
    request = with_header(signed("dynamodb", "list_tables", {}), "Authorization", "x")
    refused(MissingAuthenticationTokenException, request)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: SignedRequest(r.method, r.raw_path, r.raw_query, r.headers, r.body + b" "),
        lambda r: SignedRequest(
            r.method, r.raw_path, r.raw_query, r.headers, r.body.replace(b"Music", b"Movie")
        ),
        lambda r: SignedRequest("PUT", r.raw_path, r.raw_query, r.headers, r.body),
        lambda r: SignedRequest(r.method, "/x", r.raw_query, r.headers, r.body),
        lambda r: SignedRequest(r.method, r.raw_path, "a=b", r.headers, r.body),
        lambda r: with_header(r, "X-Amz-Target", "DynamoDB_20120810.DeleteTable"),
        lambda r: with_header(r, "Host", "evil.example:8000"),
        lambda r: with_header(r, "Content-Type", "text/plain"),
        lambda r: with_header(r, "X-Amz-Date", _other_second(header(r, "X-Amz-Date"))),
        lambda r: with_header(r, "Authorization", _other_last_digit(header(r, "Authorization"))),
        lambda r: with_header(r, "Authorization", header(r, "Authorization").replace(";x-amz-target", "")),
    ],
)
def test_every_tampering_is_an_invalid_signature(tamper: Any) -> None:
    original = signed("dynamodb", "put_item", PUT)
    assert refused(InvalidSignatureException, tamper(original)) == MISMATCH


def _other_second(stamp: str) -> str:
    return stamp[:-3] + ("01Z" if stamp.endswith("00Z") else "00Z")


def _other_last_digit(text: str) -> str:
    return text[:-1] + ("1" if text.endswith("0") else "0")


def test_tampering_with_a_lambda_path_is_an_invalid_signature() -> None:
    request = signed("lambda", "invoke", {"FunctionName": "fn-a", "Payload": b"{}"})
    tampered = SignedRequest(
        request.method, request.raw_path.replace("fn-a", "fn-b"), "", request.headers, request.body
    )
    refused(InvalidSignatureException, tampered, "lambda")


def test_a_body_that_does_not_match_its_signed_content_hash_is_refused() -> None:
    request = AWSRequest("POST", "http://127.0.0.1:8000/", data=b"{}")
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(b"{}").hexdigest()
    SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1").add_auth(request)
    prepared = from_prepared(request.prepare())
    assert verifier().verify(prepared, service="dynamodb").principal == ALICE
    swapped = SignedRequest(prepared.method, "/", "", prepared.headers, b'{"other": 1}')
    refused(InvalidSignatureException, swapped)


def test_unsigned_payload_only_where_the_api_allows_it() -> None:
    request = AWSRequest("POST", "http://127.0.0.1:8000/2015-03-31/functions/f/invocations", data=b"{}")
    request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    SigV4Auth(Credentials(KEY_ID, SECRET), "lambda", "us-east-1").add_auth(request)
    prepared = from_prepared(request.prepare())
    refused(InvalidSignatureException, prepared, "lambda")
    checker = verifier()
    assert checker.verify(prepared, service="lambda", allow_unsigned_payload=True).principal == ALICE


def test_signed_chunked_streaming_payloads_are_refused() -> None:
    request = AWSRequest("POST", "http://127.0.0.1:8000/", data=b"{}")
    request.headers["X-Amz-Content-SHA256"] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    SigV4Auth(Credentials(KEY_ID, SECRET), "dynamodb", "us-east-1").add_auth(request)
    with pytest.raises(InvalidSignatureException):
        verifier().verify(from_prepared(request.prepare()), service="dynamodb", allow_unsigned_payload=True)


def test_a_request_older_than_15_minutes_has_expired() -> None:
    request = signed("dynamodb", "list_tables", {})
    stamp = header(request, "X-Amz-Date")
    clock = FakeClock(sigv4.parse_timestamp(stamp) + 15 * 60 + 1)
    now = sigv4._basic(clock.now())
    earliest = sigv4._basic(clock.now() - 900)
    assert refused(InvalidSignatureException, request, clock=clock) == (
        f"Signature expired: {stamp} is now earlier than {earliest} ({now} - 15 min.)"
    )


def test_a_request_more_than_15_minutes_ahead_is_not_yet_current() -> None:
    request = signed("dynamodb", "list_tables", {})
    stamp = header(request, "X-Amz-Date")
    clock = FakeClock(sigv4.parse_timestamp(stamp) - 15 * 60 - 1)
    now, latest = sigv4._basic(clock.now()), sigv4._basic(clock.now() + 900)
    assert refused(InvalidSignatureException, request, clock=clock) == (
        f"Signature not yet current: {stamp} is still later than {latest} ({now} + 15 min.)"
    )


@pytest.mark.parametrize("skew", [-15 * 60 + 1, 15 * 60 - 1])
def test_a_request_within_15_minutes_either_way_verifies(skew: int) -> None:
    request = signed("dynamodb", "list_tables", {})
    clock = FakeClock(sigv4.parse_timestamp(header(request, "X-Amz-Date")) + skew)
    assert verifier(clock).verify(request, service="dynamodb").principal == ALICE


def test_a_wrong_region_in_the_scope() -> None:
    request = signed("dynamodb", "list_tables", {}, region="moon")
    assert refused(InvalidSignatureException, request) == (
        "Credential should be scoped to a valid region, not 'moon'."
    )


def test_a_wrong_service_in_the_scope() -> None:
    request = signed("dynamodb", "list_tables", {})
    assert refused(InvalidSignatureException, request, "lambda") == (
        "Credential should be scoped to correct service: 'lambda'."
    )


def test_every_scope_problem_is_named_at_once() -> None:
    request = signed("dynamodb", "list_tables", {})
    auth = header(request, "Authorization")
    stamp = header(request, "X-Amz-Date")
    scope = f"{KEY_ID}/{stamp[:8]}/us-east-1/dynamodb/aws4_request"
    bad = with_header(request, "Authorization", auth.replace(scope, f"{KEY_ID}/20000101/c/d/e"))
    assert refused(InvalidSignatureException, bad) == (
        "Credential should be scoped to a valid region, not 'c'. "
        "Credential should be scoped to correct service: 'dynamodb'. "
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. "
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        f"'20000101' != '{stamp[:8]}', from '{stamp}'."
    )


def test_temporary_credentials_without_their_token_are_unrecognized() -> None:
    request = signed("dynamodb", "list_tables", {}, key_id=TEMP_KEY_ID, secret=TEMP_SECRET, token=TOKEN)
    without = with_header(request, "X-Amz-Security-Token", None)
    assert refused(UnrecognizedClientException, without) == (
        "The security token included in the request is invalid"
    )
    wrong = with_header(request, "X-Amz-Security-Token", TOKEN + "x")
    refused(UnrecognizedClientException, wrong)


def test_a_long_term_key_with_a_session_token_is_unrecognized() -> None:
    request = signed("dynamodb", "list_tables", {}, token="some-token")
    refused(UnrecognizedClientException, request)


def test_expired_temporary_credentials() -> None:
    request = signed("dynamodb", "list_tables", {}, key_id=TEMP_KEY_ID, secret=TEMP_SECRET, token=TOKEN)
    message = refused(ExpiredTokenException, request, token_expires_at=time.time() - 1)
    assert message == "The security token included in the request is expired"


def test_host_must_be_signed() -> None:
    request = signed("dynamodb", "list_tables", {})
    auth = header(request, "Authorization").replace("host;", "")
    assert refused(InvalidSignatureException, with_header(request, "Authorization", auth)) == (
        "'Host' must be a 'SignedHeader' in the AWS Authorization."
    )


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/e",
            "Authorization header requires 'Signature' parameter. "
            "Authorization header requires 'SignedHeaders' parameter. "
            "Authorization=AWS4-HMAC-SHA256 Credential=a/b/c/d/e",
        ),
        (
            "AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders",
            "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: "
            "'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'.",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=abc",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            "got 'a/b/c/d'",
        ),
        (
            "AWS4-HMAC-SHA25 Credential=a/b/c/d/e, SignedHeaders=host, Signature=abc",
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). ",
        ),
    ],
)
def test_malformed_authorization_headers(authorization: str, message: str) -> None:
    request = with_header(signed("dynamodb", "list_tables", {}), "Authorization", authorization)
    assert refused(IncompleteSignatureException, request) == message


def test_a_missing_date_is_incomplete() -> None:
    request = with_header(signed("dynamodb", "list_tables", {}), "X-Amz-Date", None)
    message = refused(IncompleteSignatureException, request)
    assert message.startswith(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )


def test_a_malformed_date_is_incomplete() -> None:
    request = with_header(signed("dynamodb", "list_tables", {}), "X-Amz-Date", "201")
    assert refused(IncompleteSignatureException, request) == (
        "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_both_a_header_and_a_presigned_query_is_refused() -> None:
    request = signed("dynamodb", "list_tables", {})
    both = SignedRequest(
        request.method, "/", "X-Amz-Algorithm=AWS4-HMAC-SHA256", request.headers, request.body
    )
    assert refused(InvalidSignatureException, both) == (
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    )


def test_an_incomplete_presigned_query_names_what_is_missing() -> None:
    request = SignedRequest(
        "GET", "/", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z", (), b""
    )
    assert refused(IncompleteSignatureException, request) == (
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "Re-examine the query-string parameters."
    )


def test_secrets_never_show_in_reprs() -> None:
    ring = key_ring()
    text = (
        repr(ring)
        + str(ring.keys[TEMP_KEY_ID])
        + repr(verifier().verify(signed("dynamodb", "list_tables", {}), service="dynamodb"))
    )
    assert SECRET not in text and TEMP_SECRET not in text and TOKEN not in text


# --- the canonical request is botocore's

_segment = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#\x00"), max_size=12)
_query_part = st.text(alphabet="abcXYZ019-_.~%20+=:/", max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(_segment, max_size=4),
    query=st.lists(st.tuples(_query_part, _query_part), max_size=4),
    header_values=st.lists(st.text(alphabet="ab c\t,;:=", max_size=10), min_size=1, max_size=3),
    body=st.binary(max_size=64),
)
def test_the_fast_canonical_request_is_botocores(
    segments: list[str], query: list[tuple[str, str]], header_values: list[str], body: bytes
) -> None:
    from urllib.parse import quote

    path = "/" + "/".join(quote(s, safe="") for s in segments)
    raw_query = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    request = AWSRequest("POST", f"http://h{path}" + (f"?{raw_query}" if raw_query else ""), data=body)
    for value in header_values:
        request.headers["X-Custom"] = value
    request.headers["Host"] = "h"
    request.context["timestamp"] = "20240101T000000Z"
    signer = SigV4Auth(Credentials("k", "s"), "lambda", "us-east-1")
    expected = signer.canonical_request(request)
    incoming = SignedRequest("POST", path, raw_query, tuple(request.headers.items()), body)
    headers = sigv4._header_map(incoming.headers)
    canonical = sigv4.canonical_request(signer, incoming, ("host", "x-custom"), headers)
    assert canonical == expected
    scope = "20240101/us-east-1/lambda/aws4_request"
    assert (
        sigv4.string_to_sign("20240101T000000Z", scope, canonical)
        == signer.string_to_sign(request, expected).encode()
    )
