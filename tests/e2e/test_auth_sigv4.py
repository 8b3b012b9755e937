"""`--auth sigv4`: every request's signature is verified against the credentials file, through boto3 and
the AWS CLI, with DynamoDB's errors and texts."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.e2e.auth_support import ADMIN, AuthServer, Identity, Key, error_of, new_key

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid"


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    expired = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("session", kind="temporary", acts_as="user/alice"),
        Identity("stale", kind="temporary", acts_as="user/alice", expires=expired),
    ]
    server = AuthServer(tmp_path_factory.mktemp("sigv4"), identities).start()
    yield server
    server.stop()


def test_the_right_secret_is_accepted(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    assert "TableNames" in ddb.list_tables()


def test_a_wrong_secret_is_refused(auth: AuthServer) -> None:
    key = auth.keys["alice"]
    ddb = auth.client("dynamodb", "alice", key=Key(key.id, key.secret + "x"))
    assert error_of(ddb.list_tables) == ("InvalidSignatureException", SIGNATURE_MISMATCH)


def test_an_unknown_key_is_refused(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "nobody", key=new_key())
    code, message = error_of(ddb.list_tables)
    assert (code, message) == ("UnrecognizedClientException", INVALID_TOKEN + ".")


def test_an_unsigned_request_is_refused(auth: AuthServer) -> None:
    request = urllib.request.Request(
        auth.endpoint,
        data=b"{}",
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    body = json.loads(caught.value.read())
    assert body == {
        "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token",
    }


def _at(moment: dt.datetime) -> Any:
    """botocore's clock for signing, moved (the server keeps its own)."""
    return mock.patch("botocore.auth.get_current_datetime", lambda remove_tzinfo=True: moment)


def test_an_expired_date_is_refused(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    then = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    with _at(then):
        code, message = error_of(ddb.list_tables)
    assert code == "InvalidSignatureException"
    stamp = then.strftime("%Y%m%dT%H%M%SZ")
    assert message.startswith(f"Signature expired: {stamp} is now earlier than ")
    assert message.endswith(" - 15 min.)")


def test_a_future_date_is_refused(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    then = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=20)
    with _at(then):
        code, message = error_of(ddb.list_tables)
    assert code == "InvalidSignatureException"
    stamp = then.strftime("%Y%m%dT%H%M%SZ")
    assert message.startswith(f"Signature not yet current: {stamp} is still later than ")
    assert message.endswith(" + 15 min.)")


def test_a_date_within_fifteen_minutes_is_accepted(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    with _at(dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)):
        assert "TableNames" in ddb.list_tables()


def test_a_region_that_is_not_one_is_refused(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice", region="nowhere")
    assert error_of(ddb.list_tables) == (
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'nowhere'.",
    )


def test_a_scope_for_another_service_is_refused(auth: AuthServer) -> None:
    """A request signed for Lambda sent to the DynamoDB endpoint (the scope names the wrong service)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key = auth.keys["alice"]
    request = AWSRequest(
        method="POST",
        url=auth.endpoint + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    SigV4Auth(Credentials(key.id, key.secret), "lambda", "us-east-1").add_auth(request)
    sent = urllib.request.Request(
        auth.endpoint + "/", data=b"{}", method="POST", headers=dict(request.headers)
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(sent, timeout=10)
    body = json.loads(caught.value.read())
    assert body["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert body["message"] == "Credential should be scoped to correct service: 'dynamodb'."


def test_temporary_credentials_with_their_token(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "session")
    assert "TableNames" in ddb.list_tables()


def test_temporary_credentials_with_a_wrong_token(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "session", token="not-the-token-of-these-credentials")
    assert error_of(ddb.list_tables) == ("UnrecognizedClientException", INVALID_TOKEN)


def test_temporary_credentials_without_their_token(auth: AuthServer) -> None:
    key = auth.keys["session"]
    ddb = auth.client("dynamodb", "session", key=Key(key.id, key.secret))
    assert error_of(ddb.list_tables) == ("UnrecognizedClientException", INVALID_TOKEN)


def test_expired_temporary_credentials(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "stale")
    assert error_of(ddb.list_tables) == (
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )


def test_the_aws_cli_with_the_right_and_a_wrong_secret(auth: AuthServer, tmp_path: Path) -> None:
    table = "cli-signed"
    made = auth.cli(
        "alice",
        "dynamodb",
        "create-table",
        "--table-name",
        table,
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    assert made.returncode == 0, made.stderr
    put = auth.cli("alice", "dynamodb", "put-item", "--table-name", table, "--item", '{"pk": {"S": "a"}}')
    assert put.returncode == 0, put.stderr
    got = auth.cli("alice", "dynamodb", "get-item", "--table-name", table, "--key", '{"pk": {"S": "a"}}')
    assert json.loads(got.stdout)["Item"] == {"pk": {"S": "a"}}
    key = auth.keys["alice"]
    wrong = auth.cli("alice", "dynamodb", "list-tables", key=Key(key.id, "x" * 40))
    assert wrong.returncode != 0
    assert (
        f"(InvalidSignatureException) when calling the ListTables operation: {SIGNATURE_MISMATCH}"
        in wrong.stderr
    )
    session = auth.cli("session", "dynamodb", "list-tables")
    assert table in json.loads(session.stdout)["TableNames"], session.stderr
