"""The Lambda API under `--auth sigv4`: signed for `lambda`, every route a `lambda:` action, a function's
Role one of the credentials file's (and passed with iam:PassRole), and event source mappings that read
their stream as the function's role."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.auth_support import (
    ACCOUNT,
    ADMIN,
    REGION,
    AuthServer,
    Identity,
    allow,
    create_table,
    denied,
    error_of,
    table_arn,
    user_arn,
)
from tests.e2e.triggers_support import POLL, RECORDER, keys, unique, zip_of
from tests.waiting import wait_until

READER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/stream-reader"
WRITER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/table-writer"
BLIND_ROLE = f"arn:aws:iam::{ACCOUNT}:role/no-records"  # may describe the stream, not read it
STREAM_READS = allow(
    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"],
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*/stream/*",
)
DESCRIBE_ONLY = allow(
    ["dynamodb:DescribeStream", "dynamodb:ListStreams", "dynamodb:GetShardIterator"],
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*/stream/*",
)


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    identities = [
        Identity("alice", policies=[ADMIN]),
        Identity("deployer", policies=[allow("lambda:*")]),  # no iam:PassRole
        Identity("viewer", policies=[allow(["lambda:GetFunction", "lambda:ListFunctions"])]),
        Identity("stream-reader", kind="role", policies=[STREAM_READS]),
        Identity("no-records", kind="role", policies=[DESCRIBE_ONLY]),
        Identity("table-writer", kind="role", policies=[allow("dynamodb:PutItem", table_arn("writable*"))]),
    ]
    server = AuthServer(tmp_path_factory.mktemp("lambda"), identities, ("--trigger-poll-interval", POLL))
    yield server.start()
    server.stop()


def create_recorder(lam: Any, root: Path, role: str = READER_ROLE) -> tuple[str, Path]:
    name = unique("fn")
    out = root / f"{name}.jsonl"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of(RECORDER)},
        Environment={"Variables": {"OUT": str(out)}},
        Timeout=60,
    )
    return name, out


def raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def test_an_unsigned_create_function_is_refused(auth: AuthServer) -> None:
    body = json.dumps({"FunctionName": "evil", "Runtime": "python3.12", "Role": READER_ROLE}).encode()
    status, headers, doc = raw(
        auth.endpoint + "/2015-03-31/functions", body, {"Content-Type": "application/json"}
    )
    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert doc["message"].startswith("Missing Authentication Token")
    # what a web page could send cross-site (a simple content type, its own Origin): refused the same way
    status, _, _ = raw(
        auth.endpoint + "/2015-03-31/functions/evil/invocations",
        b"{}",
        {"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert status == 403
    assert "evil" not in [
        f["FunctionName"] for f in auth.client("lambda", "alice").list_functions()["Functions"]
    ]


def test_a_wrong_secret_is_refused_in_lambdas_shape(auth: AuthServer) -> None:
    from tests.e2e.auth_support import Key

    key = auth.keys["alice"]
    lam = auth.client("lambda", "alice", key=Key(key.id, key.secret + "x"))
    code, message = error_of(lam.list_functions)
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match")


def test_a_role_not_in_the_credentials_file_cannot_be_assumed(auth: AuthServer) -> None:
    lam = auth.client("lambda", "alice")
    assert error_of(
        lam.create_function,
        FunctionName=unique("fn"),
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/unknown",
        Handler="app.handler",
        Code={"ZipFile": zip_of(RECORDER)},
    ) == ("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")


def test_passing_a_role_needs_iam_pass_role(auth: AuthServer) -> None:
    lam = auth.client("lambda", "deployer")
    code, message = error_of(
        lam.create_function,
        FunctionName=unique("fn"),
        Runtime="python3.12",
        Role=READER_ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(RECORDER)},
    )
    assert (code, message) == (
        "AccessDeniedException",
        denied(user_arn("deployer"), "iam:PassRole", READER_ROLE),
    )


def test_lambda_actions_are_authorized(auth: AuthServer, tmp_path: Path) -> None:
    name, _ = create_recorder(auth.client("lambda", "alice"), tmp_path)
    viewer = auth.client("lambda", "viewer")
    assert viewer.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert error_of(viewer.invoke, FunctionName=name, Payload=b"{}") == (
        "AccessDeniedException",
        denied(user_arn("viewer"), "lambda:InvokeFunction", function),
    )
    assert error_of(viewer.delete_function, FunctionName=name) == (
        "AccessDeniedException",
        denied(user_arn("viewer"), "lambda:DeleteFunction", function),
    )
    invoked = auth.client("lambda", "alice").invoke(FunctionName=name, Payload=b'{"hello": 1}')
    assert invoked["StatusCode"] == 200


def test_a_mapping_reads_its_stream_as_the_functions_role(auth: AuthServer, tmp_path: Path) -> None:
    ddb = auth.client("dynamodb", "alice")
    table = unique("tbl")
    stream = create_table(ddb, table, stream=True)["LatestStreamArn"]
    lam = auth.client("lambda", "alice")
    name, out = create_recorder(lam, tmp_path)
    mapping = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=1
    )["UUID"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    wait_until(lambda: keys(out) == ["first"], what="the record delivered as the reader role")

    # the function now acts as a role that may not read records: the mapping says so
    lam.update_function_configuration(FunctionName=name, Role=BLIND_ROLE)
    ddb.put_item(TableName=table, Item={"pk": {"S": "second"}})
    result = wait_until(
        lambda: (
            (r := lam.get_event_source_mapping(UUID=mapping)["LastProcessingResult"]).startswith("PROBLEM")
            and r
        ),
        what="the mapping's problem",
    )
    assert result == (
        f"PROBLEM: Cannot access stream {stream}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
    )
    assert keys(out) == ["first"]
    lam.update_function_configuration(FunctionName=name, Role=READER_ROLE)
    wait_until(lambda: keys(out) == ["first", "second"], what="delivery again once the role may read")


WRITER = """
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb")
    try:
        ddb.put_item(TableName=event["table"], Item={"pk": {"S": "from-the-handler"}})
    except Exception as err:
        return {"error": str(err)}
    return {"caller": boto3.client("dynamodb").meta.region_name, "ok": True}
"""


def test_a_handler_calls_the_api_as_its_functions_role(auth: AuthServer) -> None:
    ddb = auth.client("dynamodb", "alice")
    writable, readonly = unique("writable"), unique("readonly")
    create_table(ddb, writable)
    create_table(ddb, readonly)
    lam = auth.client("lambda", "alice")
    name = unique("fn")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=WRITER_ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of(WRITER)},
        Timeout=60,
    )
    done = json.loads(
        lam.invoke(FunctionName=name, Payload=json.dumps({"table": writable}))["Payload"].read()
    )
    assert done.get("ok"), done
    assert ddb.get_item(TableName=writable, Key={"pk": {"S": "from-the-handler"}})["Item"]
    refused = json.loads(
        lam.invoke(FunctionName=name, Payload=json.dumps({"table": readonly}))["Payload"].read()
    )
    role_session = f"arn:aws:sts::{ACCOUNT}:assumed-role/table-writer/lambda"
    assert refused == {
        "error": "An error occurred (AccessDeniedException) when calling the PutItem operation: "
        + denied(role_session, "dynamodb:PutItem", table_arn(readonly))
    }


def test_a_mapping_whose_role_cannot_read_records_is_refused(auth: AuthServer, tmp_path: Path) -> None:
    ddb = auth.client("dynamodb", "alice")
    table = unique("tbl")
    stream = create_table(ddb, table, stream=True)["LatestStreamArn"]
    lam = auth.client("lambda", "alice")
    name, _ = create_recorder(lam, tmp_path, role=BLIND_ROLE)
    assert error_of(
        lam.create_event_source_mapping, FunctionName=name, EventSourceArn=stream, StartingPosition="LATEST"
    ) == (
        "InvalidParameterValueException",
        f"Cannot access stream {stream}. Please ensure the role can perform the GetRecords, "
        "GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.",
    )
